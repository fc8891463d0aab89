// Helpers for repository unit tests: random ids, block maps and blobs.
#pragma once

#include "common/filter/chunk_id.h"
#include "common/filter/crypto.h"

#include <vector>

namespace pgbr::repo::test {

inline ChunkId randomId() {
  std::array<uint8_t, 32> bytes{};
  randomBytes(bytes);
  return ChunkId(bytes);
}

inline std::vector<uint8_t> randomBlob(size_t size) {
  std::vector<uint8_t> bytes(size);
  randomBytes(bytes);
  return bytes;
}

inline BlockMap randomBlockMap(size_t pages) { return BlockMap(randomBlob(pages * kBlockTagSize)); }

}  // namespace pgbr::repo::test
