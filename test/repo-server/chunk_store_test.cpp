#include "repo-server/chunk_store.h"

#include "common/error.h"
#include "common/storage/fault_storage.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_test_util.h"

#include <doctest/doctest.h>

#include <thread>

using namespace pgbr;
using namespace pgbr::repo;

TEST_CASE("chunks put in the store are found before and after sealing, and after reopening") {
  MemoryStorage storage;
  std::vector<std::pair<ChunkId, std::vector<uint8_t>>> blobs;
  {
    ChunkStore store(storage, {.packSize = 64 * 1024, .maxSegments = 4});
    for (int i = 0; i < 100; ++i) {
      auto id = test::randomId();
      auto blob = test::randomBlob(3000);
      auto map = test::randomBlockMap(4);
      CHECK(store.put(id, BlobKind::Chunk, ChunkId(), 32768, blob, &map));
      CHECK_FALSE(store.put(id, BlobKind::Chunk, ChunkId(), 32768, blob, &map));  // duplicate
      auto loc = store.locate(id);
      REQUIRE(loc);
      CHECK(store.readBlob(*loc) == blob);
      CHECK(store.readBlockMap(*loc) == map);
      blobs.emplace_back(id, blob);
    }
    store.flush();
    auto stats = store.stats();
    CHECK(stats.packsSealed >= 4);
    CHECK(stats.segments <= 5);  // merged
    CHECK(stats.indexedChunks == 100);
  }
  ChunkStore reopened(storage);
  CHECK(reopened.stats().indexedChunks == 100);
  for (const auto& [id, blob] : blobs) {
    auto loc = reopened.locate(id);
    REQUIRE(loc);
    CHECK(reopened.readBlob(*loc) == blob);
  }
}

TEST_CASE("concurrent puts of the same chunks store each once") {
  MemoryStorage storage;
  ChunkStore store(storage, {.packSize = 256 * 1024});
  std::vector<std::pair<ChunkId, std::vector<uint8_t>>> blobs;
  for (int i = 0; i < 200; ++i) blobs.emplace_back(test::randomId(), test::randomBlob(4000));
  std::atomic<int> added{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (const auto& [id, blob] : blobs)
        if (store.put(id, BlobKind::Chunk, ChunkId(), 4000, blob, nullptr)) added++;
    });
  for (auto& t : threads) t.join();
  store.flush();
  CHECK(added == 200);
  CHECK(store.stats().indexedChunks == 200);
  for (const auto& [id, blob] : blobs) CHECK(store.readBlob(*store.locate(id)) == blob);
}

TEST_CASE("a pack that cannot be written (disk full) leaves nothing indexed or visible") {
  MemoryStorage memory;
  FaultStorage full(memory, FaultPlan{.byteBudget = 1000});
  auto id = test::randomId();
  {
    ChunkStore store(full, {.packSize = 1 << 30});
    store.put(id, BlobKind::Chunk, ChunkId(), 5000, test::randomBlob(5000), nullptr);
    CHECK_THROWS_WITH_AS(store.flush(), doctest::Contains("filesystem is full"), Error);
    CHECK_FALSE(store.contains(id));
  }
  CHECK(memory.list("packs", true).empty());
  CHECK(memory.list("index", true).empty());
  ChunkStore store(memory);
  CHECK(store.put(id, BlobKind::Chunk, ChunkId(), 5000, test::randomBlob(5000), nullptr));
  store.flush();
  CHECK(ChunkStore(memory).contains(id));
}
