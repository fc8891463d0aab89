#include "agent/archive_spool.h"

#include "common/config/log_settings.h"
#include "common/text.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace pgbr::agent {
namespace {

constexpr std::string_view kTemporaryMark = ".pgbr-tmp";

void makeDirectories(const std::string& path, std::string_view what) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) fail(ErrorCode::FileWrite, "cannot create {} '{}': {}", what, path, ec.message());
}

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  for (auto& line : split(text, '\n'))
    if (!line.empty()) out.push_back(std::move(line));
  return out;
}

template <typename Number>
std::optional<Number> parseNumber(std::string_view text) {
  Number value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Closes every descriptor from 3 up (what PostgreSQL's archiver or a test harness left open).
void closeInheritedDescriptors() {
  std::vector<int> open;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
    if (auto fd = parseNumber<int>(it->path().filename().string()); fd && *fd > 2) open.push_back(*fd);
  for (int fd : open) ::close(fd);
}

}  // namespace

FileStamp FileStamp::of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    failErrno(errno == ENOENT ? ErrorCode::FileMissing : ErrorCode::FileOpen, "cannot read the attributes of", path,
              errno);
  return {static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

Spool::Spool(const Config& config, Direction direction)
    : Spool(config.str("spool-path"), config.stanza(), direction) {}

Spool::Spool(const std::string& spoolPath, const std::string& stanza, Direction direction)
    : directory_(fmt::format("{}/archive/{}/{}", spoolPath, stanza, direction == Direction::Out ? "out" : "in")) {
  makeDirectories(directory_, "the spool directory");
}

void Spool::writeFile(std::string_view file, std::string_view content, bool durable) const {
  std::string target = path(file);
  std::string temporary = fmt::format("{}{}.{}", target, kTemporaryMark, ::getpid());
  int raw = openRetry(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (raw < 0) failErrno(ErrorCode::FileWrite, "cannot create", temporary, -raw);
  UniqueFd fd(raw);
  try {
    writeFd(fd.get(), std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size()), temporary);
    if (durable) fsyncFd(fd.get(), temporary);
    fd.closeChecked(temporary);
    if (::rename(temporary.c_str(), target.c_str()) != 0)
      failErrno(ErrorCode::FileWrite, "cannot rename a spool file to", target, errno);
  } catch (...) {
    fd.reset();
    ::unlink(temporary.c_str());
    throw;
  }
}

std::optional<std::string> Spool::readFile(std::string_view file) const {
  std::string target = path(file);
  int raw = openRetry(target.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) {
    if (-raw == ENOENT) return std::nullopt;
    failErrno(ErrorCode::FileOpen, "cannot open", target, -raw);
  }
  UniqueFd fd(raw);
  std::string content;
  std::vector<uint8_t> buffer(16 * 1024);
  while (size_t n = readFd(fd.get(), buffer, target)) content.append(reinterpret_cast<const char*>(buffer.data()), n);
  return content;
}

void Spool::remove(std::string_view file) const {
  std::string target = path(file);
  if (::unlink(target.c_str()) != 0 && errno != ENOENT)
    failErrno(ErrorCode::FileWrite, "cannot remove", target, errno);
}

std::vector<std::string> Spool::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find(kTemporaryMark) == std::string::npos) names.push_back(std::move(name));
  }
  if (ec) fail(ErrorCode::FileRead, "cannot list the spool directory '{}': {}", directory_, ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

void Spool::writePushed(std::string_view name, const FileStamp& stamp,
                        const std::vector<std::string>& warnings) const {
  std::string content = fmt::format("{} {}\n", stamp.size, stamp.mtimeNs);
  for (const auto& warning : warnings) content += warning + "\n";
  writeFile(fmt::format("{}.ok", name), content, false);
}

std::optional<PushedStatus> Spool::readPushed(std::string_view name) const {
  auto content = readFile(fmt::format("{}.ok", name));
  if (!content) return std::nullopt;
  auto all = lines(*content);
  if (all.empty()) return std::nullopt;
  auto fields = split(all.front(), ' ');
  std::optional<uint64_t> size;
  std::optional<int64_t> mtime;
  if (fields.size() == 2) {
    size = parseNumber<uint64_t>(fields[0]);
    mtime = parseNumber<int64_t>(fields[1]);
  }
  if (!size || !mtime) return std::nullopt;  // not one of ours: treated as absent
  PushedStatus status{{*size, *mtime}, {}};
  status.warnings.assign(all.begin() + 1, all.end());
  return status;
}

void Spool::writeError(std::string_view name, const Error& error) const {
  writeFile(name.empty() ? std::string("global.error") : fmt::format("{}.error", name),
            fmt::format("{}\n{}\n", error.exitCode(), error.what()), false);
}

std::optional<Error> Spool::readError(std::string_view name) const {
  auto content = readFile(name.empty() ? std::string("global.error") : fmt::format("{}.error", name));
  if (!content) return std::nullopt;
  size_t newline = content->find('\n');
  auto number = parseNumber<int>(std::string_view(*content).substr(0, newline));
  std::string message =
      newline == std::string::npos ? std::string() : std::string(trim(std::string_view(*content).substr(newline + 1)));
  auto code = number ? errorCodeFromNumber(*number) : std::nullopt;
  if (!code) return Error(ErrorCode::Unknown, message.empty() ? *content : message);
  return Error(*code, message);
}

void Spool::writeMissing(std::string_view name) const { writeFile(fmt::format("{}.missing", name), "", false); }

bool Spool::hasMissing(std::string_view name) const {
  std::string target = path(fmt::format("{}.missing", name));
  return ::access(target.c_str(), F_OK) == 0;
}

std::optional<ProcessLock> ProcessLock::tryAcquire(const std::string& path) {
  makeDirectories(std::filesystem::path(path).parent_path().string(), "the lock directory");
  // Read-only is enough for flock, and lets another user's process lock a file one user created.
  int raw = openRetry(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (raw < 0) failErrno(ErrorCode::FileOpen, "cannot open the lock file", path, -raw);
  UniqueFd fd(raw);
  int rc;
  do rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return ProcessLock(std::move(fd));
  if (errno == EWOULDBLOCK) return std::nullopt;
  failErrno(ErrorCode::FileOpen, "cannot lock", path, errno);
}

bool ProcessLock::held(const std::string& path) { return !tryAcquire(path).has_value(); }

std::string ProcessLock::pathFor(const Config& config) {
  return fmt::format("{}/{}-{}-async.lock", config.str("lock-path"), config.stanza(), config.commandName());
}

bool waitForBackground(const std::string& lockPath, std::chrono::milliseconds timeout,
                       const std::function<bool()>& done, const std::function<void()>& start) {
  using Clock = std::chrono::steady_clock;
  auto begin = Clock::now();
  auto deadline = begin + timeout;
  std::optional<Clock::time_point> started;
  auto pause = std::chrono::microseconds(500);
  for (;;) {
    if (done()) return true;
    auto now = Clock::now();
    if ((!started || now - *started >= std::chrono::milliseconds(250)) && !ProcessLock::held(lockPath)) {
      start();
      started = now;
      continue;
    }
    if (now >= deadline) return false;
    std::this_thread::sleep_for(pause);
    // The pause is latency added to every WAL file PostgreSQL waits for: 2 ms at most while a
    // push or fetch may still be about to finish (one takes tens of milliseconds), then 20 ms.
    auto cap =
        now - begin < std::chrono::seconds(1) ? std::chrono::microseconds(2000) : std::chrono::microseconds(20000);
    pause = std::min<std::chrono::microseconds>(pause * 2, cap);
  }
}

LogSettings asyncLogSettings(const Config& config) {
  LogSettings settings = logSettings(config);
  settings.console = LogLevel::Off;
  if (settings.file != LogLevel::Off) {
    constexpr std::string_view suffix = ".log";
    if (settings.filePath.ends_with(suffix))
      settings.filePath.insert(settings.filePath.size() - suffix.size(), "-async");
  }
  return settings;
}

void spawnDetached(const LogSettings& log, const std::function<int()>& body) {
  pid_t child = ::fork();
  if (child < 0) failErrno(ErrorCode::Unknown, "cannot start the background process", "fork", errno);
  if (child > 0) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fail(ErrorCode::Unknown, "the background process could not be started (fork failed in the child)");
    return;
  }
  // The child: a new session, then the grandchild, whose parent exits at once so that init reaps it.
  if (::setsid() < 0) ::_exit(1);
  pid_t grandchild = ::fork();
  if (grandchild < 0) ::_exit(1);
  if (grandchild > 0) ::_exit(0);

  LogSettings quiet = log;
  quiet.console = LogLevel::Off;
  quiet.file = LogLevel::Off;
  int code = 0;
  try {
    configureLogging(quiet);  // closes the parent's log file before its descriptor number is reused
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (null > 2) ::close(null);
    }
    closeInheritedDescriptors();
    // Nothing relies on the working directory (every path is absolute); leaving it keeps no file
    // system busy.
    if (::chdir("/") != 0) logDebug("cannot change to /: {}", std::strerror(errno));
    try {
      configureLogging(log);
    } catch (const Error&) {
      configureLogging(quiet);  // no log file rather than no background process
    }
    code = body();
  } catch (const Error& error) {
    logError("[{}] {}", errorSlug(error.code()), error.what());
    code = error.exitCode();
  } catch (const std::exception& error) {
    logError("{}", error.what());
    code = static_cast<int>(ErrorCode::Unknown);
  }
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace pgbr::agent
