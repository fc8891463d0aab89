// Process-wide logging: one line per message with timestamp, process, pid, stanza and level,
// to the console (stderr) and optionally to a file, each with its own level.
//
// The logger is the one piece of process-wide state in pgbr: it is configured once by main()
// before any thread starts and is immutable afterwards; writing is thread-safe. Secrets never
// reach it because the option table redacts secret values before anything logs them.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace pgbr {

// pgBackRest's levels, so log-level-console=detail means the same thing in both.
enum class LogLevel { Off, Error, Warn, Info, Detail, Debug, Trace };

std::optional<LogLevel> parseLogLevel(std::string_view text);
std::string_view logLevelName(LogLevel level);

struct LogSettings {
  LogLevel console = LogLevel::Warn;
  LogLevel file = LogLevel::Off;
  std::string filePath;   // used when file != Off
  std::string process;    // "pgbr-agent", "pgbr-repo"
  std::string stanza;     // may be empty
  bool timestamps = true;
};

// Replaces the settings; call before starting threads. Throws Error(FileOpen) if the log file
// cannot be opened.
void configureLogging(const LogSettings& settings);
bool logEnabled(LogLevel level);
void logMessage(LogLevel level, std::string_view message);

template <typename... Args>
void logAt(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (logEnabled(level)) logMessage(level, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void logError(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Error, f, std::forward<Args>(a)...); }
template <typename... Args>
void logWarn(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Warn, f, std::forward<Args>(a)...); }
template <typename... Args>
void logInfo(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Info, f, std::forward<Args>(a)...); }
template <typename... Args>
void logDetail(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Detail, f, std::forward<Args>(a)...); }
template <typename... Args>
void logDebug(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Debug, f, std::forward<Args>(a)...); }
template <typename... Args>
void logTrace(fmt::format_string<Args...> f, Args&&... a) { logAt(LogLevel::Trace, f, std::forward<Args>(a)...); }

}  // namespace pgbr
