#include "agent/info_format.h"

#include "common/error.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

using namespace pgbr;
using namespace pgbr::agent;
using nlohmann::json;

namespace {

// Times in these tests are UTC whatever the machine's zone.
struct Utc {
  Utc() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

json header(std::string label, std::string type, int64_t start) {
  ManifestHeader h;
  h.stanza = "main";
  h.label = std::move(label);
  h.type = std::move(type);
  if (h.type != "full") h.prior = "20261125-034319F";
  h.startTime = start;
  h.stopTime = start + 42;
  h.startLsn = "0/2000028";
  h.stopLsn = "0/2000138";
  h.timeline = 1;
  h.walStart = "000000010000000000000002";
  h.walStop = "000000010000000000000002";
  h.pgVersion = 15;
  h.systemId = 7311234567890123456ull;
  h.chunkSize = 262144;
  h.fileCount = 980;
  h.size = 23 * 1024 * 1024;
  h.repoSize = 3 * 1024 * 1024;
  return h.toJson();
}

json response() {
  return {{"stanzas",
           {{{"name", "main"},
             {"identity", {{"systemId", "7311234567890123456"}, {"pgVersion", 15}, {"walSegmentSize", 16777216}}},
             {"backups",
              {header("20261125-050000I", "incr", 1795589999 + 4000), header("20261125-034319F", "full", 1795589999)}},
             {"archive", {{"min", "000000010000000000000001"}, {"max", "000000010000000000000004"}}}},
            {{"name", "empty"}, {"identity", nullptr}, {"backups", json::array()}, {"archive", json::object()}}}}};
}

}  // namespace

TEST_CASE("timestamps are local time with the offset as PostgreSQL prints it") {
  Utc utc;
  CHECK(formatTimestamp(0) == "1970-01-01 00:00:00+00");
}

TEST_CASE("text info lists each stanza with status, archive range and backups oldest first") {
  Utc utc;
  CHECK(formatInfoText(parseInfo(response())) ==
        "stanza: main\n"
        "    status: ok\n"
        "    db (current): system identifier 7311234567890123456, PostgreSQL 15\n"
        "    wal archive min/max: 000000010000000000000001/000000010000000000000004\n"
        "\n"
        "    full backup: 20261125-034319F\n"
        "        timestamp start/stop: 2026-11-25 06:59:59+00 / 2026-11-25 07:00:41+00\n"
        "        wal start/stop: 000000010000000000000002 / 000000010000000000000002\n"
        "        lsn start/stop: 0/2000028 / 0/2000138\n"
        "        database size: 23.0 MiB, files: 980\n"
        "        repository: 3.0 MiB new\n"
        "\n"
        "    incr backup: 20261125-050000I\n"
        "        prior backup: 20261125-034319F\n"
        "        timestamp start/stop: 2026-11-25 08:06:39+00 / 2026-11-25 08:07:21+00\n"
        "        wal start/stop: 000000010000000000000002 / 000000010000000000000002\n"
        "        lsn start/stop: 0/2000028 / 0/2000138\n"
        "        database size: 23.0 MiB, files: 980\n"
        "        repository: 3.0 MiB new\n"
        "\n"
        "stanza: empty\n"
        "    status: error (no valid backups)\n"
        "    wal archive min/max: none\n");
}

TEST_CASE("json info keeps stable field names and null for what is absent") {
  json out = formatInfoJson(parseInfo(response()));
  REQUIRE(out.size() == 2);
  CHECK(out[0]["name"] == "main");
  CHECK(out[0]["status"] == json{{"code", 0}, {"message", "ok"}});
  CHECK(out[0]["db"]["systemId"] == "7311234567890123456");
  CHECK(out[0]["backups"][0]["label"] == "20261125-034319F");
  CHECK(out[0]["backups"][0]["prior"].is_null());
  CHECK(out[0]["backups"][1]["prior"] == "20261125-034319F");
  CHECK(out[0]["backups"][0]["timestamp"]["stop"] == 1795589999 + 42);
  CHECK(out[0]["backups"][0]["repoSize"] == 3 * 1024 * 1024);
  CHECK(out[1]["status"]["code"] == 2);
  CHECK(out[1]["archive"]["min"].is_null());
  CHECK(out[1]["db"].is_null());
}

TEST_CASE("an info answer without stanzas or with a broken backup is a protocol error") {
  CHECK_THROWS_AS(parseInfo(json::object()), Error);
  json bad = {{"stanzas", {{{"name", "x"}, {"backups", {{{"label", 5}}}}}}}};
  CHECK_THROWS_AS(parseInfo(bad), Error);
  CHECK(formatInfoText({}) == "No stanzas exist in the repository.\n");
}

TEST_CASE("gaps in the WAL archive are listed in text and json, and the status says so") {
  Utc utc;
  json answer = response();
  answer["stanzas"][0]["archive"]["gaps"] = {{{"first", "000000010000000000000002"},
                                              {"last", "000000010000000000000003"},
                                              {"segments", 2}}};
  auto stanzas = parseInfo(answer);
  REQUIRE(stanzas[0].archiveGaps.size() == 1);
  CHECK(describeGap(stanzas[0].archiveGaps[0]) ==
        "000000010000000000000002 to 000000010000000000000003 (2 segments missing)");
  std::string text = formatInfoText(stanzas);
  CHECK(text.find("    status: ok (the WAL archive has 1 gap)\n") != std::string::npos);
  CHECK(text.find("    wal archive gap: 000000010000000000000002 to 000000010000000000000003 (2 segments missing)\n") !=
        std::string::npos);
  auto out = formatInfoJson(stanzas);
  CHECK(out[0]["archive"]["gaps"][0]["segments"] == 2);
  CHECK(out[1]["archive"]["gaps"].empty());

  answer["stanzas"][0]["archive"]["gaps"] = {{{"first", "000000010000000000000002"}}};
  CHECK_THROWS_AS(parseInfo(answer), Error);
}
