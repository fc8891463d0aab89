// A throw-away PostgreSQL 15 cluster for integration tests run as root: a temporary directory
// with a data directory owned by postgres, a socket directory and a log; the server listens only
// on its own Unix socket on a free port. The destructor stops the server (immediate) whatever
// happened, then removes everything. One PgCluster belongs to one test thread.
#pragma once

#include "common/pg/connection.h"
#include "test/support/process.h"
#include "test/support/temp_dir.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pgbr::test {

struct PgClusterOptions {
  bool checksums = true;            // initdb -k
  std::string archiveCommand;       // when set, archive_mode is on and runs this command
  std::string archiveMode;          // overrides archive_mode ("on", "always", "off")
  bool archiveToDirectory = false;  // archive with cp into archiveDirectory() (archiveCommand unset)
  int maxWalSenders = 10;
  std::vector<std::string> settings;    // extra postgresql.conf lines, appended last ("shared_buffers = 16MB")
  std::vector<std::string> initdbArgs;  // extra initdb arguments ("--wal-segsize=1")
};

enum class StopMode { Fast, Immediate };

// Polls condition every 200 ms until it holds; false if it still does not after deadline. For
// what a cluster does in the background (archiving, replay, session exit); the generous default
// suits loaded CI machines, and no test asserts on how long it took.
bool waitUntil(const std::function<bool()>& condition, std::chrono::seconds deadline = std::chrono::seconds(300));
// waitUntil the file exists.
bool waitForFile(const std::filesystem::path& path, std::chrono::seconds deadline = std::chrono::seconds(300));

class PgCluster {
 public:
  // Runs initdb and writes the configuration; the server is not started.
  explicit PgCluster(PgClusterOptions options = {});
  // A streaming standby of a running primary, made with pg_basebackup -R (tablespaces made with
  // primary.makeTablespaceDirectory are mapped into the standby's directory); not started.
  static std::unique_ptr<PgCluster> standbyOf(PgCluster& primary, PgClusterOptions options = {});
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // pg_ctl start/stop with -w; throw std::runtime_error with the end of the server log on failure.
  void start();
  void stop(StopMode mode = StopMode::Fast);
  void restart();
  bool running() const;

  // Runs SQL through psql (-X -A -t -q, ON_ERROR_STOP) and returns its output without the
  // trailing newline; throws std::runtime_error with psql's error output on failure.
  std::string psql(const std::string& sql, const std::string& database = "postgres");
  // As psql, returning the result instead of throwing.
  RunResult tryPsql(const std::string& sql, const std::string& database = "postgres");
  // Runs pgbench with these arguments against database; throws on failure.
  std::string pgbench(const std::vector<std::string>& args, const std::string& database = "postgres");
  // pg_dumpall's plain-text dump of the whole cluster; throws on failure.
  std::string dumpall();

  struct AmcheckResult {
    bool ok = false;
    std::string output;  // pg_amcheck's stdout and stderr
  };
  // Creates the amcheck extension (on a primary) and runs pg_amcheck --all.
  AmcheckResult amcheck();
  // pg_controldata's output, and one of its values by label ("Database system identifier").
  std::string controldata();
  std::string controldataValue(const std::string& label);

  // A directory for CREATE TABLESPACE ... LOCATION, owned by postgres.
  std::filesystem::path makeTablespaceDirectory(const std::string& name);
  // Appends lines to postgresql.conf (they take effect at the next start or reload).
  void appendSettings(const std::vector<std::string>& lines);
  // Runs a PostgreSQL binary (from pgBinDir() unless argv[0] is a path) as the postgres user in
  // the cluster's directory.
  RunResult runAsPostgres(std::vector<std::string> argv, std::chrono::seconds timeout = std::chrono::seconds(600));

  const std::filesystem::path& root() const { return root_.path(); }
  std::filesystem::path dataDirectory() const { return root_.path() / "data"; }
  std::filesystem::path socketDirectory() const { return root_.path() / "socket"; }
  std::filesystem::path logFile() const { return root_.path() / "log" / "postgresql.log"; }
  // Where archiveToDirectory puts archived WAL (segment, .history and .backup files).
  std::filesystem::path archiveDirectory() const { return root_.path() / "archive"; }
  int port() const { return port_; }
  pg::ConnectOptions connectOptions(const std::string& database = "postgres") const;
  // The server log so far (for failure messages).
  std::string log() const;

  // Creates directory path (and missing parents below root) owned by postgres with this mode.
  static void makePostgresDirectory(const std::filesystem::path& path, std::filesystem::perms mode);

 private:
  struct Uninitialised {};
  PgCluster(Uninitialised, PgClusterOptions options);
  void writeConfiguration();
  std::vector<std::string> clientArgs(const std::string& program) const;
  // Runs a client program (clientArgs + args); throws std::runtime_error on failure.
  std::string runClient(const std::string& program, const std::vector<std::string>& args, std::chrono::seconds timeout);

  PgClusterOptions options_;
  TempDir root_;
  int port_ = 0;
  std::vector<std::filesystem::path> tablespaceDirectories_;
};

}  // namespace pgbr::test
