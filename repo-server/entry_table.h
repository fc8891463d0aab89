// The entry table (docs/repository-format.md "Entry table"): the sorted list of blobs that a
// pack trailer describes for one pack and an index segment for many. Encoding and decoding
// only; plain values, thread-compatible.
#pragma once

#include "common/filter/chunk_id.h"
#include "common/filter/crypto.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

using PackId = Sha256Digest;

// Stored in entries: never renumber.
enum class BlobKind : uint8_t { Chunk = 1, Patch = 2 };

inline constexpr uint32_t kNoOffset = 0xFFFFFFFF;
inline constexpr size_t kEntrySize = 64;

// Where one chunk lives and how to rebuild it. For a patch, `base` names the whole chunk the
// patch applies to; for a whole chunk it is zero.
struct ChunkLocation {
  ChunkId id;
  PackId pack{};
  uint32_t offset = 0;          // of the blob (envelope) in the pack
  uint32_t length = 0;          // of the blob
  uint32_t plainLength = 0;     // of the chunk (rebuilt chunk for a patch)
  uint32_t blockMapOffset = kNoOffset;
  uint8_t pages = 0;            // tags in the block map
  BlobKind kind = BlobKind::Chunk;
  ChunkId base;

  bool operator==(const ChunkLocation&) const = default;
};

// Encodes locations (in any order, any packs) as an entry table; duplicates of an id keep the
// first. Throws Internal for a patch whose base is zero.
std::vector<uint8_t> encodeEntryTable(std::vector<ChunkLocation> locations);

// Decodes and validates a table: counts within the bytes, ids strictly increasing, ordinals in
// range, kinds known. `packOverride` replaces the pack ids (a pack trailer stores zeros).
// Throws Corrupt naming `what`.
std::vector<ChunkLocation> decodeEntryTable(std::span<const uint8_t> bytes, std::string_view what,
                                            const PackId* packOverride = nullptr);

std::string packIdHex(const PackId& id);

// Random access to an encoded entry table without decoding it whole (index segments on disk).
struct EntryTableLayout {
  uint64_t packCount = 0, baseCount = 0, entryCount = 0;
  uint64_t packsOffset = 0, basesOffset = 0, entriesOffset = 0, size = 0;
};
inline constexpr size_t kEntryTableHeaderSize = 16;
// Reads the counts from the table's 16-byte header; checks them against the table's size.
EntryTableLayout entryTableLayout(std::span<const uint8_t> header, uint64_t tableSize, std::string_view what);

// One 64-byte entry with its ordinals unresolved.
struct RawEntry {
  ChunkLocation location;  // pack and base not filled in
  uint32_t packOrdinal = 0;
  uint32_t baseOrdinal = kNoOffset;
};
RawEntry decodeEntry(std::span<const uint8_t> entry);

}  // namespace pgbr::repo
