#include "common/config/option_def.h"

#include <doctest/doctest.h>

#include <set>

using namespace pgbr;

TEST_CASE("every command the project needs is in the table, once per program") {
  std::set<std::pair<Binary, std::string_view>> seen;
  for (const auto& command : commandTable()) CHECK(seen.insert({command.binary, command.name}).second);
  for (auto name : {"archive-get", "archive-push", "backup", "check", "expire", "info", "restore", "server-ping",
                    "stanza-create", "stanza-delete", "verify", "help", "version"})
    CHECK_MESSAGE(findCommand(Binary::Agent, name), name);
  for (auto name : {"server", "help", "version"}) CHECK_MESSAGE(findCommand(Binary::Repo, name), name);
}

TEST_CASE("commands have text, optional arguments come last, and log files name the command") {
  for (const auto& command : commandTable()) {
    CAPTURE(command.name);
    CHECK(!command.summary.empty());
    CHECK(!command.description.empty());
    bool optionalSeen = false;
    for (const auto& argument : command.arguments) {
      CHECK(!argument.summary.empty());
      CHECK_FALSE((optionalSeen && argument.required));
      optionalSeen = optionalSeen || !argument.required;
    }
    if (!command.logFile.empty()) CHECK(command.logFile.find("{command}") != std::string_view::npos);
  }
}

TEST_CASE("archive commands take PostgreSQL's %p and %f arguments") {
  CHECK(findCommand(Binary::Agent, "archive-push")->arguments.size() == 1);
  CHECK(findCommand(Binary::Agent, "archive-get")->arguments.size() == 2);
  CHECK(findCommand(Binary::Agent, "backup")->arguments.empty());
}

TEST_CASE("the stanza option follows the command table's stanza use") {
  const OptionDef& stanza = *findOption("stanza");
  for (const auto& command : commandTable()) {
    CAPTURE(command.name);
    // help and version exist in both programs without a stanza, server-ping and server never take one.
    if (command.stanza == StanzaUse::None) continue;
    CHECK(optionValidFor(stanza, command.name));
    CHECK(optionRequiredFor(stanza, command.name) == (command.stanza == StanzaUse::Required));
  }
  CHECK_FALSE(optionValidFor(stanza, "server"));
  CHECK_FALSE(optionValidFor(stanza, "server-ping"));
  CHECK(optionValidFor(stanza, "info"));
  CHECK_FALSE(optionRequiredFor(stanza, "info"));
}
