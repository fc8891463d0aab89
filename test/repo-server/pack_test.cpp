#include "repo-server/pack.h"

#include "common/error.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;

TEST_CASE("a sealed pack gives back every blob and block map by its trailer") {
  PackBuilder builder;
  std::vector<std::pair<ChunkId, std::vector<uint8_t>>> blobs;
  std::vector<BlockMap> maps;
  for (int i = 0; i < 20; ++i) {
    auto id = test::randomId();
    auto blob = test::randomBlob(1000 + i * 37);
    auto map = test::randomBlockMap(1 + i % 32);
    CHECK(builder.add(id, BlobKind::Chunk, ChunkId(), 262144, blob, i % 4 ? &map : nullptr));
    blobs.emplace_back(id, blob);
    maps.push_back(map);
  }
  CHECK_FALSE(builder.add(blobs[0].first, BlobKind::Chunk, ChunkId(), 1, blobs[0].second, nullptr));
  CHECK(builder.blobCount() == 20);

  auto sealed = builder.seal();
  CHECK(checkPackBytes(sealed.bytes, sealed.id, "p").locations.size() == 20);

  MemoryStorage storage;
  storage.write(packPath(sealed.id), sealed.bytes);
  auto reader = storage.openRead(packPath(sealed.id));
  auto trailer = readPackTrailer(*reader, sealed.id, "p");
  REQUIRE(trailer.locations.size() == 20);
  for (size_t i = 0; i < blobs.size(); ++i) {
    auto it = std::find_if(trailer.locations.begin(), trailer.locations.end(),
                           [&](auto& l) { return l.id == blobs[i].first; });
    REQUIRE(it != trailer.locations.end());
    CHECK(it->pack == sealed.id);
    CHECK(readBlob(*reader, *it) == blobs[i].second);
    if (i % 4) CHECK(readBlockMap(*reader, *it) == maps[i]);
    else CHECK(it->blockMapOffset == kNoOffset);
  }
}

TEST_CASE("a damaged pack is refused with the reason") {
  PackBuilder builder;
  auto map = test::randomBlockMap(32);
  builder.add(test::randomId(), BlobKind::Chunk, ChunkId(), 262144, test::randomBlob(5000), &map);
  auto sealed = builder.seal();

  SUBCASE("a flipped byte in a blob fails the hash") {
    sealed.bytes[100] ^= 1;
    CHECK_THROWS_WITH_AS(checkPackBytes(sealed.bytes, sealed.id, "p"), doctest::Contains("does not hash to its name"), Error);
  }
  SUBCASE("a truncated pack fails the footer check") {
    MemoryStorage storage;
    sealed.bytes.erase(sealed.bytes.begin() + 200);
    storage.write("x.pack", sealed.bytes);
    auto reader = storage.openRead("x.pack");
    CHECK_THROWS_AS(readPackTrailer(*reader, sealed.id, "p"), Error);
  }
  SUBCASE("a pack under another name is refused") {
    auto other = sealed.id;
    other[0] ^= 1;
    CHECK_THROWS_WITH_AS(checkPackBytes(sealed.bytes, other, "p"), doctest::Contains("does not hash"), Error);
  }
}

TEST_CASE("pack paths fan out by the first two hex digits") {
  PackId id{};
  id.fill(0xab);
  CHECK(packPath(id).starts_with("packs/ab/abab"));
  CHECK(packPath(id).ends_with(".pack"));
}
