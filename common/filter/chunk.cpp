#include "common/filter/chunk.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <algorithm>

namespace pgbr {

ChunkHasher::ChunkHasher(const SecretKey& chunkIdKey) : mac_(chunkIdKey) {}

ChunkId ChunkHasher::hash(std::span<const uint8_t> plaintext) {
  size_t pages = (plaintext.size() + kPageSize - 1) / kPageSize;
  tags_.resize(kChunkIdLabel.size() + 8 + pages * sizeof(Sha256Digest));
  blockBytes_.resize(pages * kBlockTagSize);
  std::span<uint8_t> prefix = tags_.span();
  std::copy(kChunkIdLabel.begin(), kChunkIdLabel.end(), prefix.begin());
  putU64(prefix, kChunkIdLabel.size(), plaintext.size());
  uint8_t* tag = tags_.data() + kChunkIdLabel.size() + 8;
  for (size_t i = 0; i < pages; ++i, tag += sizeof(Sha256Digest)) {
    size_t at = i * kPageSize;
    Sha256Digest digest = mac_.mac(plaintext.subspan(at, std::min(kPageSize, plaintext.size() - at)));
    std::copy(digest.begin(), digest.end(), tag);
    std::copy_n(digest.begin(), kBlockTagSize, blockBytes_.data() + i * kBlockTagSize);
  }
  blockMap_.assign(blockBytes_.span());
  Sha256Digest id = mac_.mac(tags_.span());
  return ChunkId(id);
}

ChunkEncoder::ChunkEncoder(std::shared_ptr<const Keyring> keys, const PipelineSpec& spec)
    : hasher_(keys ? keys->chunkIdKey() : SecretKey()), codec_(keys, KeyPurpose::Data, spec) {}

EncodedChunk ChunkEncoder::encode(std::span<const uint8_t> plaintext) {
  if (plaintext.size() > codec_.spec().chunkSize)
    fail(ErrorCode::Internal, "a chunk of {} bytes exceeds the chunk size {}", plaintext.size(), codec_.spec().chunkSize);
  ChunkId id = hasher_.hash(plaintext);
  return {id, hasher_.blockMap(), seal(plaintext)};
}

ChunkDecoder::ChunkDecoder(std::shared_ptr<const Keyring> keys)
    : hasher_(keys ? keys->chunkIdKey() : SecretKey()), codec_(keys, KeyPurpose::Data, PipelineSpec{}) {}

std::span<const uint8_t> ChunkDecoder::decode(std::span<const uint8_t> envelope, const ChunkId& expected) {
  std::string what = "chunk " + expected.hex();
  auto opened = codec_.open(envelope, what);
  if (opened.header.kind != EnvelopeKind::Chunk)
    fail(ErrorCode::Corrupt, "{} is a record envelope, not a chunk envelope", what);
  ChunkId actual = hasher_.hash(opened.plaintext);
  if (actual != expected)
    fail(ErrorCode::Corrupt, "{} does not match its content (the content hashes to {}): it was altered or misfiled",
         what, actual.hex());
  return opened.plaintext;
}

}  // namespace pgbr
