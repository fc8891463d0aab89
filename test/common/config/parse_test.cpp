#include "common/config/parse.h"

#include "test/common/config/fixture.h"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace pgbr;
using pgbr::test::ConfigFixture;
using pgbr::test::errorOf;
using pgbr::test::kAgentGlobal;
using pgbr::test::kServerGlobal;
using pgbr::test::writeFile;

using Args = std::vector<std::string>;

// ----------------------------------------------------------------------------------------------
// Precedence

TEST_CASE(
    "precedence: command line > environment > [stanza:command] > [stanza] > [global:command] > [global] > default") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal +
                "log-level-console=error\n"  // line 6
                "[global:expire]\n"
                "log-level-console=info\n"  // line 8
                "[main]\n"
                "log-level-console=detail\n"  // line 10
                "[main:expire]\n"
                "log-level-console=debug\n");  // line 12
  auto level = [&](Args args) {
    Config config = f.agent(args);
    return std::string(config.choice("log-level-console")) + " " + config.source("log-level-console").describe();
  };
  std::string at = " in " + f.configPath() + ":";

  f.env["PGBR_LOG_LEVEL_CONSOLE"] = "trace";
  CHECK(level({"--stanza=main", "--log-level-console=off", "expire"}) == "off on the command line");
  CHECK(level({"--stanza=main", "expire"}) == "trace in environment variable PGBR_LOG_LEVEL_CONSOLE");
  f.env.clear();
  CHECK(level({"--stanza=main", "expire"}) == "debug" + at + "12");
  CHECK(level({"--stanza=main", "verify"}) == "detail" + at + "10");
  CHECK(level({"--stanza=other", "expire"}) == "info" + at + "8");
  CHECK(level({"--stanza=other", "verify"}) == "error" + at + "6");
  f.writeConfig(kAgentGlobal);
  CHECK(level({"--stanza=other", "verify"}) == "warn by default");
}

TEST_CASE("a list from a higher level replaces the lower one instead of adding to it") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "exclude=a/\nexclude=b/\n[main]\npg1-path=/pg\n");
  CHECK(f.agent({"--stanza=main", "backup"}).list("exclude") == Args{"a/", "b/"});
  f.writeConfig(kAgentGlobal + "exclude=a/\nexclude=b/\n[main]\npg1-path=/pg\nexclude=c/\n");
  CHECK(f.agent({"--stanza=main", "backup"}).list("exclude") == Args{"c/"});
  CHECK(f.agent({"--stanza=main", "--exclude=d", "--exclude", "e", "backup"}).list("exclude") == Args{"d", "e"});
  f.env["PGBR_EXCLUDE"] = "x:y";
  CHECK(f.agent({"--stanza=main", "backup"}).list("exclude") == Args{"x", "y"});
}

TEST_CASE("the stanza comes from the command line or PGBR_STANZA and selects its sections") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/srv/main\n[other]\npg1-path=/srv/other\n");
  CHECK(f.agent({"--stanza", "main", "check"}).str("pg-path") == "/srv/main");
  f.env["PGBR_STANZA"] = "other";
  Config config = f.agent({"check"});
  CHECK(config.stanza() == "other");
  CHECK(config.str("pg-path") == "/srv/other");
  CHECK(f.agent({"--stanza=main", "check"}).str("pg-path") == "/srv/main");
}

TEST_CASE("a stanza named like global is a stanza, not the global section") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[global_qa]\npg1-path=/srv/qa\n[global-x:check]\npg1-path=/srv/x\n");
  CHECK(f.agent({"--stanza=global_qa", "check"}).str("pg-path") == "/srv/qa");
  CHECK(f.agent({"--stanza=global-x", "check"}).str("pg-path") == "/srv/x");
}

// ----------------------------------------------------------------------------------------------
// Command line forms

TEST_CASE("options may come before or after the command, as --name=value or --name value") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\n");
  Config config = f.agent({"--stanza", "main", "archive-get", "000000010000000000000001", "--process-max", "4",
                           "pg_wal/RECOVERYXLOG", "--archive-timeout=1.5"});
  CHECK(config.commandName() == "archive-get");
  CHECK(config.args() == Args{"000000010000000000000001", "pg_wal/RECOVERYXLOG"});
  CHECK(config.integer("process-max") == 4);
  CHECK(config.duration("archive-timeout") == std::chrono::milliseconds(1500));
}

TEST_CASE("-- ends the options, so an argument may start with a dash") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  Config config = f.agent({"--stanza=main", "archive-push", "--", "--odd-name"});
  CHECK(config.args() == Args{"--odd-name"});
}

TEST_CASE("booleans: --name, --no-name and --name=y|n") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "delta=y\n[main]\npg1-path=/pg\n");
  Args base{"--stanza=main", "backup"};
  auto delta = [&](std::string option) {
    Args args = base;
    if (!option.empty()) args.push_back(option);
    return f.agent(args).flag("delta");
  };
  CHECK(delta("") == true);
  CHECK(delta("--no-delta") == false);
  CHECK(delta("--delta=n") == false);
  CHECK(delta("--delta") == true);
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] { delta("--delta=yes"); }) ==
        "invalid value 'yes' for option 'delta' on the command line: expected y or n");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] { delta("--no-delta=y"); }) ==
        "option '--no-delta' takes no value: write it without '=y'");
}

TEST_CASE("--no- is only for y/n options and --no-config") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--no-pg1-path", "backup"});
        }) == "option 'pg1-path' cannot be negated: --no- is only for y/n options");
}

TEST_CASE("--no-config reads no configuration file") {
  ConfigFixture f;
  f.writeConfig("this is not a configuration file");
  Args args{"--no-config",
            "--repo1-host=b",
            "--repo1-host-ca-file=/ca",
            "--repo1-host-cert-file=/c",
            "--repo1-host-key-file=/k",
            "--stanza=main",
            "expire"};
  Config config = parseConfig(Binary::Agent, args, f.env);
  CHECK_FALSE(config.has("config"));
  CHECK(config.redactedOptions().starts_with("--no-config "));
}

TEST_CASE("--reset-name restores the default whatever the files and environment say") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "repo1-host-port=9000\ndelta=y\n[main]\npg1-path=/pg\n");
  f.env["PGBR_PROCESS_MAX"] = "8";
  Config config =
      f.agent({"--stanza=main", "--reset-repo1-host-port", "--reset-delta", "--reset-process-max", "backup"});
  CHECK(config.integer("repo-host-port") == 8432);
  CHECK(config.source("repo-host-port").kind == ValueSource::Kind::Default);
  CHECK(config.flag("delta") == false);
  CHECK(config.integer("process-max") == 1);
  CHECK_FALSE(config.isSet("delta"));
}

TEST_CASE("--reset of an option without default leaves it unset, so a required one is missing") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] {
          f.agent({"--stanza=main", "--reset-pg1-path", "backup"});
        }).starts_with("option 'pg1-path' is required for the backup command"));
}

TEST_CASE("--reset cannot be combined with a value, given a value or used on command-line-only options") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--delta", "--reset-delta", "backup"});
        }) == "option 'delta' is both set and reset on the command line: keep one");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--reset-delta=y", "backup"});
        }) == "option '--reset-delta' takes no value: write it without '=y'");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--reset-stanza", "backup"});
        }) == "option 'stanza' cannot be reset: it is never read from a configuration file, so leave it out instead");
}

TEST_CASE("an option without its value at the end of the command line is an error") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] {
          f.agent({"backup", "--stanza"});
        }) == "option 'stanza' on the command line needs a value: --stanza=<value>");
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] {
          f.agent({"backup", "--stanza", "--delta"});
        }) == "option 'stanza' on the command line needs a value: --stanza=<value>");
}

TEST_CASE("single-dash options are not options pgbr knows") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"-s", "backup"});
        }) == "unknown option '-s' on the command line: options are written --<name> or --<name>=<value>");
}

// ----------------------------------------------------------------------------------------------
// ENV: values and the environment

TEST_CASE("ENV:<name> reads the value from the environment, wherever it is written") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal +
                "repo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=ENV:REPO_PASS\n[main]\npg1-path=/pg\n");
  f.env["REPO_PASS"] = "s3cret";
  Config config = f.agent({"--stanza=main", "backup"});
  CHECK(config.str("repo-cipher-pass") == "s3cret");
  CHECK(config.source("repo-cipher-pass").describe() == "in " + f.configPath() + ":7 (ENV:REPO_PASS)");
  f.env["PGBR_PROCESS_MAX"] = "ENV:WORKERS";
  f.env["WORKERS"] = "3";
  CHECK(f.agent({"--stanza=main", "backup"}).integer("process-max") == 3);
  f.env["DIR"] = "/from/env";
  CHECK(f.agent({"--stanza=main", "--pg1-path=ENV:DIR", "backup"}).str("pg-path") == "/from/env");
}

TEST_CASE("an ENV: value naming an unset variable is an error naming the option, file and line") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal +
                "repo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=ENV:REPO_PASS\n[main]\npg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionInvalidValue,
                [&] {
                  f.agent({"--stanza=main", "backup"});
                }) ==
        "option 'repo1-cipher-pass' in " + f.configPath() +
            ":7 is ENV:REPO_PASS, but environment variable 'REPO_PASS' is not set: export it, or give the value "
            "directly");
  CHECK(errorOf(ErrorCode::OptionInvalidValue,
                [&] {
                  f.agent({"--stanza=ENV:", "backup"});
                }) ==
        "option 'stanza' on the command line is ENV:, but environment variable '' is not set: export it, or give "
        "the value directly");
}

TEST_CASE("a value read through ENV: is checked like any other") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "process-max=ENV:WORKERS\n");
  f.env["WORKERS"] = "many";
  CHECK(errorOf(ErrorCode::OptionInvalidValue,
                [&] {
                  f.agent({"--stanza=main", "archive-push", "x"});
                }) == "invalid value 'many' for option 'process-max' in " + f.configPath() +
                          ":6 (ENV:WORKERS): expected an integer from 1 to 64");
}

TEST_CASE("environment variables set any option; near misses are warnings, others' options are ignored") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  f.env = {{"PGBR_REPO1_CIPHER_PASS", "pw"},
           {"PGBR_REPO1_CIPHER_TYPE", "aes-256-gcm"},
           {"PGBR_TLS_SERVER_PORT", "1"},   // pgbr-repo's
           {"PGBR_DELTA", "y"},             // not an archive-push option
           {"PGBR_REPO1_CIPHER_PAS", "x"},  // a typo: reported
           {"PGBR_BIN_DIR", "/usr/bin"},    // someone else's variable: left alone
           {"HOME", "/root"}};
  Config config = f.agent({"--stanza=main", "archive-push", "x"});
  CHECK(config.str("repo-cipher-pass", 1) == "pw");
  CHECK(config.source("repo-cipher-pass", 1).describe() == "in environment variable PGBR_REPO1_CIPHER_PASS");
  REQUIRE(config.warnings().size() == 1);
  CHECK(config.warnings()[0] ==
        "unknown option 'repo1-cipher-pas' in environment variable PGBR_REPO1_CIPHER_PAS: did you mean "
        "'repo1-cipher-pass'?");
}

TEST_CASE("bad values and double settings in the environment name the variable") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  f.env["PGBR_PROCESS_MAX"] = "0";
  CHECK(errorOf(ErrorCode::OptionInvalidValue,
                [&] {
                  f.agent({"--stanza=main", "archive-push", "x"});
                }) ==
        "invalid value '0' for option 'process-max' in environment variable PGBR_PROCESS_MAX: expected an integer "
        "from 1 to 64");
  f.env = {{"PGBR_PG_PATH", "/a"}, {"PGBR_PG1_PATH", "/b"}};
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "archive-push", "x"});
        }) == "option 'pg1-path' is set by both environment variables PGBR_PG1_PATH and PGBR_PG_PATH: unset one");
}

// ----------------------------------------------------------------------------------------------
// Indexed options, lists and maps

TEST_CASE("indexed options: any index, unindexed means 1, defaults for every index in use") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal +
                "[main]\npg-path=/srv/primary\npg2-path=/srv/standby\npg2-host=standby1\npg2-port=5433\n");
  Config config = f.agent({"--stanza=main", "--backup-standby=y", "backup"});
  CHECK(config.indexes("pg") == std::vector<unsigned>{1, 2});
  CHECK(config.indexes("repo") == std::vector<unsigned>{1});
  CHECK(config.str("pg-path", 1) == "/srv/primary");
  CHECK(config.str("pg-path") == "/srv/primary");
  CHECK(config.str("pg-path", 2) == "/srv/standby");
  CHECK(config.integer("pg-port", 1) == 5432);
  CHECK(config.integer("pg-port", 2) == 5433);
  CHECK(config.str("pg-database", 2) == "postgres");
  CHECK(config.str("pg-host", 2) == "standby1");
  CHECK_FALSE(config.has("pg-host", 1));
}

TEST_CASE("an index in use needs its own required options") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/srv/primary\npg2-host=standby1\n");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] {
          f.agent({"--stanza=main", "backup"});
        }).starts_with("option 'pg2-path' is required for the backup command: set pg2-path=<value> in [main] of "));
}

TEST_CASE("the same indexed option written with and without index is a duplicate") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg-path=/a\npg1-path=/b\n");
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({"--stanza=main", "backup"});
                }) == "option 'pg1-path' in " + f.configPath() + ":8 is already set in section [main] at " +
                          f.configPath() + ":7: remove one of them (only list and map options repeat)");
}

TEST_CASE("maps collect key=value items from repeated lines or options") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\ntablespace-map=ts1=/mnt/ts1\ntablespace-map=ts2 = /mnt/ts2\n");
  Config config = f.agent({"--stanza=main", "--recovery-option=primary_conninfo=host=db1 user=r", "--recovery-option",
                           "recovery_min_apply_delay=5min", "restore"});
  CHECK(config.map("tablespace-map") == std::map<std::string, std::string>{{"ts1", "/mnt/ts1"}, {"ts2", "/mnt/ts2"}});
  CHECK(config.map("recovery-option") == std::map<std::string, std::string>{{"primary_conninfo", "host=db1 user=r"},
                                                                            {"recovery_min_apply_delay", "5min"}});
}

TEST_CASE("a map key given twice is an error naming the key") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\ntablespace-map=ts1=/a\ntablespace-map=ts1=/b\n");
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] {
          f.agent({"--stanza=main", "restore"});
        }) == "option 'tablespace-map' in " + f.configPath() + ":9 sets key 'ts1' a second time: give each key once");
}

TEST_CASE("the server's tls-server-auth is a repeatable map of client names to stanzas") {
  ConfigFixture f;
  f.writeConfig(kServerGlobal + "tls-server-auth=db2.example.com=billing,hr\ntls-server-auth=admin=*\n");
  Config config = f.repo({"server"});
  CHECK(config.map("tls-server-auth") == std::map<std::string, std::string>{{"admin", "*"},
                                                                            {"db1.example.com", "main"},
                                                                            {"db2.example.com", "billing,hr"}});
  CHECK(config.str("tls-server-address") == "localhost");
  CHECK(config.integer("tls-server-port") == 8432);
  CHECK(config.str("repo-path") == "/var/lib/pgbr");
}

// ----------------------------------------------------------------------------------------------
// Errors: unknown options and commands

TEST_CASE("an unknown option on the command line gets a suggestion") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--repo1-hots=x", "backup"});
        }) == "unknown option 'repo1-hots' on the command line: did you mean 'repo1-host'?");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--no-detla", "backup"});
        }) == "unknown option 'detla' on the command line: did you mean 'delta'?");
}

TEST_CASE("an unknown option in a file names the file and line and gets a suggestion") {
  ConfigFixture f;
  f.writeConfig("[global]\n\nrepo1-hots=backup\n");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "backup"});
        }) == "unknown option 'repo1-hots' in " + f.configPath() + ":3: did you mean 'repo1-host'?");
}

TEST_CASE("unknown options are found in every section, not only the ones this command reads") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[other]\npg1-pth=/x\n[global:server]\ntls-server-prot=1\n");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "expire"});
        }) == "unknown option 'pg1-pth' in " + f.configPath() + ":7: did you mean 'pg1-path'?");
  f.writeConfig(kAgentGlobal + "[global:server]\ntls-server-prot=1\n");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "expire"});
        }).starts_with("unknown option 'tls-server-prot' in " + f.configPath() + ":7"));
}

TEST_CASE("an unknown command gets a suggestion; another program's command says whose it is") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::CommandInvalid, [&] { f.agent({"bakup"}); }) ==
        "unknown command 'bakup': did you mean 'backup'?");
  CHECK(errorOf(ErrorCode::CommandInvalid, [&] { f.agent({"server"}); }) ==
        "command 'server' belongs to pgbr-repo, not pgbr-agent");
}

TEST_CASE("the number of positional arguments is checked against the command") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::CommandInvalid,
                [&] {
                  f.agent({"--stanza=main", "archive-get", "000000010000000000000001"});
                }) ==
        "command 'archive-get' expects <wal-file> <destination>, but was given 1 argument: see 'pgbr-agent help "
        "archive-get'");
  CHECK(
      errorOf(ErrorCode::CommandInvalid, [&] {
        f.agent({"--stanza=main", "archive-push"});
      }) == "command 'archive-push' expects <wal-path>, but was given 0 arguments: see 'pgbr-agent help archive-push'");
  CHECK(errorOf(ErrorCode::CommandInvalid, [&] {
          f.agent({"--stanza=main", "backup", "full"});
        }) == "command 'backup' takes no arguments, but was given 'full'");
}

// ----------------------------------------------------------------------------------------------
// Errors: values, requirements, places

TEST_CASE("a bad value in a file names the option, file, line and what is allowed") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "compress-type=zip\n");
  CHECK(errorOf(ErrorCode::OptionInvalidValue,
                [&] {
                  f.agent({"--stanza=main", "archive-push", "x"});
                }) == "invalid value 'zip' for option 'compress-type' in " + f.configPath() +
                          ":6: expected one of: none, zstd, lz4, bz2, gz");
}

TEST_CASE("a bad value on the command line says so and what is allowed") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] {
          f.agent({"--stanza=main", "--type=time", "backup"});
        }) == "invalid value 'time' for option 'type' on the command line: expected one of: full, diff, incr");
  CHECK(errorOf(ErrorCode::OptionInvalidValue, [&] {
          f.agent({"--stanza=main", "--pg1-path=pg", "backup"});
        }) == "invalid value 'pg' for option 'pg1-path' on the command line: expected an absolute path");
}

TEST_CASE("a bad value of a secret option never shows the value") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "repo1-cipher-pass=\n");
  std::string message = errorOf(ErrorCode::OptionInvalidValue, [&] {
    f.agent({"--stanza=main", "archive-push", "x"});
  });
  CHECK(message == "invalid value for option 'repo1-cipher-pass' in " + f.configPath() + ":6: expected a value");
}

TEST_CASE("a missing required option says where to set it") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionRequired, [&] { f.agent({"backup"}); }) ==
        "option 'stanza' is required for the backup command: give --stanza=<name>");
  CHECK(errorOf(ErrorCode::OptionRequired,
                [&] {
                  f.agent({"--stanza=main", "expire"});
                }) ==
        "option 'repo1-host' is required for the expire command: set repo1-host=<value> in [global] or [main] of " +
            f.configPath() + ", or give --repo1-host=<value>");
  f.writeConfig(kAgentGlobal + "[mian]\npg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionRequired,
                [&] {
                  f.agent({"--stanza=main", "backup"});
                }) ==
        "option 'pg1-path' is required for the backup command: set pg1-path=<value> in [main] of " + f.configPath() +
            ", or give --pg1-path=<value> (no configuration file has a [main] section: is the stanza name right?)");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] { f.repo({"server"}); }) ==
        "option 'tls-server-ca-file' is required for the server command: set tls-server-ca-file=<value> in [global] "
        "of " +
            f.configPath() + ", or give --tls-server-ca-file=<value>");
}

TEST_CASE("an option not valid for the command is an error on the command line, ignored in files") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--delta", "archive-push", "x"});
        }) == "option 'delta' is not valid for the archive-push command; it applies to: backup, restore");
  f.writeConfig(kAgentGlobal + "delta=y\n[main]\nstart-fast=y\n");
  CHECK(f.agent({"--stanza=main", "archive-push", "x"}).commandName() == "archive-push");
}

TEST_CASE("an option of the other program is ignored in files and an error on the command line") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + kServerGlobal +
                "tls-server-port=9432\nrepo1-path=/backup\n[global:server]\nprocess-max=8\n");
  Config agent = f.agent({"--stanza=main", "archive-push", "x"});
  CHECK(agent.integer("process-max") == 1);
  Config server = f.repo({"server"});
  CHECK(server.integer("tls-server-port") == 9432);
  CHECK(server.integer("process-max") == 8);
  CHECK(server.str("repo-path") == "/backup");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--tls-server-port=1", "check"});
        }) == "option 'tls-server-port' is for pgbr-repo, not pgbr-agent: set it in that program's configuration");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.repo({"--pg1-path=/pg", "server"});
        }) == "option 'pg1-path' is for pgbr-agent, not pgbr-repo: set it in that program's configuration");
}

TEST_CASE("command-line-only options in a file are an error in either program") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + kServerGlobal + "stanza=main\n");
  std::string expected = "option 'stanza' in " + f.configPath() +
                         ":11 may only be given on the command line (--stanza=...) or in the environment "
                         "(PGBR_STANZA): remove it from the file";
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] { f.agent({"--stanza=main", "expire"}); }) == expected);
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] { f.repo({"server"}); }) == expected);
}

TEST_CASE("options in sections that may not hold them name the section and where to move them") {
  ConfigFixture f;
  f.writeConfig(kServerGlobal + "[main]\ntls-server-port=1\n");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] { f.repo({"server"}); }) ==
        "option 'tls-server-port' in " + f.configPath() +
            ":7 is not allowed in stanza section [main]: it applies to every stanza, so move it to [global]");
  f.writeConfig(kAgentGlobal + "pg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({"--stanza=main", "expire"});
                }) ==
        "option 'pg1-path' in " + f.configPath() +
            ":6 is not allowed in section [global]: it describes one stanza's cluster, so move it to that stanza's "
            "section, such as [main]");
}

TEST_CASE("an option in a command section of a command that does not take it is an error") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[global:archive-push]\ndelta=y\n");
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({"--stanza=main", "expire"});
                }) ==
        "option 'delta' in " + f.configPath() +
            ":7 is not valid for the archive-push command of section [global:archive-push]; it applies to: backup, "
            "restore");
}

TEST_CASE("a duplicate non-list option is an error naming both lines") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "process-max=2\nprocess-max=3\n");
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({"--stanza=main", "archive-push", "x"});
                }) == "option 'process-max' in " + f.configPath() + ":7 is already set in section [global] at " +
                          f.configPath() + ":6: remove one of them (only list and map options repeat)");
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          f.agent({"--stanza=main", "--delta", "--no-delta", "backup"});
        }) == "option 'delta' is given more than once on the command line; only list and map options repeat");
}

TEST_CASE("malformed lines and sections reach the caller with file and line") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "start-fast\n");
  CHECK(errorOf(ErrorCode::ConfigInvalid, [&] {
          f.agent({"--stanza=main", "expire"});
        }).starts_with(f.configPath() + ":6: malformed line 'start-fast'"));
  f.writeConfig(kAgentGlobal + "[global:bakup]\n");
  CHECK(
      errorOf(ErrorCode::ConfigInvalid, [&] {
        f.agent({"--stanza=main", "expire"});
      }) == f.configPath() + ":6: section [global:bakup] names unknown command 'bakup': did you mean [global:backup]?");
  f.writeConfig(kAgentGlobal + "[main:backup:x]\n");
  CHECK(errorOf(ErrorCode::ConfigInvalid,
                [&] {
                  f.agent({"--stanza=main", "expire"});
                }) == f.configPath() +
                          ":6: malformed section [main:backup:x]: expected [global], [global:<command>], [<stanza>] "
                          "or [<stanza>:<command>]");
  f.writeConfig(kAgentGlobal + "[my stanza]\n");
  CHECK(errorOf(ErrorCode::ConfigInvalid, [&] {
          f.agent({"--stanza=main", "expire"});
        }).starts_with(f.configPath() + ":6: section [my stanza] does not name a stanza: "));
}

// ----------------------------------------------------------------------------------------------
// Dependencies

TEST_CASE("an option whose dependency does not hold is an error on the command line") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({"--stanza=main", "--target=x", "restore"});
                }) ==
        "option 'target' on the command line only applies when option 'type' is one of 'time', 'xid', 'lsn', "
        "'name', and it is 'default' (by default)");
  Config config = f.agent({"--stanza=main", "--type=time", "--target=2026-05-01 12:00:00+00", "restore"});
  CHECK(config.str("target") == "2026-05-01 12:00:00+00");
  CHECK(config.choice("target-action") == "pause");
  CHECK_FALSE(config.flag("target-exclusive"));
  CHECK(config.redactedOptions() ==
        "--config=" + f.configPath() +
            " --pg1-path=/pg --repo1-host=backup.example.com --repo1-host-ca-file=/etc/pgbr/ca.crt "
            "--repo1-host-cert-file=/etc/pgbr/agent.crt --repo1-host-key-file=/etc/pgbr/agent.key --stanza=main "
            "--target=\"2026-05-01 12:00:00+00\" --type=time");
}

TEST_CASE("a required option whose dependency holds must be given") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "[main]\npg1-path=/pg\n");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] {
          f.agent({"--stanza=main", "--type=xid", "restore"});
        }) == "option 'target' is required for the restore command: give --target=<value>");
  Config config = f.agent({"--stanza=main", "--type=immediate", "restore"});
  CHECK_FALSE(config.has("target"));
  CHECK(config.has("target-action"));
  CHECK_FALSE(config.has("target-exclusive"));
}

TEST_CASE("a file value whose dependency does not hold is left out, with what depends on it") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "spool-path=/spool\narchive-check=n\narchive-copy=y\n[main]\npg1-path=/pg\n");
  Config push = f.agent({"--stanza=main", "archive-push", "x"});
  CHECK_FALSE(push.has("spool-path"));
  CHECK(f.agent({"--stanza=main", "--archive-async", "archive-push", "x"}).str("spool-path") == "/spool");
  Config backup = f.agent({"--stanza=main", "backup"});
  CHECK_FALSE(backup.has("archive-copy"));
}

TEST_CASE("indexed dependencies follow their own index") {
  ConfigFixture f;
  f.writeConfig(kServerGlobal +
                "repo1-cipher-type=aes-256-gcm\nrepo2-type=s3\nrepo2-s3-bucket=b\n"
                "repo2-s3-endpoint=s3.eu-west-1.amazonaws.com\nrepo2-s3-region=eu-west-1\n");
  CHECK(errorOf(ErrorCode::OptionRequired, [&] {
          f.repo({"server"});
        }).starts_with("option 'repo1-cipher-pass' is required for the server command"));
  f.env["PGBR_REPO1_CIPHER_PASS"] = "pw";
  CHECK(errorOf(ErrorCode::OptionRequired, [&] {
          f.repo({"server"});
        }).starts_with("option 'repo2-s3-key' is required for the server command"));
  f.env["PGBR_REPO2_S3_KEY"] = "AKIA";
  f.env["PGBR_REPO2_S3_KEY_SECRET"] = "secret";
  Config config = f.repo({"server"});
  CHECK(config.indexes("repo") == std::vector<unsigned>{1, 2});
  CHECK(config.choice("repo-s3-uri-style", 2) == "host");
  CHECK_FALSE(config.has("repo-s3-uri-style", 1));
  CHECK_FALSE(config.has("repo-cipher-pass", 2));
}

// ----------------------------------------------------------------------------------------------
// Files

TEST_CASE("a configuration file named explicitly must exist") {
  ConfigFixture f;
  std::string missing = (f.dir() / "nope.conf").string();
  CHECK(errorOf(ErrorCode::ConfigInvalid,
                [&] {
                  parseConfig(Binary::Agent, Args{"--config=" + missing, "--stanza=main", "expire"}, f.env);
                }) ==
        "configuration file '" + missing +
            "' (given on the command line) does not exist: correct the path, or run without a file with --no-config");
  f.env["PGBR_CONFIG"] = missing;
  CHECK(errorOf(ErrorCode::ConfigInvalid, [&] {
          parseConfig(Binary::Agent, Args{"--stanza=main", "expire"}, f.env);
        }).find("(given in environment variable PGBR_CONFIG)") != std::string::npos);
}

TEST_CASE("include files are read after the main file in name order, only *.conf") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  writeFile(f.dir() / "conf.d" / "20-main.conf", "[main]\npg1-path=/srv/main\nexclude=b\n");
  writeFile(f.dir() / "conf.d" / "10-log.conf", "[global]\nlog-level-console=info\n[main]\nexclude=a\n");
  writeFile(f.dir() / "conf.d" / "30-ignored.conf.bak", "not ini");
  std::string include = "--config-include-path=" + (f.dir() / "conf.d").string();
  Config config = f.agent({include, "--stanza=main", "backup"});
  CHECK(config.choice("log-level-console") == "info");
  CHECK(config.str("pg-path") == "/srv/main");
  CHECK(config.list("exclude") == Args{"a", "b"});
  CHECK(config.source("pg-path").describe() == "in " + (f.dir() / "conf.d" / "20-main.conf").string() + ":2");
}

TEST_CASE("a key repeated in another include file's copy of a section is a duplicate") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal + "process-max=2\n");
  writeFile(f.dir() / "conf.d" / "a.conf", "[global]\nprocess-max=3\n");
  std::string include = "--config-include-path=" + (f.dir() / "conf.d").string();
  CHECK(errorOf(ErrorCode::OptionInvalid,
                [&] {
                  f.agent({include, "--stanza=main", "archive-push", "x"});
                }) == "option 'process-max' in " + (f.dir() / "conf.d" / "a.conf").string() +
                          ":2 is already set in section [global] at " + f.configPath() +
                          ":6: remove one of them (only list and map options repeat)");
}

TEST_CASE("an include directory named explicitly must exist; with --no-config only it is read") {
  ConfigFixture f;
  std::string dir = (f.dir() / "conf.d").string();
  CHECK(errorOf(ErrorCode::ConfigInvalid,
                [&] {
                  f.agent({"--config-include-path=" + dir, "--stanza=main", "expire"});
                }) == "configuration include directory '" + dir +
                          "' (given on the command line) does not exist: correct the path or leave the option out");
  f.writeConfig("not a config file");
  writeFile(f.dir() / "conf.d" / "agent.conf", kAgentGlobal);
  Config config =
      parseConfig(Binary::Agent, Args{"--no-config", "--config-include-path=" + dir, "--stanza=main", "expire"}, f.env);
  CHECK(config.str("repo-host") == "backup.example.com");
}

// ----------------------------------------------------------------------------------------------
// help and version

TEST_CASE("no command, help, --help and --version give the help and version commands without reading files") {
  ConfigFixture f;
  f.writeConfig("garbage that would fail to parse");
  CHECK(f.agent({}).commandName() == "help");
  Config help = f.agent({"--stanza=main", "--bogus-option", "backup", "--help"});
  CHECK(help.commandName() == "help");
  CHECK(help.args() == Args{"backup"});
  CHECK(f.agent({"help", "backup", "--help"}).args() == Args{"backup"});
  CHECK(f.agent({"--version"}).commandName() == "version");
  CHECK(f.repo({"server", "--help"}).args() == Args{"server"});
  CHECK(parseConfig(Binary::Agent, Args{"help", "restore", "type"}, f.env).args() == Args{"restore", "type"});
}

TEST_CASE("help takes no options") {
  ConfigFixture f;
  CHECK(errorOf(ErrorCode::OptionInvalid, [&] {
          parseConfig(Binary::Agent, Args{"help", "--stanza=main"}, f.env);
        }).starts_with("option 'stanza' is not valid for the help command"));
}

// ----------------------------------------------------------------------------------------------
// main()'s entry points

TEST_CASE("argc/argv parse like the argument list, and the process environment is read whole") {
  ConfigFixture f;
  f.writeConfig(kAgentGlobal);
  std::string config = "--config=" + f.configPath();
  const char* argv[] = {"pgbr-agent", config.c_str(), "--stanza=main", "archive-push", "pg_wal/x", nullptr};
  Config parsed = parseConfig(Binary::Agent, 5, argv, f.env);
  CHECK(parsed.commandName() == "archive-push");
  CHECK(parsed.args() == Args{"pg_wal/x"});
  ::setenv("PGBR_CONFIG_TEST_MARKER", "a=b", 1);
  Environment env = processEnvironment();
  ::unsetenv("PGBR_CONFIG_TEST_MARKER");
  CHECK(env.at("PGBR_CONFIG_TEST_MARKER") == "a=b");
}

TEST_CASE("--version wins over anything else on the line") {
  ConfigFixture f;
  Config config = f.agent({"backup", "--no-such-option", "--version"});
  CHECK(config.commandName() == "version");
  CHECK(config.args().empty());
}
