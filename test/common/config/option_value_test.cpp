#include "common/config/option_value.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace std::chrono_literals;

namespace {

CheckedValue check(std::string_view option, std::string_view value, std::string_view command = "backup") {
  return checkOptionValue(*findOption(option), command, value);
}

}  // namespace

TEST_CASE("booleans are y or n, nothing else") {
  CHECK(check("delta", "y").ok());
  CHECK(check("delta", "n").ok());
  CHECK(check("delta", "yes").problem == "expected y or n");
  CHECK(check("delta", "Y").problem == "expected y or n");
  CHECK(check("delta", "").problem == "expected y or n");
  CHECK(parseBool("y") == true);
  CHECK(parseBool("n") == false);
  CHECK(parseBool("true") == std::nullopt);
}

TEST_CASE("integers are checked against their range") {
  CHECK(check("process-max", "1").ok());
  CHECK(check("process-max", "64").ok());
  CHECK(check("process-max", "65").problem == "expected an integer from 1 to 64");
  CHECK(check("process-max", "0").problem == "expected an integer from 1 to 64");
  CHECK(check("process-max", "4x").problem == "expected an integer from 1 to 64");
  CHECK(check("process-max", " 4").problem == "expected an integer from 1 to 64");
  CHECK(check("compress-level", "-7").ok());
  CHECK(check("compress-level", "-8").problem == "expected an integer from -7 to 22");
  CHECK(parseInteger("-12") == -12);
  CHECK(parseInteger("99999999999999999999") == std::nullopt);
}

TEST_CASE("sizes take binary units and are checked against their range") {
  CHECK(check("buffer-size", "256KiB").ok());
  CHECK(check("buffer-size", "16MiB").ok());
  CHECK(check("buffer-size", "32MiB").problem == "expected a size such as 512, 256KiB or 64MiB from 16KiB to 16MiB");
  CHECK(check("buffer-size", "1 parsec").problem.starts_with("expected a size"));
  CHECK(check("archive-push-queue-max", "1TiB", "archive-push").ok());
}

TEST_CASE("times are seconds with at most three decimals") {
  CHECK(parseSeconds("60") == 60000ms);
  CHECK(parseSeconds("1.5") == 1500ms);
  CHECK(parseSeconds("0.001") == 1ms);
  CHECK(parseSeconds("0.25") == 250ms);
  CHECK(parseSeconds("1.") == std::nullopt);
  CHECK(parseSeconds(".5") == std::nullopt);
  CHECK(parseSeconds("1.2345") == std::nullopt);
  CHECK(parseSeconds("-1") == std::nullopt);
  CHECK(parseSeconds("1e3") == std::nullopt);
  CHECK(parseSeconds("") == std::nullopt);
  CHECK(check("io-timeout", "0.1").ok());
  CHECK(check("io-timeout", "0.05").problem == "expected seconds such as 60 or 1.5 from 0.1 to 3600");
  CHECK(check("io-timeout", "3600.001").problem == "expected seconds such as 60 or 1.5 from 0.1 to 3600");
}

TEST_CASE("paths are absolute and lose trailing slashes") {
  CHECK(check("pg-path", "/var/lib/pg/").value == "/var/lib/pg");
  CHECK(check("pg-path", "/").value == "/");
  CHECK(check("pg-path", "//").value == "/");
  CHECK(check("pg-path", "var/lib/pg").problem == "expected an absolute path");
}

TEST_CASE("enum values depend on the command when the option says so") {
  CHECK(check("type", "full", "backup").ok());
  CHECK(check("type", "time", "backup").problem == "expected one of: full, diff, incr");
  CHECK(check("type", "time", "restore").ok());
  CHECK(check("type", "full", "restore").problem ==
        "expected one of: default, immediate, time, xid, lsn, name, standby, preserve, none");
  CHECK(check("compress-type", "ZSTD").problem == "expected one of: none, zstd, lz4, bz2, gz");
}

TEST_CASE("map items are key=value with the value free to contain '='") {
  CHECK(check("recovery-option", "primary_conninfo = host=db1 user=r", "restore").value ==
        "primary_conninfo=host=db1 user=r");
  CHECK(check("tablespace-map", "ts1=/mnt/ts1", "restore").ok());
  CHECK(check("tablespace-map", "ts1", "restore").problem == "expected <key>=<value>");
  CHECK(check("tablespace-map", "=/mnt", "restore").problem == "expected <key>=<value>");
  auto item = splitMapItem(" a = b=c ");
  REQUIRE(item);
  CHECK(item->first == "a");
  CHECK(item->second == "b=c");
  CHECK(splitMapItem("novalue") == std::nullopt);
}

TEST_CASE("tls-server-auth values are a client name and stanzas, or a client name and *") {
  CHECK(check("tls-server-auth", "db1.example.com=main", "server").ok());
  CHECK(check("tls-server-auth", "db1=main,billing", "server").ok());
  CHECK(check("tls-server-auth", "admin=*", "server").ok());
  CHECK(check("tls-server-auth", "db1=main,,x", "server")
            .problem.starts_with(
                "expected <client-cn>=<stanza>[,<stanza>...] or <client-cn>=*, and '' is not a stanza name"));
  CHECK(check("tls-server-auth", "db1=ma in", "server").problem.find("'ma in' is not a stanza name") !=
        std::string::npos);
}

TEST_CASE("stanza names are restricted to what is safe in file names and section headers") {
  CHECK(check("stanza", "main").ok());
  CHECK(check("stanza", "pg-15_main.eu").ok());
  CHECK_FALSE(check("stanza", "-main").ok());
  CHECK_FALSE(check("stanza", "a/b").ok());
  CHECK_FALSE(check("stanza", "a:b").ok());
  CHECK_FALSE(check("stanza", std::string(65, 'a')).ok());
  CHECK(check("stanza", "global").problem == "'global' is the name of the section shared by all stanzas");
}

TEST_CASE("target-timeline takes current, latest or a number") {
  CHECK(check("target-timeline", "current", "restore").ok());
  CHECK(check("target-timeline", "latest", "restore").ok());
  CHECK(check("target-timeline", "3", "restore").ok());
  CHECK(check("target-timeline", "0x1A", "restore").ok());
  CHECK_FALSE(check("target-timeline", "newest", "restore").ok());
  CHECK_FALSE(check("target-timeline", "0x", "restore").ok());
}

TEST_CASE("strings and list items only need to be non-empty") {
  CHECK(check("exclude", "pg_log/").ok());
  CHECK(check("exclude", "").problem == "expected a value");
  CHECK(check("pg-user", "backup").ok());
}
