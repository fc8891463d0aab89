#include "common/pg/wal_header.h"

#include "common/error.h"

#include "test/common/pg/test_bytes.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr;
using namespace pgbr::pg;
using pgbr::pg::testing::putAt;

namespace {

std::vector<uint8_t> makeHeader(uint64_t systemId, uint64_t pageAddress, uint32_t timeline = 1, uint16_t magic = 0xD110,
                                uint16_t info = kXlpLongHeader) {
  std::vector<uint8_t> page(8192, 0);
  putAt<uint16_t>(page, 0, magic);
  putAt<uint16_t>(page, 2, info);
  putAt<uint32_t>(page, 4, timeline);
  putAt<uint64_t>(page, 8, pageAddress);
  putAt<uint64_t>(page, 24, systemId);
  putAt<uint32_t>(page, 32, 16u << 20);
  putAt<uint32_t>(page, 36, 8192);
  return page;
}

constexpr uint64_t kSystemId = 7311234567890123456ull;
const ClusterIdentity kStanza{kSystemId, 15, 16u << 20};

}  // namespace

TEST_CASE("the long page header of a segment is parsed") {
  auto header = parseWalSegmentHeader(makeHeader(kSystemId, 0x3000000, 2), "seg");
  CHECK(header.version.major == 15);
  CHECK(header.systemIdentifier == kSystemId);
  CHECK(header.timeline == 2);
  CHECK(header.pageAddress.toString() == "0/3000000");
  CHECK(header.segmentSize == 16u << 20);
  CHECK(header.blockSize == 8192);
}

TEST_CASE("a segment of the stanza's cluster is accepted, also as .partial") {
  auto header = parseWalSegmentHeader(makeHeader(kSystemId, 0x3000000), "seg");
  CHECK_NOTHROW(checkWalSegmentBelongs(header, "000000010000000000000003", kStanza));
  CHECK_NOTHROW(checkWalSegmentBelongs(header, "000000010000000000000003.partial", kStanza));
  // The first segment of timeline 2 starts with timeline 1's records.
  CHECK_NOTHROW(checkWalSegmentBelongs(header, "000000020000000000000003", kStanza));
}

TEST_CASE("a segment of another cluster is refused naming both system identifiers and versions") {
  auto header = parseWalSegmentHeader(makeHeader(7300000000000000001ull, 0x3000000), "seg");
  try {
    checkWalSegmentBelongs(header, "000000010000000000000003", kStanza);
    FAIL("accepted a foreign segment");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::PgMismatch);
    CHECK(std::string(e.what()) ==
          "WAL segment '000000010000000000000003' was written by PostgreSQL 15 with system identifier "
          "7300000000000000001, but this stanza's cluster is PostgreSQL 15 with system identifier "
          "7311234567890123456: the segment comes from another cluster (check pg1-path, the stanza name and "
          "archive_command), or the stanza must be upgraded");
  }
}

TEST_CASE("a segment of another major version is refused") {
  auto header = parseWalSegmentHeader(makeHeader(kSystemId, 0x3000000, 1, 0xD113), "seg");
  CHECK(header.version.major == 16);
  CHECK_THROWS_WITH_AS(checkWalSegmentBelongs(header, "000000010000000000000003", kStanza),
                       doctest::Contains("written by PostgreSQL 16"), Error);
}

TEST_CASE("a header that contradicts the file name is refused") {
  auto header = parseWalSegmentHeader(makeHeader(kSystemId, 0x4000000), "seg");
  CHECK_THROWS_WITH_AS(checkWalSegmentBelongs(header, "000000010000000000000003", kStanza),
                       doctest::Contains("starts at 0/4000000 but its name says 0/3000000"), Error);
  auto later = parseWalSegmentHeader(makeHeader(kSystemId, 0x3000000, 3), "seg");
  CHECK_THROWS_WITH_AS(checkWalSegmentBelongs(later, "000000020000000000000003", kStanza),
                       doctest::Contains("timeline 3, later than the timeline 2"), Error);
}

TEST_CASE("bytes that are not the start of a WAL segment are refused") {
  CHECK_THROWS_WITH_AS(parseWalSegmentHeader(makeHeader(kSystemId, 0, 1, 0x1234), "f"),
                       doctest::Contains("page magic 0x1234"), Error);
  CHECK_THROWS_WITH_AS(parseWalSegmentHeader(makeHeader(kSystemId, 0, 1, 0xD110, 0), "f"),
                       doctest::Contains("long page header"), Error);
  std::vector<uint8_t> shortBytes(20, 0);
  CHECK_THROWS_WITH_AS(parseWalSegmentHeader(shortBytes, "f"), doctest::Contains("too short"), Error);
  CHECK_THROWS_AS(readWalSegmentHeader("/nonexistent/000000010000000000000001"), Error);
}
