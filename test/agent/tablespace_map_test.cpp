#include "agent/tablespace_map.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::agent;

namespace {

std::vector<Tablespace> twoTablespaces() {
  return {{.oid = 16384, .name = "fast", .location = "/ssd/fast"},
          {.oid = 16390, .name = "archive", .location = "/hdd/old"}};
}

}  // namespace

TEST_CASE("tablespaces stay where they were unless mapped") {
  auto targets = mapTablespaces(twoTablespaces(), {}, std::nullopt);
  CHECK(targets == std::map<uint32_t, std::string>{{16384, "/ssd/fast"}, {16390, "/hdd/old"}});
}

TEST_CASE("tablespace-map takes a name or an OID and wins over tablespace-map-all") {
  auto targets = mapTablespaces(twoTablespaces(), {{"fast", "/new/fast/"}, {"16390", "/new/by-oid"}}, "/all");
  CHECK(targets == std::map<uint32_t, std::string>{{16384, "/new/fast"}, {16390, "/new/by-oid"}});
  targets = mapTablespaces(twoTablespaces(), {{"fast", "/new/fast"}}, "/all");
  CHECK(targets == std::map<uint32_t, std::string>{{16384, "/new/fast"}, {16390, "/all/archive"}});
}

TEST_CASE("mapping a tablespace the backup lacks names the ones it has") {
  CHECK_THROWS_WITH_AS(
      mapTablespaces(twoTablespaces(), {{"slow", "/x"}}, std::nullopt),
      "option 'tablespace-map': the backup has no tablespace 'slow' (it has fast (16384), archive (16390))", Error);
  CHECK_THROWS_WITH_AS(mapTablespaces({}, {{"slow", "/x"}}, std::nullopt),
                       "option 'tablespace-map': the backup has no tablespace 'slow' (it has no tablespaces)", Error);
}

TEST_CASE("a relative target or two tablespaces in one directory are refused") {
  CHECK_THROWS_WITH_AS(mapTablespaces(twoTablespaces(), {{"fast", "relative/dir"}}, std::nullopt),
                       "option 'tablespace-map': 'fast=relative/dir' must map to an absolute path", Error);
  CHECK_THROWS_WITH_AS(mapTablespaces(twoTablespaces(), {{"fast", "/same"}, {"archive", "/same"}}, std::nullopt),
                       "two tablespaces would be restored into '/same'; map each to its own directory", Error);
}

TEST_CASE("in-place tablespaces are restored with the data directory and cannot be mapped") {
  std::vector<Tablespace> tablespaces{{.oid = 16400, .name = "inplace", .location = "pg_tblspc/16400"}};
  CHECK(mapTablespaces(tablespaces, {}, "/all").empty());
  CHECK_THROWS_AS(mapTablespaces(tablespaces, {{"inplace", "/x"}}, std::nullopt), Error);
}

TEST_CASE("tablespace_map escapes backslashes and line breaks the way PostgreSQL reads them") {
  TablespaceMapEntries entries{{16384, "/plain/dir"}, {16385, "/with space\\and\nnewline"}};
  std::string text = formatTablespaceMap(entries);
  CHECK(text == "16384 /plain/dir\n16385 /with space\\\\and\\\nnewline\n");
  CHECK(parseTablespaceMap(text, "x") == entries);
  CHECK_THROWS_WITH_AS(parseTablespaceMap("abc /x\n", "backup B tablespace_map"),
                       "backup B tablespace_map: a line does not start with '<oid> '", Error);
}

TEST_CASE("a backup's tablespaces come from its header, or from its tablespace_map") {
  ManifestHeader header;
  header.label = "20261125-034319F";
  header.tablespaceMap = "16384 /ssd/fast\n";
  auto fromMap = backupTablespaces(header);
  REQUIRE(fromMap.size() == 1);
  CHECK(fromMap[0] == Tablespace{.oid = 16384, .name = "16384", .location = "/ssd/fast"});
  header.extra = {{"tablespaces", tablespacesToJson(twoTablespaces())}};
  CHECK(backupTablespaces(header) == twoTablespaces());
  header.extra = {{"tablespaces", {{{"oid", "x"}}}}};
  CHECK_THROWS_AS(backupTablespaces(header), Error);
}
