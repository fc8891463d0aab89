// The pgbr-agent commands. Each takes the parsed Config, prints its result on stdout, logs its
// steps, and returns the exit code (0) or throws pgbr::Error, whose code main() exits with.
// RepoSession is what every command that talks to the repository starts with: the network
// thread and the connection, with SIGINT/SIGTERM/SIGHUP closing the connection so that every
// blocked call ends with Cancelled and the command unwinds (aborting a backup in PostgreSQL and
// releasing the repository's lock).
#pragma once

#include "agent/network.h"
#include "agent/repo_client.h"
#include "common/config/config.h"

namespace pgbr::agent {

class RepoSession {
 public:
  explicit RepoSession(const Config& config);
  // Stops the signal handler before the client it uses goes away.
  ~RepoSession() { network_.onSignal(nullptr); }
  RepoSession(const RepoSession&) = delete;
  RepoSession& operator=(const RepoSession&) = delete;

  Network& network() { return network_; }
  RepoClient& client() { return client_; }

 private:
  Network network_;
  RepoClient client_;
};

int runServerPing(const Config& config);
int runStanzaCreate(const Config& config);
int runArchivePush(const Config& config);
int runArchiveGet(const Config& config);
int runBackup(const Config& config);
int runCheck(const Config& config);
int runRestore(const Config& config);
int runInfo(const Config& config);
int runVerify(const Config& config);

// Runs the command the Config names; CommandInvalid for one this release does not have yet.
int runCommand(const Config& config);

}  // namespace pgbr::agent
