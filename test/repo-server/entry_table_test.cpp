#include "repo-server/entry_table.h"

#include "common/error.h"
#include "test/repo-server/repo_test_util.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace pgbr;
using namespace pgbr::repo;

namespace {

std::vector<ChunkLocation> sampleLocations() {
  PackId packA{}, packB{};
  packA.fill(0xaa);
  packB.fill(0xbb);
  std::vector<ChunkLocation> locations;
  for (int i = 0; i < 50; ++i) {
    ChunkLocation loc;
    loc.id = test::randomId();
    loc.pack = i % 2 ? packA : packB;
    loc.offset = 16 + i * 100;
    loc.length = 100;
    loc.plainLength = 262144;
    loc.blockMapOffset = i % 3 ? kNoOffset : 9000 + i * 256;
    loc.pages = i % 3 ? 0 : 32;
    if (i % 5 == 0) {
      loc.kind = BlobKind::Patch;
      loc.base = locations.empty() ? test::randomId() : locations.front().id;
    }
    locations.push_back(loc);
  }
  return locations;
}

}  // namespace

TEST_CASE("entry table round trip sorts by id and keeps every field") {
  auto locations = sampleLocations();
  auto decoded = decodeEntryTable(encodeEntryTable(locations), "test");
  std::sort(locations.begin(), locations.end(), [](auto& a, auto& b) { return a.id < b.id; });
  CHECK(decoded == locations);
}

TEST_CASE("entry table drops duplicate ids") {
  auto locations = sampleLocations();
  locations.push_back(locations[3]);
  CHECK(decodeEntryTable(encodeEntryTable(locations), "test").size() == 50);
}

TEST_CASE("entry table rejects truncation, bad ordinals, bad kinds and disorder") {
  auto bytes = encodeEntryTable(sampleLocations());
  auto layout = entryTableLayout(bytes, bytes.size(), "t");

  SUBCASE("truncated") {
    bytes.pop_back();
    CHECK_THROWS_WITH_AS(decodeEntryTable(bytes, "idx"), doctest::Contains("does not match its counts"), Error);
  }
  SUBCASE("pack ordinal out of range") {
    bytes[layout.entriesOffset + 32] = 0x7f;
    CHECK_THROWS_WITH_AS(decodeEntryTable(bytes, "idx"), doctest::Contains("names pack"), Error);
  }
  SUBCASE("unknown kind") {
    bytes[layout.entriesOffset + 56] = 9;
    CHECK_THROWS_WITH_AS(decodeEntryTable(bytes, "idx"), doctest::Contains("unknown kind 9"), Error);
  }
  SUBCASE("out of order") {
    std::swap_ranges(bytes.begin() + layout.entriesOffset, bytes.begin() + layout.entriesOffset + 64,
                     bytes.begin() + layout.entriesOffset + 64);
    CHECK_THROWS_WITH_AS(decodeEntryTable(bytes, "idx"), doctest::Contains("out of order"), Error);
  }
}

TEST_CASE("a patch without a base cannot be encoded") {
  ChunkLocation loc;
  loc.id = test::randomId();
  loc.kind = BlobKind::Patch;
  CHECK_THROWS_AS(encodeEntryTable({loc}), Error);
}
