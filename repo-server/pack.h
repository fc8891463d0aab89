// Pack files (docs/repository-format.md "Packs"): PackBuilder collects blobs in memory until
// the pack is sealed into its final bytes and content address; the free functions read a
// sealed pack through the storage interface. A builder belongs to one thread at a time.
#pragma once

#include "common/storage/storage.h"
#include "repo-server/entry_table.h"

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgbr::repo {

inline constexpr size_t kPackHeaderSize = 16;
inline constexpr size_t kPackFooterSize = 48;

// "packs/ab/ab12….pack"
std::string packPath(const PackId& id);

class PackBuilder {
public:
  PackBuilder();

  // Appends one blob (a chunk or patch envelope). Returns false, adding nothing, when the id is
  // already in this pack. blockMap may be null (no map: e.g. non-relation data is still mapped,
  // but callers may omit it).
  bool add(const ChunkId& id, BlobKind kind, const ChunkId& base, uint32_t plainLength,
           std::span<const uint8_t> envelope, const BlockMap* blockMap);

  bool empty() const { return locations_.empty(); }
  size_t blobCount() const { return locations_.size(); }
  // Bytes the sealed pack will have (approximately: plus the trailer).
  size_t size() const { return bytes_.size() + blockMaps_.size(); }

  // The location of an id added to this unsealed pack (pack id zero, block map offset relative
  // to the block-map area), and its blob bytes.
  const ChunkLocation* find(const ChunkId& id) const;
  std::span<const uint8_t> blob(const ChunkLocation& location) const;
  std::optional<BlockMap> blockMap(const ChunkLocation& location) const;

  struct Sealed {
    PackId id;
    std::vector<uint8_t> bytes;
    std::vector<ChunkLocation> locations;  // with the pack id and final block-map offsets
  };
  // The finished pack's bytes. The builder is left as it was (it keeps answering lookups while
  // the pack is written). Throws Internal on an empty builder or a pack beyond 4 GiB.
  Sealed seal() const;

private:
  std::vector<uint8_t> bytes_;      // header + blobs
  std::vector<uint8_t> blockMaps_;  // block-map area
  std::vector<ChunkLocation> locations_;
  std::unordered_map<ChunkId, size_t> byId_;
};

struct PackTrailer {
  std::vector<ChunkLocation> locations;
  uint64_t size = 0;
};

// Reads and checks a sealed pack's footer and trailer (not the whole-file hash). Throws Corrupt
// naming `what`.
PackTrailer readPackTrailer(StorageReader& reader, const PackId& id, std::string_view what);
// Checks a whole sealed pack in memory: magic, hash = id, trailer, every blob and block map
// inside the pack. Throws Corrupt.
PackTrailer checkPackBytes(std::span<const uint8_t> bytes, const PackId& id, std::string_view what);

std::vector<uint8_t> readBlob(StorageReader& reader, const ChunkLocation& location);
BlockMap readBlockMap(StorageReader& reader, const ChunkLocation& location);

}  // namespace pgbr::repo
