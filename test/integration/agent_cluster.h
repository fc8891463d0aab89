// What the end-to-end scenarios share: a PostgreSQL 15 cluster whose archive_command is the real
// pgbr-agent pushing into a stanza of a real pgbr-repo (RepoFixture, mutual TLS), the agent's
// configuration for it, agent runs with their output, and a cluster restored from a backup and
// started on its own port. Everything started is stopped by the destructors, also when a check
// fails. One per test; not thread-safe.
#pragma once

#include "test/support/pg_cluster.h"
#include "test/support/process.h"
#include "test/support/repo_fixture.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace pgbr::test {

std::filesystem::path agentBinary();

class AgentCluster {
 public:
  // Makes the cluster (not started) and the agent configuration: [<stanza>] with pg1-path,
  // pg1-port, pg1-socket-path and `stanzaOptions` lines; archive_command pushes to the stanza.
  AgentCluster(RepoFixture& repo, std::string stanzaOptions = "", std::string stanza = "main",
               PgClusterOptions options = {});

  PgCluster& pg() { return *pg_; }
  const std::filesystem::path& config() const { return config_; }
  const std::string& stanza() const { return stanza_; }

  // pgbr-agent --config=<config> --stanza=<stanza> <args…>, as root (or as postgres).
  RunResult agent(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(900));
  RunResult agentAsPostgres(const std::vector<std::string>& args,
                            std::chrono::seconds timeout = std::chrono::seconds(900));
  // As agent(), failing the test with the output when the exit code is not 0; returns stdout.
  std::string agentOk(const std::vector<std::string>& args);

  // pg_switch_wal(), then waits until PostgreSQL has archived the segment it closed.
  void switchWalAndWaitArchived();

 private:
  RepoFixture& repo_;
  std::string stanza_;
  std::filesystem::path config_;
  std::unique_ptr<PgCluster> pg_;
};

// A cluster made from a restore: its own directory, port and socket; the data directory is
// restored by the caller (through dataDirectory()) and then started with start().
class RestoredCluster {
 public:
  RestoredCluster();

  std::filesystem::path dataDirectory() const { return pg_->dataDirectory(); }
  PgCluster& pg() { return *pg_; }
  // Points the restored configuration at this cluster's port and socket and starts it.
  void start();
  // start(), then waits until recovery has finished (pg_is_in_recovery() is false).
  void startAndWaitForRecovery();

 private:
  std::unique_ptr<PgCluster> pg_;
};

// pg_dumpall output without its \restrict and \unrestrict lines, whose keys are random per dump,
// so that two dumps of the same data compare equal.
std::string comparableDump(const std::string& dump);

// "<what> exited with <code>\nstdout: …\nstderr: …" for failure messages.
std::string describeRun(const std::string& what, const RunResult& result);

}  // namespace pgbr::test
