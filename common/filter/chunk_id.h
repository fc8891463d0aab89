// Value types for chunk identities (docs/chunk-format.md §4): ChunkId, the keyed 32-byte content
// address of a chunk; BlockMap, the first 8 bytes of each 8 KiB page's keyed tag, which lets an
// incremental backup see which pages of a chunk changed; and the file checksum (a hash list over
// the ordered chunk ids). Plain values: copyable, comparable, hashable, thread-compatible.
#pragma once

#include "common/filter/crypto.h"

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

constexpr size_t kPageSize = 8192;
constexpr size_t kBlockTagSize = 8;

class ChunkId {
public:
  static constexpr size_t kSize = 32;

  ChunkId() = default;  // all zero: "no chunk"
  explicit ChunkId(std::span<const uint8_t, kSize> bytes);
  // Parses 64 lower- or upper-case hex digits; nullopt otherwise.
  static std::optional<ChunkId> fromHex(std::string_view text);

  std::span<const uint8_t, kSize> bytes() const { return bytes_; }
  std::string hex() const;  // 64 lower-case hex digits
  bool isZero() const;

  auto operator<=>(const ChunkId&) const = default;
  bool operator==(const ChunkId&) const = default;

private:
  std::array<uint8_t, kSize> bytes_{};
};

// The per-page tags of one chunk: 8 bytes per 8 KiB page (the last page may be short).
class BlockMap {
public:
  BlockMap() = default;
  // bytes.size() must be a multiple of kBlockTagSize (throws Format otherwise).
  explicit BlockMap(std::span<const uint8_t> bytes);

  size_t pageCount() const { return bytes_.size() / kBlockTagSize; }
  std::span<const uint8_t, kBlockTagSize> page(size_t index) const {
    return std::span(bytes_).subspan(index * kBlockTagSize).first<kBlockTagSize>();
  }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // Indexes of pages whose tags differ; pages beyond the shorter map count as changed.
  std::vector<uint32_t> changedPages(const BlockMap& base) const;

  bool operator==(const BlockMap&) const = default;

  // For builders (ChunkHasher): replaces the contents without reallocating.
  void assign(std::span<const uint8_t> bytes);

private:
  std::vector<uint8_t> bytes_;
};

// A file's checksum, computed as its chunks go by: SHA-256("pgbr-file-v1" || id_1 || ... ||
// id_n || u64be(size)). The size comes last so the hash streams without buffering ids.
class FileChecksum {
public:
  FileChecksum();
  void add(const ChunkId& id);
  // size is the file's plaintext size. Starts over afterwards.
  Sha256Digest finish(uint64_t size);

private:
  Sha256 hash_;
};

}  // namespace pgbr

template <>
struct std::hash<pgbr::ChunkId> {
  size_t operator()(const pgbr::ChunkId& id) const noexcept {
    // The id is already a keyed hash: any 8 of its bytes are uniformly distributed.
    size_t value = 0;
    for (size_t i = 0; i < sizeof value; ++i) value = (value << 8) | id.bytes()[i];
    return value;
  }
};
