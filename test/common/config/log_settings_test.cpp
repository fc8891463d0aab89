#include "common/config/log_settings.h"

#include "test/common/config/fixture.h"

#include <doctest/doctest.h>

using namespace pgbr;
using pgbr::test::ConfigFixture;
using pgbr::test::kAgentGlobal;
using pgbr::test::kServerGlobal;

TEST_CASE("a stanza's command logs to <log-path>/<stanza>-<command>.log") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal +
                "log-path=/var/log/pgbr-test/\nlog-level-console=info\nlog-level-file=debug\n"
                "log-timestamp=n\n");
  LogSettings settings = logSettings(f.agent({"--stanza=main", "archive-push", "x"}));
  CHECK(settings.process == "pgbr-agent");
  CHECK(settings.stanza == "main");
  CHECK(settings.console == LogLevel::Info);
  CHECK(settings.file == LogLevel::Debug);
  CHECK(settings.filePath == "/var/log/pgbr-test/main-archive-push.log");
  CHECK_FALSE(settings.timestamps);
}

TEST_CASE("a command without a stanza logs to all-<command>.log with the default levels") {
  ConfigFixture f;
  f.writeConfig(kServerGlobal);
  LogSettings settings = logSettings(f.repo({"server"}));
  CHECK(settings.process == "pgbr-repo");
  CHECK(settings.stanza.empty());
  CHECK(settings.console == LogLevel::Warn);
  CHECK(settings.file == LogLevel::Info);
  CHECK(settings.filePath == "/var/log/pgbr/all-server.log");
  CHECK(settings.timestamps);
  f.writeConfig(kAgentGlobal);
  CHECK(logSettings(f.agent({"info"})).filePath == "/var/log/pgbr/all-info.log");
}

TEST_CASE("help and version log to the console only") {
  LogSettings settings = logSettings(parseConfig(Binary::Agent, std::vector<std::string>{"help"}, {}));
  CHECK(settings.console == LogLevel::Warn);
  CHECK(settings.file == LogLevel::Off);
  CHECK(settings.filePath.empty());
  CHECK(logFileName(*findCommand(Binary::Agent, "version"), "main").empty());
}

TEST_CASE("log file names fill in the stanza, or all without one") {
  const CommandDef& backup = *findCommand(Binary::Agent, "backup");
  CHECK(logFileName(backup, "main") == "main-backup.log");
  CHECK(logFileName(backup, "") == "all-backup.log");
}
