#include "common/log.h"

#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

using namespace pgbr;

TEST_CASE("log levels parse by their pgBackRest names") {
  CHECK(parseLogLevel("detail") == LogLevel::Detail);
  CHECK(parseLogLevel("off") == LogLevel::Off);
  CHECK(parseLogLevel("verbose") == std::nullopt);
  CHECK(logLevelName(LogLevel::Warn) == "warn");
}

TEST_CASE("the log file gets lines at its level with process, pid and stanza") {
  test::TempDir dir;
  auto path = dir / "main-backup.log";
  configureLogging({.console = LogLevel::Off, .file = LogLevel::Info, .filePath = path.string(),
                    .process = "pgbr-agent", .stanza = "main"});
  logInfo("backup {} started", "20261125-034319F");
  logDebug("not written at info");
  configureLogging({.console = LogLevel::Off, .file = LogLevel::Off});
  auto text = test::readFile(path);
  CHECK(text.find("pgbr-agent[") != std::string::npos);
  CHECK(text.find("] main INFO: backup 20261125-034319F started\n") != std::string::npos);
  CHECK(text.find("not written") == std::string::npos);
}

TEST_CASE("an unwritable log path is a clear error") {
  CHECK_THROWS_AS(configureLogging({.file = LogLevel::Info, .filePath = "/nonexistent/dir/x.log"}), Error);
}
