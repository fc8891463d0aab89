// Chunks: the unit of deduplication (docs/chunk-format.md §4-5). ChunkHasher computes a chunk's
// keyed id and block map in one pass over its bytes; ChunkEncoder adds sealing (compress +
// encrypt into an envelope); ChunkDecoder opens an envelope and re-derives the id, so a chunk
// is never accepted under an id it does not have (DESIGN §9: the server never takes an agent's
// word for an id).
//
// Each object owns reusable contexts and buffers and belongs to one thread; keep one per worker.
// Returned spans and references stay valid until the next call on the same object.
#pragma once

#include "common/filter/chunk_id.h"
#include "common/filter/envelope.h"

#include <memory>
#include <span>

namespace pgbr {

inline constexpr std::string_view kChunkIdLabel = "pgbr-chunk-v1";

class ChunkHasher {
public:
  explicit ChunkHasher(const SecretKey& chunkIdKey);

  // id = HMAC(K_id, "pgbr-chunk-v1" || u64be(length) || tag_1 || ... || tag_n) where
  // tag_i = HMAC(K_id, page_i) over the 8 KiB pages of the chunk (the last may be short); the
  // block map keeps the first 8 bytes of each tag.
  ChunkId hash(std::span<const uint8_t> plaintext);
  const BlockMap& blockMap() const { return blockMap_; }

private:
  HmacSha256 mac_;
  ByteBuffer tags_;
  ByteBuffer blockBytes_;
  BlockMap blockMap_;
};

struct EncodedChunk {
  ChunkId id;
  const BlockMap& blockMap;
  std::span<const uint8_t> envelope;
};

class ChunkEncoder {
public:
  ChunkEncoder(std::shared_ptr<const Keyring> keys, const PipelineSpec& spec);

  // Hashes only: the agent asks the server which ids it lacks before paying for compression.
  ChunkId hash(std::span<const uint8_t> plaintext) { return hasher_.hash(plaintext); }
  const BlockMap& blockMap() const { return hasher_.blockMap(); }
  // Seals only (compress, encrypt) into a chunk envelope.
  std::span<const uint8_t> seal(std::span<const uint8_t> plaintext) {
    return codec_.seal(EnvelopeKind::Chunk, 0, 0, plaintext);
  }
  // Both. Throws Internal for a chunk longer than the spec's chunk size.
  EncodedChunk encode(std::span<const uint8_t> plaintext);

  const PipelineSpec& spec() const { return codec_.spec(); }

private:
  ChunkHasher hasher_;
  EnvelopeCodec codec_;
};

class ChunkDecoder {
public:
  explicit ChunkDecoder(std::shared_ptr<const Keyring> keys);

  // Opens a chunk envelope, decompresses it and checks that its plaintext hashes to expected.
  // Throws Corrupt (naming the id) for any damage, a wrong key, or an id mismatch. The returned
  // plaintext is valid until the next call; blockMap() then holds its block map.
  std::span<const uint8_t> decode(std::span<const uint8_t> envelope, const ChunkId& expected);
  const BlockMap& blockMap() const { return hasher_.blockMap(); }

private:
  ChunkHasher hasher_;
  EnvelopeCodec codec_;
};

}  // namespace pgbr
