#include "common/config/help.h"

#include "common/text.h"
#include "test/common/config/fixture.h"

#include <doctest/doctest.h>

using namespace pgbr;
using pgbr::test::errorOf;

using Args = std::vector<std::string>;

namespace {

bool linesFit(const std::string& text, size_t width) {
  for (const auto& line : split(text, '\n'))
    if (line.size() > width && line.find(' ', line.find_first_not_of(' ')) != std::string::npos) return false;
  return true;
}

}  // namespace

TEST_CASE("help lists each program's commands with their summaries") {
  std::string agent = helpText(Binary::Agent, Args{});
  CHECK(agent.starts_with(fmt::format("pgbr-agent {} - PostgreSQL backup agent\n", pgbrVersion())));
  CHECK(agent.find("    archive-push   Send a WAL file to the archive") != std::string::npos);
  CHECK(agent.find("    stanza-create  Create the stanza in the repository.") != std::string::npos);
  CHECK(agent.find("\n    server ") == std::string::npos);
  std::string repo = helpText(Binary::Repo, Args{});
  CHECK(repo.find("    server   Run the repository server.") != std::string::npos);
  CHECK(linesFit(agent, 80));
}

TEST_CASE("help <command> shows usage, description, arguments and options by group") {
  std::string text = helpText(Binary::Agent, Args{"archive-get"});
  CHECK(text.find("Usage:\n    pgbr-agent [options] --stanza=<stanza> archive-get <wal-file> <destination>\n") !=
        std::string::npos);
  CHECK(text.find("Arguments:\n    <wal-file>     name of the WAL file") != std::string::npos);
  CHECK(text.find("Archive Options:\n") != std::string::npos);
  CHECK(text.find("--archive-async") != std::string::npos);
  CHECK(text.find("--repo1-host ") != std::string::npos);
  CHECK(text.find("--delta") == std::string::npos);
  CHECK(linesFit(text, 80));
  std::string backup = helpText(Binary::Agent, Args{"backup"});
  CHECK(backup.find("[default=incr, command line only]") != std::string::npos);
  CHECK(backup.find("Data directory of the cluster. [required, pg1-pg8]") != std::string::npos);
}

TEST_CASE("help <command> <option> shows the option's facts for that command") {
  std::string text = helpText(Binary::Agent, Args{"restore", "type"});
  CHECK(text.starts_with(fmt::format("pgbr-agent {} - 'restore' command - 'type' option help\n", pgbrVersion())));
  CHECK(text.find("default:      default\n") != std::string::npos);
  CHECK(text.find("allowed:      default, immediate, time, xid, lsn, name, standby, preserve, none\n") !=
        std::string::npos);
  CHECK(text.find("set in:       command line and environment only\n") != std::string::npos);
  std::string backupType = helpText(Binary::Agent, Args{"backup", "type"});
  CHECK(backupType.find("allowed:      full, diff, incr\n") != std::string::npos);
  std::string indexed = helpText(Binary::Agent, Args{"backup", "pg2-path"});
  CHECK(indexed.find("'pg2-path' option help") != std::string::npos);
  CHECK(indexed.find("indexed:      pg1-path to pg8-path, one per PostgreSQL cluster; pg-path means\n"
                     "              pg1-path\n") != std::string::npos);
  CHECK(indexed.find("required:     yes") != std::string::npos);
  std::string secret = helpText(Binary::Repo, Args{"server", "repo1-cipher-pass"});
  CHECK(secret.find("\nsecret:        yes: logs, help and error messages show <redacted>\n") != std::string::npos);
  CHECK(secret.find("\napplies when:  repo-cipher-type is aes-256-gcm\n") != std::string::npos);
}

TEST_CASE("help for an unknown command or option says so, with a suggestion") {
  CHECK(errorOf(ErrorCode::CommandInvalid, [] { helpText(Binary::Agent, Args{"bakup"}); }) ==
        "unknown command 'bakup': did you mean 'backup'?");
  CHECK(errorOf(ErrorCode::OptionInvalid, [] {
          helpText(Binary::Agent, Args{"backup", "detla"});
        }) == "unknown option 'detla': did you mean 'delta'?");
  CHECK(errorOf(ErrorCode::OptionInvalid, [] {
          helpText(Binary::Agent, Args{"archive-push", "delta"});
        }) == "option 'delta' is not an option of the archive-push command: see 'pgbr-agent help archive-push'");
  CHECK(errorOf(ErrorCode::CommandInvalid, [] {
          helpText(Binary::Agent, Args{"a", "b", "c"});
        }).starts_with("unknown command 'a'"));
  CHECK(errorOf(ErrorCode::CommandInvalid, [] {
          helpText(Binary::Agent, Args{"backup", "b", "c"});
        }) == "help takes at most a command and an option, but was given 3 arguments");
}

TEST_CASE("every command and option of both programs has help") {
  for (const auto& command : commandTable()) {
    CAPTURE(command.name);
    CHECK_NOTHROW(helpText(command.binary, Args{std::string(command.name)}));
    for (const auto& option : optionTable())
      if (optionValidFor(option, command.name))
        CHECK(linesFit(helpText(command.binary, Args{std::string(command.name), std::string(option.name)}), 80));
  }
}

TEST_CASE("version text names the program and version") {
  CHECK(versionText(Binary::Agent) == fmt::format("pgbr-agent {}\n", pgbrVersion()));
  CHECK(versionText(Binary::Repo) == fmt::format("pgbr-repo {}\n", pgbrVersion()));
  CHECK(pgbrVersion() == "0.1.0");
}

TEST_CASE("option facts without a command cover every command") {
  auto facts = optionFacts(*findOption("type"), "");
  auto value = [&](std::string_view label) {
    for (const auto& fact : facts)
      if (fact.label == label) return fact.value;
    return std::string();
  };
  CHECK(value("default") == "incr for backup; default for restore");
  CHECK(value("allowed") ==
        "full, diff, incr for backup; default, immediate, time, xid, lsn, name, standby, preserve, none for restore");
  CHECK(value("commands") == "backup, restore (pgbr-agent)");
  auto cipher = optionFacts(*findOption("repo-cipher-pass"), "");
  bool both = false;
  for (const auto& fact : cipher)
    if (fact.label == "commands") both = fact.value.find("(pgbr-agent); server (pgbr-repo)") != std::string::npos;
  CHECK(both);
}

TEST_CASE("wrapping keeps words whole, indents every line and keeps paragraphs apart") {
  CHECK(wrapText("one two three four", 2, 11) == "  one two\n  three\n  four");
  CHECK(wrapText("a\n\nb", 0) == "a\n\nb");
  CHECK(wrapText("averyveryverylongword x", 0, 5) == "averyveryverylongword\nx");
}
