// A real `pgbr-repo server` for integration tests: a throw-away CA with a server certificate for
// 127.0.0.1/localhost and client certificates by CN, a pgbr.conf for the server and one for
// agents, and the server as a child process on a free port of 127.0.0.1. Everything agents read
// (their configuration, certificates and keys) is readable by the postgres user, which runs
// pgbr-agent from archive_command: files 0640 with group postgres (or 0644 where that group
// does not exist), directories 0755, and the agent's log, lock and spool directories 0777.
//
//   test::RepoFixture repo;                         // started, encrypted, CN "agent" may use any stanza
//   auto conf = repo.writeAgentConfig("agent", "[main]\npg1-path=" + data.string() + "\n");
//   test::run({(test::binDir() / "pgbr-agent").string(), "--config=" + conf.string(), "--stanza=main",
//              "stanza-create"});
//   repo.kill();                                    // a crash: SIGKILL
//   repo.start();                                   // same port, same repository
//
// The destructor stops the server (SIGTERM, then SIGKILL after a bounded wait). Not
// thread-safe; one fixture per test.
#pragma once

#include "test/support/certs.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::test {

struct RepoFixtureOptions {
  bool cipher = true;                                       // repo1-cipher-type=aes-256-gcm, else none
  std::string passphrase = "pgbr test passphrase";          // repo1-cipher-pass
  std::map<std::string, std::string> auth{{"agent", "*"}};  // tls-server-auth: CN -> "<stanza>[,<stanza>…]" or "*"
  std::vector<std::string> serverOptions;                   // more "name=value" lines for the server's [global]
  bool start = true;                                        // start the server in the constructor
  std::optional<std::filesystem::path> repoPath;            // repo1-path; default <dir>/repo
};

class RepoFixture {
 public:
  explicit RepoFixture(RepoFixtureOptions options = {});
  ~RepoFixture();
  RepoFixture(const RepoFixture&) = delete;
  RepoFixture& operator=(const RepoFixture&) = delete;

  // Writes the server's configuration and starts it; returns once it accepts connections.
  // Throws std::runtime_error with the server's output when it exits or does not come up
  // within the time-out. A restart keeps the port, the repository and the certificates.
  void start(std::chrono::seconds timeout = std::chrono::seconds(120));
  // SIGTERM and a bounded wait (then SIGKILL); the exit code, or nullopt when it had to be killed.
  std::optional<int> stop(std::chrono::seconds grace = std::chrono::seconds(60));
  // SIGKILL, as a crash would.
  void kill();
  void restart() {
    stop();
    start();
  }
  bool running();

  const RepoFixtureOptions& options() const { return options_; }
  // Changes the options for the next start() (a wrong passphrase, another auth map, …).
  RepoFixtureOptions& nextOptions() { return options_; }

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path repoPath() const { return options_.repoPath.value_or(dir() / "repo"); }
  std::filesystem::path serverConfig() const { return dir() / "server" / "pgbr.conf"; }
  // What the server wrote to stdout and stderr (all its runs), and its log file.
  std::filesystem::path outputFile() const { return dir() / "server" / "output.log"; }
  std::filesystem::path logFile() const { return dir() / "server" / "log" / "all-server.log"; }
  std::string output() const;
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }

  const std::filesystem::path& caFile() const { return ca_.certFile(); }
  // The client certificate and key for cn, made on first use.
  CertFiles client(const std::string& cn);
  // A pgbr.conf for pgbr-agent with certificate cn: [global] with repo1-host, repo1-host-port,
  // the CA, certificate and key files, and log, lock and spool paths under dir(); then `extra`
  // (more lines, stanza sections). Returns its path (dir()/agent-<cn>.conf unless given).
  std::filesystem::path writeAgentConfig(const std::string& cn, const std::string& extra = "",
                                         std::optional<std::filesystem::path> path = std::nullopt);

 private:
  void writeServerConfig();
  bool tryStart(std::chrono::seconds timeout, std::string& why);

  RepoFixtureOptions options_;
  TempDir dir_{"pgbr-repo-fixture"};
  TestCa ca_;
  CertFiles server_;
  std::map<std::string, CertFiles> clients_;
  int port_ = 0;
  std::unique_ptr<Child> child_;
};

}  // namespace pgbr::test
