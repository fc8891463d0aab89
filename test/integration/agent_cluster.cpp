#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <stdexcept>

namespace pgbr::test {

namespace fs = std::filesystem;

fs::path agentBinary() { return binDir() / "pgbr-agent"; }

std::string comparableDump(const std::string& dump) {
  std::string out;
  size_t start = 0;
  while (start < dump.size()) {
    size_t end = dump.find('\n', start);
    if (end == std::string::npos) end = dump.size();
    std::string_view line(dump.data() + start, end - start);
    if (!line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict ")) {
      out += line;
      out += '\n';
    }
    start = end + 1;
  }
  return out;
}

std::string describeRun(const std::string& what, const RunResult& result) {
  return fmt::format("{} exited with {}{}\nstdout:\n{}\nstderr:\n{}", what, result.exitCode,
                     result.timedOut ? " (timed out)" : "", result.out, result.err);
}

AgentCluster::AgentCluster(RepoFixture& repo, std::string stanzaOptions, std::string stanza, PgClusterOptions options)
    : repo_(repo), stanza_(std::move(stanza)) {
  config_ = repo.dir() / fmt::format("agent-{}.conf", stanza_);
  options.archiveCommand =
      fmt::format("{} --config={} --stanza={} archive-push %p", agentBinary().string(), config_.string(), stanza_);
  pg_ = std::make_unique<PgCluster>(std::move(options));
  repo.writeAgentConfig(
      "agent",
      fmt::format("\n[{}]\npg1-path={}\npg1-port={}\npg1-socket-path={}\npg1-user=postgres\n{}\n", stanza_,
                  pg_->dataDirectory().string(), pg_->port(), pg_->socketDirectory().string(), stanzaOptions),
      config_);
}

namespace {

// server-ping is the one command without a stanza.
std::vector<std::string> agentArgv(const fs::path& config, const std::string& stanza,
                                   const std::vector<std::string>& args) {
  std::vector<std::string> argv = {agentBinary().string(), "--config=" + config.string()};
  if (args.empty() || args.back() != "server-ping") argv.push_back("--stanza=" + stanza);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

RunResult AgentCluster::agent(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv = agentArgv(config_, stanza_, args);
  RunOptions options;
  options.timeout = timeout;
  options.cwd = repo_.dir();
  return run(argv, options);
}

RunResult AgentCluster::agentAsPostgres(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> argv = agentArgv(config_, stanza_, args);
  RunOptions options;
  options.timeout = timeout;
  options.user = "postgres";
  options.cwd = pg_->root();
  return run(argv, options);
}

std::string AgentCluster::agentOk(const std::vector<std::string>& args) {
  RunResult result = agent(args);
  std::string what = "pgbr-agent";
  for (const auto& arg : args) what += " " + arg;
  REQUIRE_MESSAGE(result.exitCode == 0, (describeRun(what, result) + "\nrepository server:\n" + repo_.output()));
  return result.out;
}

void AgentCluster::switchWalAndWaitArchived() {
  std::string segment = pg_->psql("SELECT pg_walfile_name(pg_switch_wal())");
  bool archived = waitUntil([&] {
    return pg_->psql("SELECT coalesce(last_archived_wal, '') >= '" + segment + "' FROM pg_stat_archiver") == "t";
  });
  REQUIRE_MESSAGE(archived, ("segment " + segment + " was not archived; server log:\n" + pg_->log()));
}

RestoredCluster::RestoredCluster() : pg_(std::make_unique<PgCluster>()) {
  // Only its directory, port and socket are used: the restore brings the data directory.
  fs::remove_all(pg_->dataDirectory());
}

void RestoredCluster::start() {
  pg_->appendSettings({"", "# restored by a pgbr test", "port = " + std::to_string(pg_->port()),
                       "listen_addresses = ''", "unix_socket_directories = '" + pg_->socketDirectory().string() + "'"});
  pg_->start();
}

void RestoredCluster::startAndWaitForRecovery() {
  start();
  bool recovered = waitUntil([&] { return pg_->tryPsql("SELECT pg_is_in_recovery()").out.starts_with("f"); });
  REQUIRE_MESSAGE(recovered, ("recovery did not finish; server log:\n" + pg_->log()));
}

}  // namespace pgbr::test
