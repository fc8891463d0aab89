// Page-level incrementals on the server: ChunkPatcher on its own, and chunks.patch,
// blockmaps.get and chunks.get through a real TLS connection.
#include "repo-server/chunk_patcher.h"

#include "common/filter/bytes.h"
#include "common/filter/chunk_patch.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_client.h"
#include "test/repo-server/repo_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;
using protocol::Client;

namespace {

constexpr size_t kChunk = 64 * 1024;  // testOptions()' chunk size: 8 pages

// A chunk changed from `earlier` in a few bytes of the given pages.
std::vector<uint8_t> touched(std::vector<uint8_t> earlier, std::initializer_list<size_t> pages, uint8_t salt) {
  for (size_t page : pages)
    for (size_t i = 0; i < 40; ++i) earlier[page * kPageSize + 100 + i * 7] ^= static_cast<uint8_t>(salt + i);
  return earlier;
}

// What an agent sends for `chunk`: the pages that differ from `earlier`, sealed with a data key.
std::vector<uint8_t> pageSetEnvelope(const std::shared_ptr<const Keyring>& keys, const std::vector<uint8_t>& chunk,
                                     const std::vector<uint8_t>& earlier) {
  ChunkHasher hasher(keys->chunkIdKey());
  hasher.hash(earlier);
  BlockMap earlierMap = hasher.blockMap();
  hasher.hash(chunk);
  auto pages = hasher.blockMap().changedPages(earlierMap);
  ByteBuffer set;
  buildPageSet(chunk, pages, set);
  PipelineSpec spec;
  spec.chunkSize = kChunk;
  EnvelopeCodec codec(keys, KeyPurpose::Data, spec);
  auto sealed = codec.seal(EnvelopeKind::Chunk, 0, 0, set.span());
  return {sealed.begin(), sealed.end()};
}

ChunkId idOf(const std::shared_ptr<const Keyring>& keys, const std::vector<uint8_t>& chunk) {
  ChunkHasher hasher(keys->chunkIdKey());
  return hasher.hash(chunk);
}

// The plaintext chunks.get returns for id, rebuilt from base and patch when it sends both.
std::vector<uint8_t> rebuiltFromDownload(const std::shared_ptr<const Keyring>& keys, const std::vector<uint8_t>& data,
                                         const ChunkId& id, uint8_t& lastKind) {
  ChunkDecoder decoder(keys);
  EnvelopeCodec codec(keys, KeyPurpose::Data, PipelineSpec{});
  std::span<const uint8_t> rest(data);
  std::vector<uint8_t> base;
  ChunkId baseId;
  std::vector<uint8_t> result;
  while (!rest.empty()) {
    uint32_t length = getU32(rest, 0);
    ChunkId named(rest.subspan(4).first<32>());
    lastKind = rest[36];
    auto envelope = rest.subspan(37, length - 33);
    if (lastKind == 1 && named != id) {
      auto plain = decoder.decode(envelope, named);
      base.assign(plain.begin(), plain.end());
      baseId = named;
    } else if (lastKind == 1) {
      auto plain = decoder.decode(envelope, named);
      result.assign(plain.begin(), plain.end());
    } else {
      auto opened = codec.open(envelope, "patch");
      ByteBuffer out;
      applyPatch(opened.plaintext, baseId, base, out, "patch");
      result.assign(out.data(), out.data() + out.size());
    }
    rest = rest.subspan(4 + length);
  }
  return result;
}

}  // namespace

TEST_CASE("a chunk sent as changed pages is stored as a small patch, cumulative against the base") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  const auto& keys = repo.keys();
  auto base = chunkPlaintext(1, kChunk);
  auto stored = sealChunk(keys, base);
  REQUIRE(repo.chunks().put(stored.id, BlobKind::Chunk, ChunkId(), kChunk, stored.envelope, nullptr));

  // Second version: pages 1 and 5 changed, sent against the base.
  auto second = touched(base, {1, 5}, 3);
  ChunkId secondId = idOf(keys, second);
  PatchOutcome outcome = repo.patcher().put(secondId, stored.id, pageSetEnvelope(keys, second, base));
  CHECK(outcome.stored);
  CHECK(outcome.patch);
  CHECK(outcome.bytes < stored.envelope.size() / 10);
  auto location = repo.chunks().locate(secondId);
  REQUIRE(location);
  CHECK(location->kind == BlobKind::Patch);
  CHECK(location->base == stored.id);
  CHECK(location->plainLength == kChunk);
  CHECK(location->pages == 8);

  // Third version, sent against the second: its patch still names the base, never the second.
  auto third = touched(second, {2}, 9);
  third.resize(kChunk - 3000);  // and shorter
  ChunkId thirdId = idOf(keys, third);
  outcome = repo.patcher().put(thirdId, secondId, pageSetEnvelope(keys, third, second));
  CHECK(outcome.patch);
  location = repo.chunks().locate(thirdId);
  REQUIRE(location);
  CHECK(location->base == stored.id);
  auto patchBlob = repo.chunks().readBlob(*location);
  EnvelopeCodec codec(keys, KeyPurpose::Data, PipelineSpec{});
  auto opened = codec.open(patchBlob, "patch");
  ByteBuffer rebuilt;
  applyPatch(opened.plaintext, stored.id, base, rebuilt, "third");
  CHECK(std::vector<uint8_t>(rebuilt.data(), rebuilt.data() + rebuilt.size()) == third);

  // Sent again: nothing is stored twice.
  outcome = repo.patcher().put(thirdId, secondId, pageSetEnvelope(keys, third, second));
  CHECK_FALSE(outcome.stored);
}

TEST_CASE("a chunk that changed throughout is stored whole and becomes a new base") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  const auto& keys = repo.keys();
  auto base = chunkPlaintext(1, kChunk);
  auto stored = sealChunk(keys, base);
  REQUIRE(repo.chunks().put(stored.id, BlobKind::Chunk, ChunkId(), kChunk, stored.envelope, nullptr));
  auto rewritten = chunkPlaintext(2, kChunk);
  ChunkId id = idOf(keys, rewritten);
  PatchOutcome outcome = repo.patcher().put(id, stored.id, pageSetEnvelope(keys, rewritten, base));
  CHECK(outcome.stored);
  CHECK_FALSE(outcome.patch);
  auto location = repo.chunks().locate(id);
  REQUIRE(location);
  CHECK(location->kind == BlobKind::Chunk);
  ChunkDecoder decoder(keys);
  auto plain = decoder.decode(repo.chunks().readBlob(*location), id);
  CHECK(std::vector<uint8_t>(plain.begin(), plain.end()) == rewritten);

  // A later version of it is patched against it.
  auto later = touched(rewritten, {0}, 1);
  ChunkId laterId = idOf(keys, later);
  outcome = repo.patcher().put(laterId, id, pageSetEnvelope(keys, later, rewritten));
  CHECK(outcome.patch);
  CHECK(repo.chunks().locate(laterId)->base == id);
}

TEST_CASE("pages that do not rebuild the named chunk, or an unknown earlier chunk, store nothing") {
  MemoryStorage storage;
  Repository repo(storage, testOptions());
  const auto& keys = repo.keys();
  auto base = chunkPlaintext(1, kChunk);
  auto stored = sealChunk(keys, base);
  REQUIRE(repo.chunks().put(stored.id, BlobKind::Chunk, ChunkId(), kChunk, stored.envelope, nullptr));
  auto changed = touched(base, {4}, 5);
  auto other = touched(base, {4}, 6);
  // The pages of one chunk offered under another chunk's id.
  ChunkId claimed = idOf(keys, other);
  Error error = thrown([&] { repo.patcher().put(claimed, stored.id, pageSetEnvelope(keys, changed, base)); });
  CHECK(error.code() == ErrorCode::Corrupt);
  CHECK(std::string(error.what()).find("does not match its id") != std::string::npos);
  CHECK_FALSE(repo.chunks().contains(claimed));

  ChunkId unknown = idOf(keys, chunkPlaintext(9, kChunk));
  error = thrown([&] { repo.patcher().put(idOf(keys, changed), unknown, pageSetEnvelope(keys, changed, base)); });
  CHECK(error.code() == ErrorCode::Corrupt);
  CHECK(std::string(error.what()).find("not in the repository") != std::string::npos);

  auto damaged = pageSetEnvelope(keys, changed, base);
  damaged[60] ^= 1;
  error = thrown([&] { repo.patcher().put(idOf(keys, changed), stored.id, damaged); });
  CHECK(error.code() == ErrorCode::Corrupt);
  CHECK_FALSE(repo.chunks().contains(idOf(keys, changed)));
}

TEST_CASE("blockmaps.get, chunks.patch and chunks.get over the wire") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  harness.run([&]() -> asio::awaitable<void> {
    const auto settings = harness.clientSettings();
    auto client = co_await Client::connect(settings);
    const json stanzaRequest = stanzaCreateRequest(clusterIdentity("main"));
    co_await call(client, stanzaRequest);
    const auto& keys = harness.keys();
    auto base = chunkPlaintext(7, kChunk);
    auto stored = sealChunk(keys, base);
    std::vector<uint8_t> records;
    appendChunkRecord(records, stored.id, stored.envelope);
    const json putRequest{{"op", "chunks.put"}, {"stanza", "main"}};
    const std::vector<std::vector<uint8_t>> putPieces{records};
    co_await upload(client, putRequest, putPieces);

    ChunkId unknown = idOf(keys, chunkPlaintext(8, kChunk));
    const json mapsRequest{{"op", "blockmaps.get"}, {"stanza", "main"}, {"ids", {stored.id.hex(), unknown.hex()}}};
    Download maps = co_await download(client, mapsRequest);
    ChunkHasher hasher(keys->chunkIdKey());
    hasher.hash(base);
    REQUIRE(maps.data.size() == 2 + 8 * 8 + 2);
    CHECK(maps.data[0] == 0);
    CHECK(maps.data[1] == 8);
    CHECK(std::vector<uint8_t>(maps.data.begin() + 2, maps.data.begin() + 66) ==
          std::vector<uint8_t>(hasher.blockMap().bytes().begin(), hasher.blockMap().bytes().end()));
    CHECK(maps.data[66] == 0);
    CHECK(maps.data[67] == 0);

    // chunks.patch record: u32 length | id | earlier id | envelope.
    auto changed = touched(base, {3}, 2);
    ChunkId changedId = idOf(keys, changed);
    auto envelope = pageSetEnvelope(keys, changed, base);
    std::vector<uint8_t> patchRecords(4);
    putU32(patchRecords, 0, static_cast<uint32_t>(64 + envelope.size()));
    patchRecords.insert(patchRecords.end(), changedId.bytes().begin(), changedId.bytes().end());
    patchRecords.insert(patchRecords.end(), stored.id.bytes().begin(), stored.id.bytes().end());
    patchRecords.insert(patchRecords.end(), envelope.begin(), envelope.end());
    // Split inside the record: records may span DATA frames.
    const std::vector<std::vector<uint8_t>> pieces{
        std::vector<uint8_t>(patchRecords.begin(), patchRecords.begin() + 50),
        std::vector<uint8_t>(patchRecords.begin() + 50, patchRecords.end())};
    const json patchRequest{{"op", "chunks.patch"}, {"stanza", "main"}};
    json response = co_await upload(client, patchRequest, pieces);
    CHECK(response["stored"] == 1);
    CHECK(response["patches"] == 1);
    CHECK(response["duplicates"] == 0);
    json again = co_await upload(client, patchRequest, pieces);
    CHECK(again["duplicates"] == 1);

    const json getRequest{{"op", "chunks.get"}, {"stanza", "main"}, {"ids", {changedId.hex()}}};
    Download got = co_await download(client, getRequest);
    uint8_t lastKind = 0;
    CHECK(rebuiltFromDownload(keys, got.data, changedId, lastKind) == changed);
    CHECK(lastKind == 2);

    // A record too short to hold two ids and an envelope is a protocol error.
    std::vector<uint8_t> shortRecord(4 + 40);
    putU32(shortRecord, 0, 40);
    const std::vector<std::vector<uint8_t>> shortPieces{shortRecord};
    auto send = [&]() -> asio::awaitable<void> { co_await upload(client, patchRequest, shortPieces); };
    auto error = co_await errorOf(send);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::Protocol);
    co_await client.close();
  });
}

TEST_CASE("a pack is sealed once its first chunk is older than the seal age") {
  MemoryStorage storage;
  ChunkStore store(storage, {.packSize = 64 * 1024 * 1024, .sealAge = std::chrono::milliseconds(0)});
  for (int i = 0; i < 3; ++i) {
    auto id = pgbr::repo::test::randomId();
    auto blob = pgbr::repo::test::randomBlob(1000);
    CHECK(store.put(id, BlobKind::Chunk, ChunkId(), 1000, blob, nullptr));
    CHECK(ChunkStore::isDurable(*store.locate(id)));
  }
  CHECK(store.stats().packsSealed == 3);
}
