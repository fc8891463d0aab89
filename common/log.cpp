#include "common/log.h"

#include "common/error.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace pgbr {
namespace {

constexpr std::array<std::string_view, 7> kNames{"off", "error", "warn", "info", "detail", "debug", "trace"};

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { if (f) std::fclose(f); }
};

class Logger {
public:
  void configure(const LogSettings& settings) {
    std::unique_ptr<std::FILE, FileCloser> file;
    if (settings.file != LogLevel::Off && !settings.filePath.empty()) {
      file.reset(std::fopen(settings.filePath.c_str(), "ae"));
      if (!file) failErrno(ErrorCode::FileOpen, "cannot open log file", settings.filePath, errno);
    }
    std::lock_guard lock(mutex_);
    settings_ = settings;
    file_ = std::move(file);
    pid_ = static_cast<long>(::getpid());
  }

  bool enabled(LogLevel level) const {
    return level != LogLevel::Off && (level <= settings_.console || (file_ && level <= settings_.file));
  }

  void write(LogLevel level, std::string_view message) {
    std::string line = format(level, message);
    std::lock_guard lock(mutex_);
    if (level <= settings_.console) {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    }
    if (file_ && level <= settings_.file) {
      std::fwrite(line.data(), 1, line.size(), file_.get());
      std::fflush(file_.get());
    }
  }

private:
  std::string format(LogLevel level, std::string_view message) const {
    std::string line;
    if (settings_.timestamps) {
      auto now = std::chrono::system_clock::now();
      auto seconds = std::chrono::system_clock::to_time_t(now);
      auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
      std::tm tm{};
      ::localtime_r(&seconds, &tm);
      line = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    }
    std::string level_name(kNames[static_cast<size_t>(level)]);
    for (auto& c : level_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    fmt::format_to(std::back_inserter(line), "{}[{}]{}{} {}: {}\n",
                   settings_.process.empty() ? "pgbr" : settings_.process, pid_,
                   settings_.stanza.empty() ? "" : " ", settings_.stanza, level_name, message);
    return line;
  }

  mutable std::mutex mutex_;
  LogSettings settings_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  long pid_ = static_cast<long>(::getpid());
};

Logger& logger() {
  static Logger instance;
  return instance;
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view text) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == text) return static_cast<LogLevel>(i);
  return std::nullopt;
}

std::string_view logLevelName(LogLevel level) { return kNames[static_cast<size_t>(level)]; }

void configureLogging(const LogSettings& settings) { logger().configure(settings); }
bool logEnabled(LogLevel level) { return logger().enabled(level); }
void logMessage(LogLevel level, std::string_view message) { logger().write(level, message); }

}  // namespace pgbr
