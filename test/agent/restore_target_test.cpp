#include "agent/restore_target.h"

#include "common/error.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

using namespace pgbr;
using namespace pgbr::agent;

namespace {

// Local time in these tests is a zone two hours east of UTC whatever the machine's zone.
struct PlusTwo {
  PlusTwo() {
    ::setenv("TZ", "UTC-2", 1);
    ::tzset();
  }
  ~PlusTwo() {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

// 2026-05-01 12:00:00 UTC
constexpr double kNoon = 1777636800;

ManifestHeader backup(std::string label, int64_t stopTime, std::string stopLsn, uint32_t timeline = 1) {
  ManifestHeader h;
  h.label = std::move(label);
  h.type = "full";
  h.stopTime = stopTime;
  h.stopLsn = std::move(stopLsn);
  h.timeline = timeline;
  return h;
}

RecoveryOptions target(std::string type, std::string value = {}) {
  RecoveryOptions o;
  o.type = std::move(type);
  o.target = std::move(value);
  return o;
}

// Timeline 3 branched from 2 at 0/5000000, which branched from 1 at 0/3000000.
TargetTimeline timelineThree() {
  return {3, pg::parseTimelineHistory("1\t0/3000000\tno recovery target specified\n"
                                      "2\t0/5000000\tat restore point\n",
                                      3, "00000003.history")};
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return fmt::format("[{}] {}", errorSlug(e.code()), e.what());
  }
  return "no error";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("target times in the forms PostgreSQL prints, with and without a zone") {
  PlusTwo zone;
  auto t = parseTargetTime("2026-05-01 12:00:00+00");
  REQUIRE(t);
  CHECK(t->unixSeconds == kNoon);
  CHECK(t->zoneGiven);
  auto fraction = parseTargetTime("2026-05-01 12:00:00.25+00");
  REQUIRE(fraction);
  CHECK(fraction->unixSeconds == kNoon + 0.25);
  CHECK(parseTargetTime("2026-05-01T12:00:00Z")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01 12:00:00 UTC")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01 17:30:00+05:30")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01 17:30:00+0530")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01 09:00:00 -03")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01 12:00+00")->unixSeconds == kNoon);
  CHECK(parseTargetTime("2026-05-01+00")->unixSeconds == kNoon - 12 * 3600);

  auto local = parseTargetTime("2026-05-01 14:00:00");
  REQUIRE(local);
  CHECK_FALSE(local->zoneGiven);
  CHECK(local->offsetSeconds == 7200);
  CHECK(local->unixSeconds == kNoon);
}

TEST_CASE("malformed target times are refused") {
  for (const char* bad : {"", "yesterday", "2026-13-01 12:00:00", "2026-02-30 12:00:00", "2026-05-01 25:00:00",
                          "2026-05-01 12:60:00", "2026-05-01 12:00:00 Europe/Paris", "2026-05-01 12:00:00+99",
                          "2026-5-1 12:00:00", "2026-05-01 12:00:00.1234567+00", "1777636800",
                          "2026-05-01 12:00:00 +00 trailing"})
    CHECK_MESSAGE(!parseTargetTime(bad), bad);
}

TEST_CASE("a target is checked for its type and a time without a zone gets this host's offset") {
  PlusTwo zone;
  CHECK(checkTarget("time", "2026-05-01 14:00:00") == "2026-05-01 14:00:00+02");
  CHECK(checkTarget("time", "2026-05-01 12:00:00+00") == "2026-05-01 12:00:00+00");
  CHECK(checkTarget("xid", "1234") == "1234");
  CHECK(checkTarget("lsn", "0/3000060") == "0/3000060");
  CHECK(checkTarget("name", "before upgrade") == "before upgrade");

  CHECK(errorOf([] { checkTarget("time", "noon"); }) ==
        "[option-invalid-value] --target 'noon' is not a valid target for --type=time: expected 'YYYY-MM-DD "
        "HH:MM:SS' with optional fractions of a second and an optional zone (Z, UTC or an offset such as +00, +02:00, "
        "-0530); without a zone it is this host's local time");
  CHECK(contains(errorOf([] { checkTarget("xid", "12a"); }), "expected a transaction id"));
  CHECK(contains(errorOf([] { checkTarget("xid", "2"); }), "reserved"));
  CHECK(contains(errorOf([] { checkTarget("lsn", "0/XYZ"); }), "expected a WAL location such as 0/3000060"));
  CHECK(contains(errorOf([] { checkTarget("name", std::string(64, 'n')); }), "at most 63 bytes"));
}

TEST_CASE("for a time target the newest backup that ended before it is chosen") {
  std::vector<ManifestHeader> backups{backup("A", kNoon - 3600, "0/2000100"), backup("B", kNoon - 60, "0/4000100"),
                                      backup("C", kNoon + 60, "0/6000100")};
  auto choice = chooseBackup(backups, target("time", "2026-05-01 12:00:00+00"), "", std::nullopt, "main");
  CHECK(choice.label == "B");
  CHECK(choice.reason == "the newest backup that ended before the target time");
  // A backup that stopped in the target's second may have ended after it.
  CHECK(chooseBackup(backups, target("time", "2026-05-01 11:59:00.5+00"), "", std::nullopt, "main").label == "A");
  CHECK(chooseBackup(backups, target("time", "2026-05-01 11:59:01+00"), "", std::nullopt, "main").label == "B");
  CHECK(chooseBackup(backups, target("default"), "", std::nullopt, "main").label == "C");
  CHECK(chooseBackup(backups, target("name", "before"), "", std::nullopt, "main").label == "C");
}

TEST_CASE("a target before the end of the oldest backup is an error that names both") {
  std::vector<ManifestHeader> backups{backup("A", kNoon - 3600, "0/2000100"), backup("B", kNoon - 60, "0/4000100")};
  std::string error =
      errorOf([&] { chooseBackup(backups, target("time", "2026-05-01 10:00:00+00"), "", std::nullopt, "main"); });
  CHECK_MESSAGE(contains(error, "[restore-target] the target time 2026-05-01 10:00:00+00"), error);
  CHECK_MESSAGE(contains(error, "is before the end of the oldest backup of stanza 'main'"), error);
  CHECK_MESSAGE(contains(error, "A (full backup on timeline 1, ended"), error);
  CHECK_MESSAGE(contains(error, "nothing was written"), error);

  error = errorOf([&] { chooseBackup(backups, target("lsn", "0/1000000"), "", std::nullopt, "main"); });
  CHECK_MESSAGE(contains(error, "the target LSN 0/1000000 is before the end of the oldest backup"), error);
  CHECK(chooseBackup(backups, target("lsn", "0/4000100"), "", std::nullopt, "main").label == "B");
  CHECK(chooseBackup(backups, target("lsn", "0/40000FF"), "", std::nullopt, "main").label == "A");
}

TEST_CASE("--set is taken as given, unless it cannot reach the target or does not exist") {
  std::vector<ManifestHeader> backups{backup("A", kNoon - 3600, "0/2000100"), backup("B", kNoon - 60, "0/4000100")};
  CHECK(chooseBackup(backups, target("time", "2026-05-01 12:00:00+00"), "A", std::nullopt, "main").label == "A");
  std::string error =
      errorOf([&] { chooseBackup(backups, target("time", "2026-05-01 11:30:00+00"), "B", std::nullopt, "main"); });
  CHECK_MESSAGE(contains(error, "[restore-target] --set=B: backup B (full backup on timeline 1"), error);
  CHECK_MESSAGE(contains(error, "ends after the target time 2026-05-01 11:30:00+00"), error);
  error = errorOf([&] { chooseBackup(backups, target("default"), "Z", std::nullopt, "main"); });
  CHECK(error == "[backup-missing] --set=Z: stanza 'main' has no such backup (its backups: A, B)");
  CHECK(errorOf([&] { chooseBackup({}, target("default"), "", std::nullopt, "main"); }) ==
        "[backup-missing] stanza 'main' has no backup to restore: take one first with pgbr-agent backup");
}

TEST_CASE("only backups on the history of the timeline recovery follows are chosen") {
  // A and B on timeline 1 (B after timeline 2 branched off at 0/3000000), C on timeline 2 before
  // timeline 3 branched off, D on timeline 2 after it, E on timeline 3.
  std::vector<ManifestHeader> backups{backup("A", kNoon - 500, "0/2000100", 1), backup("B", kNoon - 400, "0/3800000", 1),
                                      backup("C", kNoon - 300, "0/4000100", 2), backup("D", kNoon - 200, "0/5800000", 2),
                                      backup("E", kNoon - 100, "0/6000100", 3)};
  auto three = timelineThree();
  CHECK(chooseBackup(backups, target("default"), "", three, "main").label == "E");
  CHECK(chooseBackup(backups, target("time", "2026-05-01 11:58:00+00"), "", three, "main").label == "C");
  CHECK(chooseBackup(backups, target("lsn", "0/3900000"), "", three, "main").label == "A");

  TargetTimeline one{1, {1, {}}};
  auto choice = chooseBackup(backups, target("time", "2026-05-01 12:00:00+00"), "", one, "main");
  CHECK(choice.label == "B");
  CHECK(choice.reason == "the newest backup that ended before the target time on the history of timeline 1");
  // With the backup's own timeline, the newest backup before the target wins whatever its timeline.
  CHECK(chooseBackup(backups, target("time", "2026-05-01 12:00:00+00"), "", std::nullopt, "main").label == "E");

  std::string error = errorOf([&] { chooseBackup(backups, target("default"), "D", three, "main"); });
  CHECK_MESSAGE(contains(error, "[restore-target] --set=D: backup D (full backup on timeline 2"), error);
  CHECK_MESSAGE(contains(error, "is not on the history of timeline 3"), error);

  TargetTimeline five{5, pg::parseTimelineHistory("1\t0/1000000\tbranch\n", 5, "00000005.history")};
  error = errorOf([&] { chooseBackup(backups, target("default"), "", five, "main"); });
  CHECK_MESSAGE(contains(error, "no backup of stanza 'main' is on the history of timeline 5"), error);
}
