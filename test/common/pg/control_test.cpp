#include "common/pg/control.h"

#include "common/error.h"
#include "common/pg/crc32c.h"

#include "test/common/pg/test_bytes.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr;
using namespace pgbr::pg;
using pgbr::pg::testing::putAt;

namespace {

void seal(std::vector<uint8_t>& bytes, const ControlLayout& layout) {
  putAt<uint32_t>(bytes, layout.crc, crc32c(std::span(bytes).first(layout.crc)));
}

// A pg_control as PostgreSQL 15 writes it, with recognisable values.
std::vector<uint8_t> makeControl(uint32_t controlVersion = 1300, uint32_t catalogVersion = 202209061) {
  const ControlLayout& layout = *pgVersionFromMajor(15)->control;
  std::vector<uint8_t> bytes(kControlFileSize, 0);
  putAt<uint64_t>(bytes, layout.systemIdentifier, 7311234567890123456ull);
  putAt<uint32_t>(bytes, layout.controlVersion, controlVersion);
  putAt<uint32_t>(bytes, layout.catalogVersion, catalogVersion);
  putAt<int32_t>(bytes, layout.state, 6);
  putAt<int64_t>(bytes, layout.time, 1700000000);
  putAt<uint64_t>(bytes, layout.checkpoint, 0x3000060);
  putAt<uint64_t>(bytes, layout.checkpointRedo, 0x3000028);
  putAt<uint32_t>(bytes, layout.checkpointTimeline, 2);
  putAt<int32_t>(bytes, layout.walLevel, 1);
  putAt<uint32_t>(bytes, layout.blockSize, 8192);
  putAt<uint32_t>(bytes, layout.relationSegmentSize, 131072);
  putAt<uint32_t>(bytes, layout.walBlockSize, 8192);
  putAt<uint32_t>(bytes, layout.walSegmentSize, 16u << 20);
  putAt<uint32_t>(bytes, layout.dataChecksumVersion, 1);
  seal(bytes, layout);
  return bytes;
}

}  // namespace

TEST_CASE("a PostgreSQL 15 pg_control is parsed field by field") {
  ControlData data = parseControl(makeControl(), "pg_control");
  CHECK(data.version.major == 15);
  CHECK(data.systemIdentifier == 7311234567890123456ull);
  CHECK(data.controlVersion == 1300);
  CHECK(data.catalogVersion == 202209061);
  CHECK(data.state == DbState::InProduction);
  CHECK(dbStateName(data.state) == "in production");
  CHECK(data.time == 1700000000);
  CHECK(data.checkpoint.toString() == "0/3000060");
  CHECK(data.checkpointRedo.toString() == "0/3000028");
  CHECK(data.timeline == 2);
  CHECK(data.walLevel == 1);
  CHECK(data.blockSize == 8192);
  CHECK(data.relationSegmentSize == 131072);
  CHECK(data.walSegmentSize == 16u << 20);
  CHECK(data.checksumsEnabled());
}

TEST_CASE("a damaged pg_control fails its CRC with a message naming the file") {
  auto bytes = makeControl();
  bytes[100] ^= 0x01;
  CHECK_THROWS_WITH_AS(parseControl(bytes, "/data/global/pg_control"),
                       doctest::Contains("pg_control '/data/global/pg_control' fails its CRC-32C check"), Error);
  try {
    parseControl(bytes, "x");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Corrupt);
  }
}

TEST_CASE("bytes beyond the CRC-covered part do not matter") {
  auto bytes = makeControl();
  bytes[4000] = 0xAB;
  CHECK(parseControl(bytes, "pg_control").systemIdentifier == 7311234567890123456ull);
}

TEST_CASE("an unknown version with a valid CRC is refused as unsupported, not as damaged") {
  auto bytes = makeControl(1300, 202209051);
  try {
    parseControl(bytes, "pg_control");
    FAIL("parsed a pre-release pg_control");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Format);
    CHECK(std::string(e.what()).find("catalog version 202209051, which pgbr does not know") != std::string::npos);
  }
}

TEST_CASE("a pg_control from another byte order is named as such") {
  auto bytes = makeControl(__builtin_bswap32(1300u), 202209061);
  CHECK_THROWS_WITH_AS(parseControl(bytes, "pg_control"), doctest::Contains("another byte order"), Error);
}

TEST_CASE("a truncated pg_control is refused") {
  auto bytes = makeControl();
  bytes.resize(200);
  CHECK_THROWS_WITH_AS(parseControl(bytes, "pg_control"), doctest::Contains("too short"), Error);
}

TEST_CASE("a CRC-valid pg_control with impossible sizes is refused") {
  auto bytes = makeControl();
  const ControlLayout& layout = *pgVersionFromMajor(15)->control;
  putAt<uint32_t>(bytes, layout.walSegmentSize, 12345);
  seal(bytes, layout);
  CHECK_THROWS_WITH_AS(parseControl(bytes, "pg_control"), doctest::Contains("impossible sizes"), Error);
}

TEST_CASE("reading pg_control from a directory that is not a data directory names the directory") {
  CHECK_THROWS_WITH_AS(readControl("/nonexistent/pgdata"),
                       "pg_control '/nonexistent/pgdata/global/pg_control' does not exist: is '/nonexistent/pgdata' a "
                       "PostgreSQL data directory?",
                       Error);
}
