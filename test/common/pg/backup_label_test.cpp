#include "common/pg/backup_label.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;

TEST_CASE("a PostgreSQL 15 backup_label is parsed") {
  auto label = parseBackupLabel(
      "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
      "CHECKPOINT LOCATION: 0/2000060\n"
      "BACKUP METHOD: streamed\n"
      "BACKUP FROM: primary\n"
      "START TIME: 2024-01-02 03:04:05 UTC\n"
      "LABEL: pgbr full: 20240102-030405F\n"
      "START TIMELINE: 1\n",
      "backup_label");
  CHECK(label.startWalLocation.toString() == "0/2000028");
  CHECK(label.startWalFile == "000000010000000000000002");
  CHECK(label.checkpointLocation.toString() == "0/2000060");
  CHECK(label.backupMethod == "streamed");
  CHECK(label.backupFrom == "primary");
  CHECK(label.startTime == "2024-01-02 03:04:05 UTC");
  CHECK(label.label == "pgbr full: 20240102-030405F");
  CHECK(label.startTimeline == 1);
  CHECK_FALSE(label.stopWalLocation);
}

TEST_CASE("a .backup history file adds the stop location, time and timeline") {
  auto label = parseBackupLabel(
      "START WAL LOCATION: 0/2000028 (file 000000020000000000000002)\n"
      "STOP WAL LOCATION: 0/2000100 (file 000000020000000000000002)\n"
      "CHECKPOINT LOCATION: 0/2000060\n"
      "BACKUP METHOD: streamed\n"
      "BACKUP FROM: standby\n"
      "START TIME: 2024-01-02 03:04:05 UTC\n"
      "LABEL: x\n"
      "START TIMELINE: 2\n"
      "STOP TIME: 2024-01-02 03:05:00 UTC\n"
      "STOP TIMELINE: 2\n",
      "000000020000000000000002.00000028.backup");
  REQUIRE(label.stopWalLocation);
  CHECK(label.stopWalLocation->toString() == "0/2000100");
  CHECK(label.stopWalFile == "000000020000000000000002");
  CHECK(label.stopTime == "2024-01-02 03:05:00 UTC");
  CHECK(label.stopTimeline == 2u);
  CHECK(label.backupFrom == "standby");
}

TEST_CASE("lines pgbr has no field for are kept, and a missing START TIMELINE comes from the file name") {
  auto label = parseBackupLabel(
      "START WAL LOCATION: 0/9000028 (file 000000030000000000000009)\n"
      "CHECKPOINT LOCATION: 0/9000060\n"
      "INCREMENTAL FROM LSN: 0/5000028\n"
      "INCREMENTAL FROM TLI: 3\n",
      "backup_label");
  CHECK(label.startTimeline == 3);
  CHECK(label.fields.at("INCREMENTAL FROM LSN") == "0/5000028");
  CHECK(label.label.empty());
}

TEST_CASE("content that is not a backup_label is refused") {
  CHECK_THROWS_WITH_AS(parseBackupLabel("CHECKPOINT LOCATION: 0/1\n", "backup_label"),
                       "backup_label lacks START WAL LOCATION: it is not a backup_label", Error);
  CHECK_THROWS_WITH_AS(parseBackupLabel("START WAL LOCATION: 0/1 (file 000000010000000000000000)\n", "b"),
                       doctest::Contains("lacks CHECKPOINT LOCATION"), Error);
  CHECK_THROWS_WITH_AS(
      parseBackupLabel("START WAL LOCATION: zz (file 000000010000000000000000)\nCHECKPOINT LOCATION: 0/1\n", "b"),
      doctest::Contains("START WAL LOCATION 'zz' is not a WAL location"), Error);
  CHECK_THROWS_WITH_AS(parseBackupLabel("START WAL LOCATION: 0/1 (segment x)\nCHECKPOINT LOCATION: 0/1\n", "b"),
                       doctest::Contains("should end with '(file <WAL segment name>)'"), Error);
  CHECK_THROWS_WITH_AS(parseBackupLabel("just some text\n", "b"), doctest::Contains("is not of the form 'KEY: value'"),
                       Error);
}
