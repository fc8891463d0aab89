#include "common/config/ini.h"

#include "common/error.h"
#include "test/common/config/fixture.h"

#include <doctest/doctest.h>

using namespace pgbr;
using pgbr::test::errorOf;

TEST_CASE("sections, entries, comments and blank lines") {
  IniFile ini = parseIni(
      "# comment\n\n[global]\n  repo1-host = backup  \n\t# indented comment\n[main:backup]\n"
      "exclude=a\nexclude=b\nrecovery-option=a=b=c\n",
      "f.conf");
  REQUIRE(ini.sections.size() == 2);
  CHECK(ini.sections[0].name == "global");
  CHECK(ini.sections[0].where.line == 3);
  CHECK(ini.sections[1].name == "main:backup");
  REQUIRE(ini.entries.size() == 4);
  CHECK(ini.entries[0].section == "global");
  CHECK(ini.entries[0].key == "repo1-host");
  CHECK(ini.entries[0].value == "backup");
  CHECK(ini.entries[0].where.file == "f.conf");
  CHECK(ini.entries[0].where.line == 4);
  CHECK(ini.entries[1].section == "main:backup");
  CHECK(ini.entries[1].where.line == 7);
  CHECK(ini.entries[3].value == "a=b=c");
}

TEST_CASE("Windows line ends and a value that is empty or contains # are kept as written") {
  IniFile ini = parseIni("[global]\r\nlog-path=/var/log/pgbr\r\nx=\ny=a#b\n", "f.conf");
  REQUIRE(ini.entries.size() == 3);
  CHECK(ini.entries[0].value == "/var/log/pgbr");
  CHECK(ini.entries[1].value.empty());
  CHECK(ini.entries[2].value == "a#b");
}

TEST_CASE("a malformed header names the file and line") {
  CHECK(errorOf(ErrorCode::ConfigInvalid, [] { parseIni("[global]\n[main\n", "f.conf"); }) ==
        "f.conf:2: malformed section header '[main': expected [global], [<stanza>] or [<section>:<command>]");
  CHECK(errorOf(ErrorCode::ConfigInvalid, [] { parseIni("[ ]\n", "f.conf"); }).starts_with("f.conf:1: malformed"));
}

TEST_CASE("a line that is not key=value names the file and line") {
  CHECK(errorOf(ErrorCode::ConfigInvalid, [] { parseIni("[global]\n\nstart-fast\n", "f.conf"); }) ==
        "f.conf:3: malformed line 'start-fast': expected <option>=<value>, a [section] header or a # comment");
  CHECK(errorOf(ErrorCode::ConfigInvalid, [] { parseIni("[global]\n=y\n", "f.conf"); }).starts_with("f.conf:2:"));
}

TEST_CASE("an entry before any section header is an error") {
  CHECK(errorOf(ErrorCode::ConfigInvalid, [] { parseIni("log-path=/x\n[global]\n", "f.conf"); }) ==
        "f.conf:1: 'log-path=/x' is outside any section: put options under [global] or a [<stanza>] header");
}

TEST_CASE("an unreadable file is a configuration error naming it") {
  pgbr::test::TempDir dir;
  auto missing = (dir / "missing.conf").string();
  CHECK(errorOf(ErrorCode::ConfigInvalid, [&] { readIni(missing); }) ==
        "cannot open configuration file '" + missing + "': No such file or directory");
  CHECK(errorOf(ErrorCode::ConfigInvalid, [&] { readIni(dir.path()); }).starts_with("cannot read configuration file"));
  pgbr::test::writeFile(dir / "ok.conf", "[global]\nlog-path=/x\n");
  CHECK(readIni(dir / "ok.conf").entries.at(0).where.file == (dir / "ok.conf").string());
}
