#include "common/pg/wal_name.h"

#include <doctest/doctest.h>

using namespace pgbr::pg;

TEST_CASE("segment names encode timeline, xlogid and segment with the default 16 MiB segments") {
  WalSegment segment{1, 0x1FF};
  CHECK(segment.fileName(kDefaultWalSegmentSize) == "0000000100000001000000FF");
  auto parsed = WalSegment::parse("0000000100000001000000FF", kDefaultWalSegmentSize);
  REQUIRE(parsed);
  CHECK(*parsed == segment);
  CHECK(WalSegment{0x1A, 3}.fileName(kDefaultWalSegmentSize) == "0000001A0000000000000003");
}

TEST_CASE("the segment containing an LSN, and its bounds") {
  auto lsn = *Lsn::parse("16/B374D848");
  WalSegment segment = WalSegment::containing(lsn, 1, kDefaultWalSegmentSize);
  CHECK(segment.fileName(kDefaultWalSegmentSize) == "0000000100000016000000B3");
  CHECK(segment.startLsn(kDefaultWalSegmentSize).toString() == "16/B3000000");
  CHECK(segment.endLsn(kDefaultWalSegmentSize).toString() == "16/B4000000");
  // A segment's first byte belongs to it, its end LSN to the next one.
  CHECK(WalSegment::containing(*Lsn::parse("16/B3000000"), 1, kDefaultWalSegmentSize) == segment);
  CHECK(WalSegment::containing(*Lsn::parse("16/B4000000"), 1, kDefaultWalSegmentSize) == segment.next());
}

TEST_CASE("next segment rolls over into the next xlogid") {
  auto last = *WalSegment::parse("0000000100000000000000FF", kDefaultWalSegmentSize);
  CHECK(last.next().fileName(kDefaultWalSegmentSize) == "000000010000000100000000");
  // With 1 GiB segments there are only four per xlogid.
  constexpr uint32_t kGiB = 1u << 30;
  auto big = *WalSegment::parse("000000010000000000000003", kGiB);
  CHECK(big.next().fileName(kGiB) == "000000010000000100000000");
  CHECK_FALSE(WalSegment::parse("000000010000000000000004", kGiB));
  // With 1 MiB segments, 4096 per xlogid.
  constexpr uint32_t kMiB = 1u << 20;
  CHECK(WalSegment{2, 4096}.fileName(kMiB) == "000000020000000100000000");
}

TEST_CASE("names that are not segments are refused") {
  for (const char* name : {"", "00000001000000000000000", "0000000100000000000000001", "00000001000000000000000g",
                           "000000010000000000000001.partial", "00000002.history"})
    CHECK_FALSE(WalSegment::parse(name, kDefaultWalSegmentSize));
  // PostgreSQL writes upper case only.
  CHECK_FALSE(WalSegment::parse("0000000100000000000000ff", kDefaultWalSegmentSize));
}

TEST_CASE("WAL file kinds are recognised by name") {
  CHECK(walFileKind("000000010000000000000001") == WalFileKind::Segment);
  CHECK(walFileKind("000000010000000000000001.partial") == WalFileKind::Partial);
  CHECK(walFileKind("00000002.history") == WalFileKind::History);
  CHECK(walFileKind("000000010000000000000002.00000028.backup") == WalFileKind::BackupHistory);
  for (const char* name : {"archive_status", "00000002.history.tmp", "0000000100000000000000010.partial",
                           "000000010000000000000002.0000028.backup", "000000010000000000000002_00000028.backup",
                           "xlogtemp.1234", "00000002.HISTORY"})
    CHECK(walFileKind(name) == WalFileKind::Other);
  CHECK(walFileTimeline("0000000A0000000000000001.partial") == 10u);
  CHECK(walFileTimeline("00000003.history") == 3u);
  CHECK_FALSE(walFileTimeline("archive_status"));
}

TEST_CASE("history and backup history file names") {
  CHECK(historyFileName(2) == "00000002.history");
  CHECK(historyFileName(0x1F) == "0000001F.history");
  CHECK(backupHistoryFileName(1, *Lsn::parse("0/2000028"), kDefaultWalSegmentSize) ==
        "000000010000000000000002.00000028.backup");
}

TEST_CASE("valid WAL segment sizes are the powers of two from 1 MiB to 1 GiB") {
  CHECK(isValidWalSegmentSize(1u << 20));
  CHECK(isValidWalSegmentSize(16u << 20));
  CHECK(isValidWalSegmentSize(1u << 30));
  CHECK_FALSE(isValidWalSegmentSize(0));
  CHECK_FALSE(isValidWalSegmentSize(1u << 19));
  CHECK_FALSE(isValidWalSegmentSize(2ull << 30));
  CHECK_FALSE(isValidWalSegmentSize(3u << 20));
}
