// pgbr-agent: parse the command line, environment and configuration files, set up logging, log
// the command-begin line (secrets redacted), run the command and exit with 0 or the error's code.
// archive-get of a file the archive lacks exits 1 without a message, as PostgreSQL expects.
#include "agent/commands.h"
#include "common/config/help.h"
#include "common/config/log_settings.h"
#include "common/config/parse.h"
#include "common/error.h"
#include "common/log.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <exception>

namespace {

// console: the console level logging was set up with (nullopt: logging is not set up yet, and
// the default logger writes errors to stderr).
int reportFailure(const pgbr::Config* config, std::optional<pgbr::LogLevel> console, const pgbr::Error& error) {
  using namespace pgbr;
  if (config && error.code() == ErrorCode::ArchiveMissing && config->commandName() == "archive-get") {
    logInfo("{}", error.what());
    return error.exitCode();
  }
  logError("[{}] {}", errorSlug(error.code()), error.what());
  // Errors reach stderr even when the console log is off.
  if (console && *console < LogLevel::Error)
    fmt::print(stderr, "pgbr-agent: [{}] {}\n", errorSlug(error.code()), error.what());
  return error.exitCode();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pgbr;
  std::signal(SIGPIPE, SIG_IGN);
  std::optional<Config> config;
  std::optional<LogLevel> console;
  try {
    config.emplace(parseConfig(Binary::Agent, argc, argv, processEnvironment()));
    if (config->commandName() == "help") {
      fmt::print("{}", helpText(Binary::Agent, config->args()));
      return 0;
    }
    if (config->commandName() == "version") {
      fmt::print("{}", versionText(Binary::Agent));
      return 0;
    }
    LogSettings settings = logSettings(*config);
    try {
      configureLogging(settings);
    } catch (const Error& error) {
      // A log file another user created (root ran the command once by hand) must not stop
      // PostgreSQL's archiving: carry on without the file, and say so.
      settings.file = LogLevel::Off;
      configureLogging(settings);
      logWarn("{}: continuing without a log file", error.what());
    }
    console = settings.console;
    for (const auto& warning : config->warnings()) logWarn("{}", warning);
    logInfo("{}", commandBeginMessage(*config));
    int code = agent::runCommand(*config);
    logInfo("{} command end: completed successfully", config->commandName());
    return code;
  } catch (const Error& error) {
    int code = reportFailure(config ? &*config : nullptr, console, error);
    if (config) logInfo("{} command end: aborted with exception [{}]", config->commandName(), error.exitCode());
    return code;
  } catch (const std::exception& error) {
    Error unexpected(ErrorCode::Unknown, error.what());
    int code = reportFailure(config ? &*config : nullptr, console, unexpected);
    if (config) logInfo("{} command end: aborted with exception [{}]", config->commandName(), code);
    return code;
  }
}
