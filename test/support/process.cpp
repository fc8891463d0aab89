#include "test/support/process.h"

#include "test/support/temp_dir.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace pgbr::test {
namespace {

std::vector<std::string> commandLine(const std::vector<std::string>& argv, const RunOptions& options) {
  std::vector<std::string> full;
  if (options.user) {
    full = {"runuser", "-u", *options.user, "--", "env"};
    // runuser resets nothing we rely on, but env makes the added variables explicit.
    for (const auto& [key, value] : options.env) full.push_back(key + "=" + value);
  }
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

// fork + exec with stdin from a file and stdout/stderr to files; returns the pid.
int spawn(const std::vector<std::string>& argv, const RunOptions& options, const std::string& inFile,
          const std::string& outFile, const std::string& errFile) {
  auto full = commandLine(argv, options);
  std::vector<char*> args;
  for (auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    int in = ::open(inFile.empty() ? "/dev/null" : inFile.c_str(), O_RDONLY);
    int out = ::open(outFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = errFile == outFile ? out : ::open(errFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (options.cwd && ::chdir(options.cwd->c_str()) != 0) ::_exit(126);
    if (!options.user)
      for (const auto& [key, value] : options.env) ::setenv(key.c_str(), value.c_str(), 1);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

std::optional<int> waitPid(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    int r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  TempDir io("pgbr-run");
  std::string inFile;
  if (!options.input.empty()) {
    inFile = (io.path() / "in").string();
    writeFile(inFile, options.input);
  }
  std::string outFile = (io.path() / "out").string(), errFile = (io.path() / "err").string();
  int pid = spawn(argv, options, inFile, outFile, errFile);
  RunResult result;
  auto code = waitPid(pid, options.timeout);
  if (!code) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    waitPid(pid, std::chrono::seconds(10));
    result.timedOut = true;
  } else {
    result.exitCode = *code;
  }
  if (std::filesystem::exists(outFile)) result.out = readFile(outFile);
  if (std::filesystem::exists(errFile)) result.err = readFile(errFile);
  return result;
}

Child::Child(const std::vector<std::string>& argv, const std::filesystem::path& logFile, const RunOptions& options) {
  pid_ = spawn(argv, options, "", logFile.string(), logFile.string());
}

Child::~Child() {
  if (pid_ > 0 && !status_) stop();
}

bool Child::running() {
  if (status_) return false;
  auto code = waitPid(pid_, std::chrono::milliseconds(0));
  if (code) status_ = *code;
  return !status_;
}

void Child::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto code = waitPid(pid_, timeout);
  if (code) status_ = *code;
  return code;
}

std::optional<int> Child::stop(std::chrono::milliseconds grace) {
  if (status_) return status_;
  ::kill(pid_, SIGTERM);
  if (auto code = wait(grace)) return code;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  wait(std::chrono::seconds(10));
  return std::nullopt;
}

std::filesystem::path binDir() {
  const char* dir = std::getenv("PGBR_BIN_DIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(PGBR_TEST_BIN_DIR);
}

std::filesystem::path pgBinDir() { return "/usr/lib/postgresql/15/bin"; }

}  // namespace pgbr::test
