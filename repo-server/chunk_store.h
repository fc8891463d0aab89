// The content-addressed chunk store shared by every backup of every stanza: new blobs are
// appended to an open pack; a full pack is sealed, written durably, then named in a new index
// segment; lookups consult the open pack, packs being sealed, and the index segments.
//
// Durability: put() makes a blob findable at once but durable only after the pack holding it is
// sealed; flush() seals the open pack and returns when everything put before it is durable. A
// pack is sealed once it is full or once its first blob is sealAge old (at the next put), so a
// crash during a long backup loses little of what was sent: chunks in sealed packs are never
// sent again when the backup is resumed.
// Threading: every member is safe to call from many threads; sealing runs in the caller's
// thread without blocking lookups or other put() calls.
#pragma once

#include "common/storage/storage.h"
#include "repo-server/entry_table.h"
#include "repo-server/index_segment.h"
#include "repo-server/pack.h"

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace pgbr::repo {

struct ChunkStoreOptions {
  size_t packSize = 32 * 1024 * 1024;   // seal a pack once it holds this many bytes
  std::chrono::milliseconds sealAge{15'000};  // or once its first blob is this old
  size_t maxSegments = 16;              // merge index segments beyond this many
  size_t openPackReaders = 64;          // packs kept open for reading
};

struct ChunkStoreStats {
  uint64_t segments = 0;
  uint64_t indexedChunks = 0;
  uint64_t packsSealed = 0;     // by this process
  uint64_t bytesSealed = 0;     // by this process
};

class ChunkStore {
public:
  // Loads every index segment under index/; throws Corrupt for a damaged one.
  ChunkStore(Storage& storage, ChunkStoreOptions options = {});
  ~ChunkStore();

  std::optional<ChunkLocation> locate(const ChunkId& id) const;
  bool contains(const ChunkId& id) const { return locate(id).has_value(); }
  // True when a location returned by locate() is in a sealed, indexed pack; false while its pack
  // is still in memory (and so lost if the process ends or the pack fails to seal).
  static bool isDurable(const ChunkLocation& location);

  // Adds a verified blob. Returns false (adding nothing) when the id is already stored. May seal
  // the open pack (in this thread) when it is full. Throws FileWrite when sealing fails; blobs
  // of a pack that failed to seal are forgotten (their senders must send them again).
  bool put(const ChunkId& id, BlobKind kind, const ChunkId& base, uint32_t plainLength,
           std::span<const uint8_t> envelope, const BlockMap* blockMap);

  // Seals the open pack and waits for the seals in progress when it was called: afterwards every
  // blob put before the call is durable and indexed, unless a seal by another thread failed
  // (its blobs are forgotten: check with isDurable()). Throws FileWrite when its own seal fails.
  void flush();
  // flush() after a request failed: what was stored before the failure becomes durable, so a
  // backup tried again does not send it again. A failure here is logged (naming `what`), not
  // thrown: the caller reports the request's own error.
  void flushAfterFailure(std::string_view what) noexcept;

  // The stored blob (envelope) of a location returned by locate(), and its block map.
  std::vector<uint8_t> readBlob(const ChunkLocation& location) const;
  std::optional<BlockMap> readBlockMap(const ChunkLocation& location) const;

  ChunkStoreStats stats() const;

private:
  struct Sealing;
  void sealAndWrite(const std::shared_ptr<Sealing>& sealing);
  void mergeSegmentsIfNeeded();
  // The builder (open or being sealed) holding id, or null. Call with mutex_ held.
  const PackBuilder* builderHolding(const ChunkId& id) const;
  // The on-disk location of a location that may still be in memory; nullopt while its pack is
  // still being written (the caller looks again).
  std::optional<ChunkLocation> onDisk(const ChunkLocation& location) const;
  // A pack open for reading, used by one thread at a time under its own mutex, so reads of
  // different packs run in parallel.
  struct PackReader {
    std::mutex mutex;
    std::unique_ptr<StorageReader> reader;
  };
  std::shared_ptr<PackReader> packReader(const PackId& id) const;
  std::vector<std::shared_ptr<IndexSegment>> segmentsSnapshot() const;

  Storage& storage_;
  ChunkStoreOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable sealed_;
  std::shared_ptr<Sealing> open_;                       // accepting blobs
  std::list<std::shared_ptr<Sealing>> sealing_;          // being written; still answer lookups
  std::vector<std::shared_ptr<IndexSegment>> segments_;
  ChunkStoreStats stats_;
  bool merging_ = false;

  mutable std::mutex readersMutex_;
  mutable std::list<std::pair<PackId, std::shared_ptr<PackReader>>> readers_;  // most recent first
};

}  // namespace pgbr::repo
