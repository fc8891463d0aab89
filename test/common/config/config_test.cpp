#include "common/config/config.h"

#include "common/config/help.h"
#include "test/common/config/fixture.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace pgbr;
using namespace std::chrono_literals;
using pgbr::test::ConfigFixture;
using pgbr::test::errorOf;
using pgbr::test::kAgentGlobal;

using Args = std::vector<std::string>;

namespace {

Config backupConfig(ConfigFixture& f) {
  f.writeConfig(kAgentGlobal +
                "repo1-cipher-type=aes-256-gcm\n"
                "repo1-cipher-pass=correct horse\n"
                "buffer-size=256KiB\n"
                "io-timeout=1.5\n"
                "[main]\n"
                "pg1-path=/var/lib/postgresql/15/main\n"
                "exclude=pg_log/\n"
                "exclude=tmp dir/\n");
  return f.agent({"--stanza=main", "--type=full", "--start-fast", "--no-resume", "backup"});
}

}  // namespace

TEST_CASE("typed getters return each type's value") {
  ConfigFixture f;
  Config config = backupConfig(f);
  CHECK(config.commandName() == "backup");
  CHECK(config.command().binary == Binary::Agent);
  CHECK(config.binary() == Binary::Agent);
  CHECK(config.stanza() == "main");
  CHECK(config.str("pg-path", 1) == "/var/lib/postgresql/15/main");
  CHECK(config.flag("start-fast"));
  CHECK_FALSE(config.flag("resume"));
  CHECK(config.integer("repo-host-port") == 8432);
  CHECK(config.bytes("buffer-size") == 256 * 1024);
  CHECK(config.duration("io-timeout") == 1500ms);
  CHECK(config.duration("archive-timeout") == 60s);
  CHECK(config.choice("type") == "full");
  CHECK(config.choice("compress-type") == "zstd");
  CHECK(config.list("exclude") == Args{"pg_log/", "tmp dir/"});
  CHECK(config.str("process-max") == "1");  // str() gives any scalar's canonical text
  CHECK(config.str("delta") == "n");
}

TEST_CASE("has() and isSet() tell unset, default and given values apart") {
  ConfigFixture f;
  Config config = backupConfig(f);
  CHECK_FALSE(config.has("checksum-page"));  // no default, not set
  CHECK(config.has("delta"));                // default
  CHECK_FALSE(config.isSet("delta"));
  CHECK(config.isSet("start-fast"));
  CHECK(errorOf(ErrorCode::OptionRequired, [&] { config.flag("checksum-page"); }) ==
        "option 'checksum-page' has no value for the backup command");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] { config.str("pg-path", 2); }) ==
        "option 'pg2-path' has no value for the backup command");
}

TEST_CASE("asking for an unknown option, a wrong type, a wrong index or another command's option is a bug") {
  ConfigFixture f;
  Config config = backupConfig(f);
  CHECK(errorOf(ErrorCode::Internal, [&] { config.str("no-such-option"); }) ==
        "option 'no-such-option' is not in the option table");
  CHECK(errorOf(ErrorCode::Internal, [&] { config.integer("delta"); }) ==
        "option 'delta' is of type boolean, not integer");
  CHECK(errorOf(ErrorCode::Internal, [&] { config.list("tablespace-map"); }) ==
        "option 'tablespace-map' is not valid for command 'backup'");
  CHECK(errorOf(ErrorCode::Internal, [&] { config.str("pg-path", 9); }) == "option 'pg-path' has no index 9");
  CHECK(errorOf(ErrorCode::Internal, [&] { config.flag("delta", 2); }) ==
        "option 'delta' is not indexed (index 2 asked)");
}

TEST_CASE("sources say where each value came from") {
  ConfigFixture f;
  Config config = backupConfig(f);
  CHECK(config.source("start-fast").describe() == "on the command line");
  CHECK(config.source("pg-path").describe() == "in " + f.configPath() + ":11");
  CHECK(config.source("delta").describe() == "by default");
  CHECK(config.describe("buffer-size") == "option 'buffer-size' (in " + f.configPath() + ":8)");
  CHECK(config.describe("pg-path", 2) == "option 'pg2-path' (not set)");
  ValueSource env{.kind = ValueSource::Kind::Environment, .where = "PGBR_X", .envRef = "PASS"};
  CHECK(env.describe() == "in environment variable PGBR_X (ENV:PASS)");
}

TEST_CASE("the redacted options show what was given, never a secret, and no defaults") {
  ConfigFixture f;
  Config config = backupConfig(f);
  std::string options = config.redactedOptions();
  CHECK(options ==
        "--buffer-size=256KiB --config=" + f.configPath() +
            " --exclude=pg_log/ --exclude=\"tmp dir/\" --io-timeout=1.5 "
            "--pg1-path=/var/lib/postgresql/15/main --repo1-cipher-pass=<redacted> --repo1-cipher-type=aes-256-gcm "
            "--repo1-host=backup.example.com --repo1-host-ca-file=/etc/pgbr/ca.crt "
            "--repo1-host-cert-file=/etc/pgbr/agent.crt --repo1-host-key-file=/etc/pgbr/agent.key --no-resume "
            "--stanza=main --start-fast --type=full");
  CHECK(options.find("correct horse") == std::string::npos);
}

TEST_CASE("the command begin line names the command, version, arguments and redacted options") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  f.env["PGBR_REPO1_CIPHER_PASS"] = "hunter2";
  f.env["PGBR_REPO1_CIPHER_TYPE"] = "aes-256-gcm";
  Config config = f.agent({"--stanza=main", "archive-push", "pg_wal/000000010000000000000001"});
  std::string line = commandBeginMessage(config);
  CHECK(line.starts_with(
      fmt::format("archive-push command begin {}: [pg_wal/000000010000000000000001] ", pgbrVersion())));
  CHECK(line.find("--repo1-cipher-pass=<redacted>") != std::string::npos);
  CHECK(line.find("hunter2") == std::string::npos);
  CHECK(line.ends_with("--stanza=main"));
  Config help = parseConfig(Binary::Agent, Args{"version"}, {});
  CHECK(commandBeginMessage(help) == fmt::format("version command begin {}", pgbrVersion()));
}

TEST_CASE("values() lists every value in display-name order, pg2 after pg1") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg2-path=/b\npg2-host=standby\npg1-path=/a\n");
  Config config = f.agent({"--stanza=main", "backup"});
  std::vector<std::string> names;
  for (const OptionValue* value : config.values()) names.push_back(optionDisplayName(*value->def, value->index));
  CHECK(std::is_sorted(names.begin(), names.end()));
  auto at = [&](std::string_view name) { return std::find(names.begin(), names.end(), name) - names.begin(); };
  CHECK(at("pg1-path") < at("pg2-host"));
  CHECK(at("pg2-port") < at("repo1-host"));
}
