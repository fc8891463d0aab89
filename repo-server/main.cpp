// pgbr-repo: the repository server's program. `pgbr-repo server` serves; `help` and `version`
// print from the option tables. An error exits with its pgbr error code and its message on
// stderr.
#include "common/config/help.h"
#include "common/config/log_settings.h"
#include "common/config/parse.h"
#include "common/error.h"
#include "common/log.h"
#include "repo-server/server_command.h"

#include <cstdio>
#include <exception>

using namespace pgbr;

int main(int argc, char** argv) {
  bool logging = false;
  LogLevel console = LogLevel::Warn;
  try {
    Config config = parseConfig(Binary::Repo, argc, argv, processEnvironment());
    if (config.commandName() == "help" || config.commandName() == "version") {
      std::string text =
          config.commandName() == "help" ? helpText(Binary::Repo, config.args()) : versionText(Binary::Repo);
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    }
    LogSettings settings = logSettings(config);
    configureLogging(settings);
    logging = true;
    console = settings.console;
    for (const auto& warning : config.warnings()) logWarn("{}", warning);
    logInfo("{}", commandBeginMessage(config));
    return repo::runServer(repo::serverConfig(config));
  } catch (const Error& error) {
    if (logging) logError("[{:03}] {}", error.exitCode(), error.what());
    if (!logging || console < LogLevel::Error)
      std::fprintf(stderr, "pgbr-repo: ERROR [%03d %s]: %s\n", error.exitCode(),
                   std::string(errorSlug(error.code())).c_str(), error.what());
    return error.exitCode();
  } catch (const std::exception& error) {
    if (logging) logError("unexpected error: {}", error.what());
    if (!logging || console < LogLevel::Error)
      std::fprintf(stderr, "pgbr-repo: ERROR [%03d]: %s\n", static_cast<int>(ErrorCode::Unknown), error.what());
    return static_cast<int>(ErrorCode::Unknown);
  }
}
