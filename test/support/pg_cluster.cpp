#include "test/support/pg_cluster.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pgbr::test {
namespace {

struct Ids {
  uid_t uid;
  gid_t gid;
};

Ids postgresIds() {
  passwd* pw = ::getpwnam("postgres");
  if (!pw) throw std::runtime_error("there is no 'postgres' user: install the postgresql-15 package");
  return {pw->pw_uid, pw->pw_gid};
}

void chownToPostgres(const std::filesystem::path& path) {
  Ids ids = postgresIds();
  if (::chown(path.c_str(), ids.uid, ids.gid) != 0)
    throw std::runtime_error("cannot chown " + path.string() + " to postgres: " + std::strerror(errno));
}

std::string quoteSetting(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

std::string lastLines(const std::string& text, size_t count) {
  size_t pos = text.size();
  for (size_t i = 0; i <= count && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos + 1);
}

std::string describe(const std::vector<std::string>& argv, const RunResult& result) {
  std::string command;
  for (const auto& arg : argv) command += (command.empty() ? "" : " ") + arg;
  return command + " exited with " + (result.timedOut ? std::string("a time-out") : std::to_string(result.exitCode)) +
         ": " + result.err + result.out;
}

// postmaster.pid's first line is the postmaster's pid.
std::optional<pid_t> postmasterPid(const std::filesystem::path& dataDirectory) {
  std::ifstream in(dataDirectory / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

bool waitUntil(const std::function<bool()>& condition, std::chrono::seconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

bool waitForFile(const std::filesystem::path& path, std::chrono::seconds deadline) {
  return waitUntil([&] { return std::filesystem::exists(path); }, deadline);
}

void PgCluster::makePostgresDirectory(const std::filesystem::path& path, std::filesystem::perms mode) {
  std::filesystem::create_directories(path);
  std::filesystem::permissions(path, mode);
  chownToPostgres(path);
}

PgCluster::PgCluster(Uninitialised, PgClusterOptions options)
    : options_(std::move(options)), root_("pgbr-pg"), port_(freePort()) {
  makePostgresDirectory(dataDirectory(), std::filesystem::perms(0700));
  makePostgresDirectory(socketDirectory(), std::filesystem::perms(0755));
  makePostgresDirectory(logFile().parent_path(), std::filesystem::perms(0755));
  if (options_.archiveToDirectory) {
    makePostgresDirectory(archiveDirectory(), std::filesystem::perms(0755));
    // Never overwrite: PostgreSQL's documented archive_command contract.
    options_.archiveCommand =
        "test ! -f " + archiveDirectory().string() + "/%f && cp %p " + archiveDirectory().string() + "/%f";
  }
}

PgCluster::PgCluster(PgClusterOptions options) : PgCluster(Uninitialised{}, std::move(options)) {
  std::vector<std::string> argv = {
      "initdb", "-D",   dataDirectory().string(), "-U", "postgres", "-A", "trust", "-N", "--locale=C",
      "-E",     "UTF8", "--no-instructions"};
  if (options_.checksums) argv.push_back("-k");
  argv.insert(argv.end(), options_.initdbArgs.begin(), options_.initdbArgs.end());
  RunResult result = runAsPostgres(argv);
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result));
  writeConfiguration();
}

std::unique_ptr<PgCluster> PgCluster::standbyOf(PgCluster& primary, PgClusterOptions options) {
  std::unique_ptr<PgCluster> standby(new PgCluster(Uninitialised{}, std::move(options)));
  std::vector<std::string> argv = {"pg_basebackup",
                                   "-D",
                                   standby->dataDirectory().string(),
                                   "-h",
                                   primary.socketDirectory().string(),
                                   "-p",
                                   std::to_string(primary.port()),
                                   "-U",
                                   "postgres",
                                   "-R",
                                   "-X",
                                   "stream",
                                   "-c",
                                   "fast",
                                   "--no-sync"};
  for (const auto& directory : primary.tablespaceDirectories_) {
    auto mapped = standby->makeTablespaceDirectory(directory.filename().string());
    argv.push_back("--tablespace-mapping=" + directory.string() + "=" + mapped.string());
  }
  RunResult result = standby->runAsPostgres(argv);
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result));
  standby->writeConfiguration();
  return standby;
}

PgCluster::~PgCluster() {
  auto pid = postmasterPid(dataDirectory());
  if (!pid || !alive(*pid)) return;
  runAsPostgres({"pg_ctl", "-D", dataDirectory().string(), "-m", "immediate", "-w", "-t", "120", "stop"},
                std::chrono::seconds(180));
  // If pg_ctl could not stop it, kill it: a test must never leave a server behind.
  if (alive(*pid)) {
    ::kill(*pid, SIGKILL);
    for (int i = 0; i < 1000 && alive(*pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void PgCluster::writeConfiguration() {
  std::vector<std::string> lines = {
      "",
      "# pgbr test cluster",
      "port = " + std::to_string(port_),
      "listen_addresses = ''",
      "unix_socket_directories = " + quoteSetting(socketDirectory().string()),
      "wal_level = replica",
      "max_wal_senders = " + std::to_string(options_.maxWalSenders),
  };
  std::string archiveMode =
      options_.archiveMode.empty() ? (options_.archiveCommand.empty() ? "off" : "on") : options_.archiveMode;
  lines.push_back("archive_mode = " + archiveMode);
  lines.push_back("archive_command = " + quoteSetting(options_.archiveCommand));
  lines.insert(lines.end(), options_.settings.begin(), options_.settings.end());
  appendSettings(lines);
}

void PgCluster::appendSettings(const std::vector<std::string>& lines) {
  std::ofstream out(dataDirectory() / "postgresql.conf", std::ios::app);
  for (const auto& line : lines) out << line << '\n';
  if (!out) throw std::runtime_error("cannot append to " + (dataDirectory() / "postgresql.conf").string());
}

RunResult PgCluster::runAsPostgres(std::vector<std::string> argv, std::chrono::seconds timeout) {
  if (!argv.empty() && argv[0].find('/') == std::string::npos) argv[0] = (pgBinDir() / argv[0]).string();
  RunOptions options;
  options.user = "postgres";
  options.cwd = root();
  options.timeout = timeout;
  return run(argv, options);
}

void PgCluster::start() {
  std::vector<std::string> argv = {"pg_ctl", "-D",   dataDirectory().string(), "-l", logFile().string(), "-w", "-t",
                                   "300",    "start"};
  RunResult result = runAsPostgres(argv, std::chrono::seconds(360));
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result) + "\nserver log:\n" + lastLines(log(), 40));
}

void PgCluster::stop(StopMode mode) {
  std::vector<std::string> argv = {
      "pg_ctl", "-D",  dataDirectory().string(), "-m", mode == StopMode::Fast ? "fast" : "immediate", "-w", "-t",
      "300",    "stop"};
  RunResult result = runAsPostgres(argv, std::chrono::seconds(360));
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result) + "\nserver log:\n" + lastLines(log(), 40));
}

void PgCluster::restart() {
  stop(StopMode::Fast);
  start();
}

bool PgCluster::running() const {
  auto pid = postmasterPid(dataDirectory());
  return pid && alive(*pid);
}

std::vector<std::string> PgCluster::clientArgs(const std::string& program) const {
  return {
      (pgBinDir() / program).string(), "-h", socketDirectory().string(), "-p", std::to_string(port_), "-U", "postgres"};
}

RunResult PgCluster::tryPsql(const std::string& sql, const std::string& database) {
  auto argv = clientArgs("psql");
  argv.insert(argv.end(), {"-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"});
  RunOptions options;
  options.input = sql;
  options.timeout = std::chrono::seconds(600);
  return run(argv, options);
}

std::string PgCluster::psql(const std::string& sql, const std::string& database) {
  RunResult result = tryPsql(sql, database);
  if (result.exitCode != 0) throw std::runtime_error("psql failed on '" + sql + "': " + result.err);
  while (!result.out.empty() && (result.out.back() == '\n' || result.out.back() == '\r')) result.out.pop_back();
  return result.out;
}

std::string PgCluster::runClient(const std::string& program, const std::vector<std::string>& args,
                                 std::chrono::seconds timeout) {
  auto argv = clientArgs(program);
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = timeout;
  RunResult result = run(argv, options);
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result));
  return result.out;
}

std::string PgCluster::pgbench(const std::vector<std::string>& args, const std::string& database) {
  auto all = args;
  all.push_back(database);
  return runClient("pgbench", all, std::chrono::seconds(1800));
}

std::string PgCluster::dumpall() { return runClient("pg_dumpall", {}, std::chrono::seconds(600)); }

PgCluster::AmcheckResult PgCluster::amcheck() {
  if (psql("SELECT pg_is_in_recovery()") == "f") psql("CREATE EXTENSION IF NOT EXISTS amcheck");
  auto argv = clientArgs("pg_amcheck");
  argv.insert(argv.end(), {"--all", "--install-missing"});
  RunOptions options;
  options.timeout = std::chrono::seconds(1200);
  RunResult result = run(argv, options);
  return {result.exitCode == 0, result.out + result.err};
}

std::string PgCluster::controldata() {
  std::vector<std::string> argv = {(pgBinDir() / "pg_controldata").string(), "-D", dataDirectory().string()};
  RunOptions options;
  options.env["LC_ALL"] = "C";
  RunResult result = run(argv, options);
  if (result.exitCode != 0) throw std::runtime_error(describe(argv, result));
  return result.out;
}

std::string PgCluster::controldataValue(const std::string& label) {
  std::istringstream lines(controldata());
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, label.size() + 1, label + ":") != 0) continue;
    size_t start = line.find_first_not_of(' ', label.size() + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  throw std::runtime_error("pg_controldata printed no '" + label + "'");
}

std::filesystem::path PgCluster::makeTablespaceDirectory(const std::string& name) {
  auto path = root() / "tablespaces" / name;
  makePostgresDirectory(path.parent_path(), std::filesystem::perms(0755));
  makePostgresDirectory(path, std::filesystem::perms(0700));
  tablespaceDirectories_.push_back(path);
  return path;
}

pg::ConnectOptions PgCluster::connectOptions(const std::string& database) const {
  pg::ConnectOptions options;
  options.host = socketDirectory().string();
  options.port = port_;
  options.user = "postgres";
  options.database = database;
  return options;
}

std::string PgCluster::log() const {
  std::error_code ec;
  if (!std::filesystem::exists(logFile(), ec)) return "";
  return readFile(logFile());
}

}  // namespace pgbr::test
