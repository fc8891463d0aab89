#include "repo-server/verify.h"

#include "common/storage/memory_storage.h"
#include "repo-server/index_segment.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

namespace {

// Stores n chunks in sealed, indexed packs; returns their ids.
std::vector<ChunkId> storeChunks(Repository& repo, int n, uint64_t seed) {
  std::vector<ChunkId> ids;
  for (int i = 0; i < n; ++i) {
    auto plaintext = chunkPlaintext(seed + i);
    auto sealed = sealChunk(repo.keys(), plaintext);
    repo.chunks().put(sealed.id, BlobKind::Chunk, ChunkId(), static_cast<uint32_t>(plaintext.size()), sealed.envelope,
                      nullptr);
    ids.push_back(sealed.id);
  }
  repo.chunks().flush();
  return ids;
}

bool hasFinding(const std::vector<VerifyFinding>& findings, bool error, const std::string& part) {
  for (const auto& f : findings)
    if (f.error == error && (f.object + ": " + f.message).find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("verify of a sound chunk store finds nothing and opens every chunk") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  storeChunks(repo, 10, 1);
  Verifier verifier(repo, {}, true);
  verifier.runAll();
  CHECK(verifier.takeNewFindings().empty());
  CHECK(verifier.counts().blobs == 10);
  CHECK(verifier.counts().packs == 1);
}

TEST_CASE("a pack no index names is a warning; an index naming a missing pack is an error") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  storeChunks(repo, 3, 1);

  // A pack written without its index segment, as a crash between the two leaves it.
  PackBuilder builder;
  auto sealedChunk = sealChunk(repo.keys(), chunkPlaintext(99));
  builder.add(sealedChunk.id, BlobKind::Chunk, ChunkId(), 20'000, sealedChunk.envelope, nullptr);
  auto orphan = builder.seal();
  storage.write(packPath(orphan.id), orphan.bytes);

  // An index segment naming a pack that is gone.
  ChunkLocation lost;
  lost.id = sealChunk(repo.keys(), chunkPlaintext(100)).id;
  lost.pack.fill(0x42);
  lost.offset = 16;
  lost.length = 100;
  auto segment = encodeIndexSegment({lost});
  storage.write(indexSegmentPath(segment.id), segment.bytes);

  Verifier verifier(repo, {}, true);
  verifier.runAll();
  auto findings = verifier.takeNewFindings();
  CHECK(hasFinding(findings, false, "is not named by any index segment"));
  CHECK(hasFinding(findings, true, "names pack packs/42/4242"));
  CHECK(verifier.counts().errors == 1);
  CHECK(verifier.counts().warnings == 1);
}

TEST_CASE("a chunk whose bytes were altered in its pack is an error naming the pack") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  storeChunks(repo, 2, 7);
  auto packs = storage.list("packs", true);
  REQUIRE(packs.size() == 1);
  std::string path = "packs/" + packs.front().path;
  auto bytes = storage.read(path);
  bytes[200] ^= 0x80;
  storage.write(path, bytes);
  Verifier verifier(repo, {}, true);
  verifier.runAll();
  CHECK(hasFinding(verifier.takeNewFindings(), true, "pack " + path));
}
