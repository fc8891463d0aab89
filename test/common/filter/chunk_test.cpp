#include "common/filter/chunk.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"
#include "test/common/filter/filter_test_util.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr;
using pgbr::test::testKeyring;

namespace {
using pgbr::test::errorCodeOf;
}  // namespace

TEST_CASE("the chunk id is HMAC over the label, the length and the per-page tags") {
  auto keys = testKeyring();
  auto pages = pgbr::test::pgbenchPages(2);
  std::vector<uint8_t> plain(pages.begin(), pages.end() - 100);  // the last page is short
  ChunkHasher hasher(keys->chunkIdKey());
  ChunkId id = hasher.hash(plain);

  std::vector<uint8_t> input{'p', 'g', 'b', 'r', '-', 'c', 'h', 'u', 'n', 'k', '-', 'v', '1', 0, 0, 0, 0, 0, 0, 0, 0};
  putU64(input, 13, plain.size());
  std::vector<uint8_t> blockMap;
  for (size_t at = 0; at < plain.size(); at += kPageSize) {
    auto tag = hmacSha256(keys->chunkIdKey().bytes(), std::span(plain).subspan(at, std::min(kPageSize, plain.size() - at)));
    input.insert(input.end(), tag.begin(), tag.end());
    blockMap.insert(blockMap.end(), tag.begin(), tag.begin() + 8);
  }
  CHECK(id == ChunkId(hmacSha256(keys->chunkIdKey().bytes(), input)));
  CHECK(hasher.blockMap() == BlockMap(blockMap));
  CHECK(hasher.blockMap().pageCount() == 2);
}

TEST_CASE("worked example of docs/chunk-format.md: master key 00..1f, 8 KiB of 'a' then \"pgbr\"") {
  std::array<uint8_t, kKeySize> master{};
  for (size_t i = 0; i < master.size(); ++i) master[i] = static_cast<uint8_t>(i);
  Keyring keyring(SecretKey(master), 1);
  std::string text = std::string(kPageSize, 'a') + "pgbr";
  std::vector<uint8_t> plain(text.begin(), text.end());
  ChunkHasher hasher(keyring.chunkIdKey());
  ChunkId id = hasher.hash(plain);
  // Values computed independently (Python hmac/hashlib) when the format was written down.
  CHECK(toHex(keyring.chunkIdKey().bytes()) == "dbd2c5cc69b60675f55656bb6d9e4c3e73f8e54bf3f4be483165af8fa47ff458");
  CHECK(toHex(keyring.key(KeyPurpose::Data, 1).bytes()) ==
        "c35377ba196f2f2e24d9601b8231033fc56101bd3020ae26b2859660b4de25d5");
  CHECK(toHex(keyring.key(KeyPurpose::Metadata, 1).bytes()) ==
        "3db883763018fe8a0ef6c0826b5a72e9c9d25aff319b3187df578e8fdb36255e");
  CHECK(toHex(hasher.blockMap().bytes()) == "3e6b8bc60492739119bc35679775a34e");
  CHECK(id.hex() == "47ad6a9252e037cc99a1ed4760d9b31204fadffa5c50e590d128af8dd7115dd4");
}

TEST_CASE("equal content gives equal ids; one changed byte gives a different id") {
  auto keys = testKeyring();
  ChunkEncoder encoder(keys, PipelineSpec{});
  auto plain = pgbr::test::pgbenchPages(32);
  ChunkId first = encoder.hash(plain);
  CHECK(encoder.hash(plain) == first);
  CHECK(ChunkEncoder(keys, PipelineSpec{.compression = Compression::Lz4}).hash(plain) == first);
  for (size_t at : {size_t{0}, plain.size() / 2, plain.size() - 1}) {
    auto changed = plain;
    changed[at] ^= 1;
    CHECK(encoder.hash(changed) != first);
  }
  auto longer = plain;
  longer.push_back(0);
  CHECK(encoder.hash(longer) != first);
  CHECK(ChunkEncoder(testKeyring(2), PipelineSpec{}).hash(plain) != first);  // ids are keyed
}

TEST_CASE("the block map changes exactly at the changed page") {
  ChunkEncoder encoder(testKeyring(), PipelineSpec{});
  auto plain = pgbr::test::pgbenchPages(32);
  encoder.hash(plain);
  BlockMap base = encoder.blockMap();
  CHECK(base.pageCount() == 32);
  auto changed = plain;
  changed[17 * kPageSize + 4000] ^= 0x40;
  changed[30 * kPageSize] ^= 0x01;
  encoder.hash(changed);
  CHECK(encoder.blockMap().changedPages(base) == std::vector<uint32_t>{17, 30});
}

TEST_CASE("an encoded chunk decodes to its plaintext and its id is verified") {
  auto keys = testKeyring();
  auto plain = pgbr::test::pgbenchPages(32);
  for (auto cipher : {Cipher::None, Cipher::Aes256Gcm}) {
    ChunkEncoder encoder(keys, PipelineSpec{.cipher = cipher});
    EncodedChunk chunk = encoder.encode(plain);
    std::vector<uint8_t> envelope(chunk.envelope.begin(), chunk.envelope.end());
    BlockMap blockMap = chunk.blockMap;
    ChunkDecoder decoder(keys);
    auto back = decoder.decode(envelope, chunk.id);
    CHECK(std::vector<uint8_t>(back.begin(), back.end()) == plain);
    CHECK(decoder.blockMap() == blockMap);
  }
}

TEST_CASE("a valid envelope presented under another chunk's id is Corrupt") {
  auto keys = testKeyring();
  ChunkEncoder encoder(keys, PipelineSpec{});
  auto a = pgbr::test::pgbenchPages(4, 1);
  auto b = pgbr::test::pgbenchPages(4, 1000);
  ChunkId idA = encoder.hash(a);
  auto envelopeB = encoder.seal(b);
  std::vector<uint8_t> poisoned(envelopeB.begin(), envelopeB.end());
  ChunkDecoder decoder(keys);
  try {
    decoder.decode(poisoned, idA);
    FAIL("accepted a chunk under a foreign id");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Corrupt);
    CHECK(std::string(e.what()).starts_with("chunk " + idA.hex() + " does not match its content"));
  }
}

TEST_CASE("decoding with the wrong repository key fails; record envelopes are not chunks") {
  auto plain = pgbr::test::pgbenchPages(4);
  ChunkEncoder encoder(testKeyring(1), PipelineSpec{});
  auto chunk = encoder.encode(plain);
  std::vector<uint8_t> envelope(chunk.envelope.begin(), chunk.envelope.end());
  ChunkDecoder other(testKeyring(2));
  CHECK(errorCodeOf([&] { other.decode(envelope, chunk.id); }) == ErrorCode::Corrupt);

  EnvelopeCodec records(testKeyring(1), KeyPurpose::Data, PipelineSpec{});
  auto record = records.seal(EnvelopeKind::LastRecord, 5, 0, plain);
  ChunkDecoder decoder(testKeyring(1));
  CHECK(errorCodeOf([&] { decoder.decode(std::vector<uint8_t>(record.begin(), record.end()), chunk.id); }) ==
        ErrorCode::Corrupt);
}

TEST_CASE("an empty chunk has an id and no pages; an oversized chunk is refused") {
  ChunkEncoder encoder(testKeyring(), PipelineSpec{.chunkSize = 8192});
  auto chunk = encoder.encode({});
  CHECK_FALSE(chunk.id.isZero());
  CHECK(chunk.blockMap.pageCount() == 0);
  CHECK(errorCodeOf([&] { encoder.encode(std::vector<uint8_t>(8193)); }) == ErrorCode::Internal);
}
