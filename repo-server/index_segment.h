// Index segments (docs/repository-format.md "Index segments"): durable, sorted entry tables
// that map chunk ids to pack locations. IndexSegment answers lookups from disk with only a
// sparse fence of ids and a Bloom filter in memory, so memory grows by about 1.5 bytes per
// chunk, not with the size of the index. Lookups are thread-safe.
#pragma once

#include "common/storage/storage.h"
#include "repo-server/entry_table.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::repo {

// The bytes of a segment file for these locations, and its id (SHA-256 of the content).
struct EncodedSegment {
  std::string id;  // hex
  std::vector<uint8_t> bytes;
};
EncodedSegment encodeIndexSegment(std::vector<ChunkLocation> locations);
std::string indexSegmentPath(const std::string& id);

class IndexSegment {
public:
  // Reads the whole segment once, checks its hash and structure, and keeps the fence and the
  // Bloom filter. Throws Corrupt naming the segment.
  static std::unique_ptr<IndexSegment> open(Storage& storage, const std::string& id);

  const std::string& id() const { return id_; }
  uint64_t entryCount() const { return layout_.entryCount; }
  std::optional<ChunkLocation> lookup(const ChunkId& id) const;
  // Every location, decoded (for merging and verification).
  std::vector<ChunkLocation> all() const;

private:
  IndexSegment() = default;
  ChunkLocation resolve(const RawEntry& raw) const;
  void readAt(uint64_t tableOffset, std::span<uint8_t> out) const;
  bool mayContain(const ChunkId& id) const;

  std::string id_;
  std::unique_ptr<StorageReader> reader_;
  mutable std::mutex readerMutex_;
  EntryTableLayout layout_;
  std::vector<ChunkId> fence_;    // the id of every kFenceStride-th entry
  std::vector<uint64_t> bloom_;   // bit set
  uint64_t bloomBits_ = 0;
};

}  // namespace pgbr::repo
