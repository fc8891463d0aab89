#include "common/config/option_def.h"
#include "common/config/option_value.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace pgbr;

namespace {

bool commandExists(std::string_view name) {
  return findCommand(Binary::Agent, name) || findCommand(Binary::Repo, name);
}

bool contains(const std::vector<std::string_view>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

TEST_CASE("option names are unique, lower case and never mistaken for an indexed name") {
  std::set<std::string_view> names;
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    CHECK(names.insert(option.name).second);
    CHECK(std::all_of(option.name.begin(), option.name.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }));
    auto ref = parseOptionName(option.name);
    REQUIRE(ref);
    CHECK(ref->def == &option);
    CHECK(ref->index == (option.indexed ? 1u : 0u));
  }
}

TEST_CASE("every option has text, belongs to existing commands, and requires only what it accepts") {
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    CHECK(!option.summary.empty());
    CHECK(!option.description.empty());
    CHECK(!option.commands.empty());
    for (auto command : option.commands) CHECK_MESSAGE(commandExists(command), command);
    for (auto command : option.requiredFor) CHECK_MESSAGE(contains(option.commands, command), command);
    for (const auto& o : option.overrides) CHECK_MESSAGE(contains(option.commands, o.command), o.command);
    CHECK_FALSE((option.negatable && option.type == OptionType::Bool));
  }
}

TEST_CASE("defaults and range bounds are valid values of their option for every command") {
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    for (auto command : option.commands) {
      CAPTURE(command);
      std::string_view fallback = optionDefault(option, command);
      if (!fallback.empty()) {
        CheckedValue checked = checkOptionValue(option, command, fallback);
        CHECK_MESSAGE(checked.ok(), checked.problem);
        CHECK(checked.value == fallback);  // defaults are written in canonical form
      }
      if (option.range) {
        CHECK(checkOptionValue(option, command, option.range->min).ok());
        CHECK(checkOptionValue(option, command, option.range->max).ok());
      }
    }
    if (option.range)
      CHECK((option.type == OptionType::Integer || option.type == OptionType::Size || option.type == OptionType::Time));
  }
}

TEST_CASE("enum options list their values for every command, other types list none") {
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    for (auto command : option.commands) {
      if (option.type == OptionType::Enum)
        CHECK_FALSE(optionAllowed(option, command).empty());
      else
        CHECK(optionAllowed(option, command).empty());
    }
  }
}

TEST_CASE("secrets have no default, so nothing secret is written in the table") {
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    if (option.secret) {
      CHECK(option.defaultValue.empty());
      CHECK(option.overrides.empty());
    }
  }
}

TEST_CASE("dependencies name an option of the same commands and values it can take") {
  for (const auto& option : optionTable()) {
    if (!option.depend) continue;
    CAPTURE(option.name);
    const OptionDef* other = findOption(option.depend->option);
    REQUIRE(other);
    CHECK(other != &option);
    for (auto command : option.commands) {
      CHECK_MESSAGE(optionValidFor(*other, command), command);
      for (auto value : option.depend->values) CHECK_MESSAGE(checkOptionValue(*other, command, value).ok(), value);
    }
    if (other->indexed) CHECK(option.indexed);
  }
}

TEST_CASE("indexed options carry a family prefix and environment names map back to the option") {
  for (const auto& option : optionTable()) {
    CAPTURE(option.name);
    if (option.indexed) {
      const IndexFamily& family = optionFamily(option);
      CHECK(option.name.starts_with(std::string(family.prefix) + "-"));
      auto last = parseOptionName(optionDisplayName(option, family.maxIndex));
      REQUIRE(last);
      CHECK(last->index == family.maxIndex);
    }
    std::string env = optionEnvName(option, option.indexed ? 2 : 0);
    std::string name = env.substr(5);
    for (auto& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto ref = parseOptionName(name);
    REQUIRE(ref);
    CHECK(ref->def == &option);
  }
}

TEST_CASE("the options of the design carry their documented defaults, ranges and flags") {
  CHECK(findOption("log-level-console")->defaultValue == "warn");
  CHECK(findOption("log-level-file")->defaultValue == "info");
  CHECK(findOption("log-path")->defaultValue == "/var/log/pgbr");
  CHECK(findOption("compress-type")->defaultValue == "zstd");
  CHECK(findOption("process-max")->range->min == "1");
  CHECK(findOption("process-max")->range->max == "64");
  CHECK(findOption("pg-port")->defaultValue == "5432");
  CHECK(findOption("pg-database")->defaultValue == "postgres");
  CHECK(findOption("repo-host-port")->defaultValue == "8432");
  CHECK(findOption("tls-server-port")->defaultValue == "8432");
  CHECK(findOption("tls-server-address")->defaultValue == "localhost");
  CHECK(findOption("repo-path")->defaultValue == "/var/lib/pgbr");
  CHECK(findOption("spool-path")->defaultValue == "/var/spool/pgbr");
  CHECK(findOption("archive-timeout")->defaultValue == "60");
  CHECK(findOption("archive-get-queue-max")->defaultValue == "128MiB");
  CHECK(findOption("resume")->defaultValue == "y");
  CHECK(findOption("tls-server-auth")->type == OptionType::Map);
  CHECK(findOption("exclude")->type == OptionType::List);
  for (auto name : {"repo-cipher-pass", "repo-s3-key", "repo-s3-key-secret", "repo-s3-token", "repo-azure-key"})
    CHECK_MESSAGE(findOption(name)->secret, name);
  for (auto name : {"stanza", "type", "target", "set", "config", "force", "output"})
    CHECK_MESSAGE(findOption(name)->section == OptionSection::CommandLine, name);
  CHECK(findOption("pg-path")->section == OptionSection::Stanza);
  CHECK(findOption("tls-server-auth")->section == OptionSection::Global);
}
