#include "test/support/repo_fixture.h"

#include <grp.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

namespace pgbr::test {
namespace {

namespace fs = std::filesystem;

// Readable by the postgres user (who runs pgbr-agent from archive_command), not by others.
void shareWithPostgres(const fs::path& path) {
  if (const group* postgres = ::getgrnam("postgres"); postgres && ::chown(path.c_str(), -1, postgres->gr_gid) == 0) {
    fs::permissions(path, fs::perms(0640));
    return;
  }
  fs::permissions(path, fs::perms(0644));
}

void makeDirectory(const fs::path& path, fs::perms mode) {
  fs::create_directories(path);
  fs::permissions(path, mode);
}

std::string readFrom(const fs::path& path, uintmax_t offset) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::string text = readFile(path);
  return offset < text.size() ? text.substr(offset) : std::string();
}

}  // namespace

RepoFixture::RepoFixture(RepoFixtureOptions options)
    : options_(std::move(options)), ca_(dir_.path() / "ca"), server_(ca_.server()) {
  makeDirectory(dir() / "ca", fs::perms(0755));
  fs::permissions(ca_.certFile(), fs::perms(0644));
  makeDirectory(dir() / "server" / "log", fs::perms(0755));
  for (const char* name : {"agent-log", "agent-lock", "agent-spool"}) makeDirectory(dir() / name, fs::perms(0777));
  if (options_.start) start();
}

RepoFixture::~RepoFixture() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; Child's own destructor kills what is left.
  }
}

std::string RepoFixture::output() const { return readFrom(outputFile(), 0); }

void RepoFixture::writeServerConfig() {
  std::string auth;
  for (const auto& [cn, stanzas] : options_.auth) auth += fmt::format("tls-server-auth={}={}\n", cn, stanzas);
  std::string text = fmt::format(
      "[global]\n"
      "repo1-path={}\n"
      "repo1-cipher-type={}\n"
      "{}"
      "tls-server-address=127.0.0.1\n"
      "tls-server-port={}\n"
      "tls-server-ca-file={}\n"
      "tls-server-cert-file={}\n"
      "tls-server-key-file={}\n"
      "{}"
      "log-path={}\n"
      "log-level-console=info\n"
      "log-level-file=detail\n"
      "lock-path={}\n"
      "process-max=2\n",
      repoPath().string(), options_.cipher ? "aes-256-gcm" : "none",
      options_.cipher ? "repo1-cipher-pass=" + options_.passphrase + "\n" : std::string(), port_,
      ca_.certFile().string(), server_.cert.string(), server_.key.string(), auth, (dir() / "server" / "log").string(),
      (dir() / "server" / "lock").string());
  for (const auto& line : options_.serverOptions) text += line + "\n";
  writeFile(serverConfig(), text);
  fs::permissions(serverConfig(), fs::perms(0600));
}

bool RepoFixture::tryStart(std::chrono::seconds timeout, std::string& why) {
  std::error_code ec;
  uintmax_t offset = fs::exists(outputFile(), ec) ? fs::file_size(outputFile(), ec) : 0;
  child_ = std::make_unique<Child>(
      std::vector<std::string>{(binDir() / "pgbr-repo").string(), "--config=" + serverConfig().string(), "server"},
      outputFile());
  std::string ready = fmt::format("listening on 127.0.0.1:{}", port_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string output = readFrom(outputFile(), offset);
    if (output.find(ready) != std::string::npos) return true;
    if (!child_->running()) {
      why = output;
      child_.reset();
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      child_->stop(std::chrono::seconds(10));
      child_.reset();
      why = fmt::format("it did not listen within {} s; its output:\n{}", timeout.count(), output);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void RepoFixture::start(std::chrono::seconds timeout) {
  if (child_ && child_->running()) throw std::runtime_error("pgbr-repo server is already running");
  bool fixedPort = port_ != 0;
  std::string why;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!fixedPort) port_ = freePort();
    writeServerConfig();
    if (tryStart(timeout, why)) return;
    // Another process took the port between freePort() and the bind, or it is still in use.
    if (why.find("cannot listen") == std::string::npos) break;
    if (fixedPort) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  throw std::runtime_error("pgbr-repo server did not start: " + why);
}

std::optional<int> RepoFixture::stop(std::chrono::seconds grace) {
  if (!child_) return std::nullopt;
  auto code = child_->stop(grace);
  child_.reset();
  return code;
}

void RepoFixture::kill() {
  if (!child_) return;
  child_->signal(SIGKILL);
  child_->wait(std::chrono::seconds(30));
  child_.reset();
}

bool RepoFixture::running() { return child_ && child_->running(); }

CertFiles RepoFixture::client(const std::string& cn) {
  if (auto it = clients_.find(cn); it != clients_.end()) return it->second;
  CertFiles files = ca_.client(cn);
  shareWithPostgres(files.cert);
  shareWithPostgres(files.key);
  clients_.emplace(cn, files);
  return files;
}

fs::path RepoFixture::writeAgentConfig(const std::string& cn, const std::string& extra, std::optional<fs::path> path) {
  CertFiles files = client(cn);
  fs::path file = path.value_or(dir() / ("agent-" + cn + ".conf"));
  std::string text = fmt::format(
      "[global]\n"
      "repo1-host={}\n"
      "repo1-host-port={}\n"
      "repo1-host-ca-file={}\n"
      "repo1-host-cert-file={}\n"
      "repo1-host-key-file={}\n"
      "log-path={}\n"
      "log-level-file=detail\n"
      "lock-path={}\n"
      "spool-path={}\n",
      host(), port_, ca_.certFile().string(), files.cert.string(), files.key.string(), (dir() / "agent-log").string(),
      (dir() / "agent-lock").string(), (dir() / "agent-spool").string());
  writeFile(file, text + extra);
  shareWithPostgres(file);
  return file;
}

}  // namespace pgbr::test
