// Running pgbr binaries and PostgreSQL tools from tests: one-shot runs with captured output,
// and long-lived children (servers) that are stopped when their handle goes away.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::test {

struct RunOptions {
  std::map<std::string, std::string> env;   // added to (or replacing in) the inherited environment
  std::optional<std::filesystem::path> cwd;
  std::optional<std::string> user;           // run through `runuser -u <user> --`
  std::chrono::seconds timeout{120};
  std::string input;                         // written to stdin
};

struct RunResult {
  int exitCode = -1;   // -1: killed by a signal or the timeout
  bool timedOut = false;
  std::string out;
  std::string err;
};

// Runs argv[0] (a path or a name looked up on PATH) and waits for it.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// A background process; its stdout and stderr go to the given log file. The destructor
// sends SIGTERM, waits up to 10 s, then SIGKILL, so a failing test never leaves it behind.
class Child {
public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& logFile, const RunOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit; returns the exit code, -1 if killed by a signal, nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, bounded wait, SIGKILL; returns the exit code as wait() does.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

private:
  int pid_ = -1;
  std::optional<int> status_;
};

// Directory with the pgbr binaries: $PGBR_BIN_DIR, or the build's bin/ directory.
std::filesystem::path binDir();
// PostgreSQL 15's binaries.
std::filesystem::path pgBinDir();

}  // namespace pgbr::test
