#include "repo-server/index_segment.h"

#include "common/error.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;

TEST_CASE("an index segment finds every chunk it names and no other") {
  MemoryStorage storage;
  std::vector<ChunkLocation> locations;
  PackId pack{};
  pack.fill(7);
  for (int i = 0; i < 1000; ++i) {  // several fence blocks
    ChunkLocation loc;
    loc.id = test::randomId();
    loc.pack = pack;
    loc.offset = 16 + i;
    loc.length = 10;
    loc.plainLength = 8192;
    if (i % 7 == 0) {
      loc.kind = BlobKind::Patch;
      loc.base = test::randomId();
    }
    locations.push_back(loc);
  }
  auto encoded = encodeIndexSegment(locations);
  storage.write(indexSegmentPath(encoded.id), encoded.bytes);
  auto segment = IndexSegment::open(storage, encoded.id);
  CHECK(segment->entryCount() == 1000);
  for (const auto& loc : locations) {
    auto found = segment->lookup(loc.id);
    REQUIRE(found);
    CHECK(*found == loc);
  }
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(segment->lookup(test::randomId()));
  CHECK(segment->all().size() == 1000);
}

TEST_CASE("a damaged index segment is refused naming it") {
  MemoryStorage storage;
  ChunkLocation loc;
  loc.id = test::randomId();
  auto encoded = encodeIndexSegment({loc});
  encoded.bytes[40] ^= 0x10;
  storage.write(indexSegmentPath(encoded.id), encoded.bytes);
  CHECK_THROWS_WITH_AS(IndexSegment::open(storage, encoded.id), doctest::Contains("does not hash to its name"), Error);
}
