#include "repo-server/chunk_store.h"

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

#include <algorithm>
#include <utility>

namespace pgbr::repo {
namespace {

bool inMemory(const ChunkLocation& location) {
  return std::all_of(location.pack.begin(), location.pack.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

// A pack's builder. The open one is modified only under the store's mutex; once it moves to
// sealing_ nothing modifies it again, so lookups read it concurrently with the sealing thread.
struct ChunkStore::Sealing {
  PackBuilder builder;
  std::chrono::steady_clock::time_point firstBlob;
};

ChunkStore::ChunkStore(Storage& storage, ChunkStoreOptions options)
    : storage_(storage), options_(options), open_(std::make_shared<Sealing>()) {
  for (const auto& entry : storage_.list("index")) {
    if (entry.directory || !entry.path.ends_with(".idx")) continue;
    auto id = entry.path.substr(0, entry.path.size() - 4);
    segments_.push_back(IndexSegment::open(storage_, id));
    stats_.indexedChunks += segments_.back()->entryCount();
  }
  stats_.segments = segments_.size();
}

ChunkStore::~ChunkStore() = default;

bool ChunkStore::isDurable(const ChunkLocation& location) { return !inMemory(location); }

std::vector<std::shared_ptr<IndexSegment>> ChunkStore::segmentsSnapshot() const {
  std::lock_guard lock(mutex_);
  return segments_;
}

const PackBuilder* ChunkStore::builderHolding(const ChunkId& id) const {
  if (open_->builder.find(id)) return &open_->builder;
  for (const auto& s : sealing_)
    if (s->builder.find(id)) return &s->builder;
  return nullptr;
}

std::optional<ChunkLocation> ChunkStore::locate(const ChunkId& id) const {
  {
    std::lock_guard lock(mutex_);
    if (auto* builder = builderHolding(id)) return *builder->find(id);
  }
  // Newest segments first: a chunk is usually looked up soon after it was stored.
  auto segments = segmentsSnapshot();
  for (auto it = segments.rbegin(); it != segments.rend(); ++it)
    if (auto loc = (*it)->lookup(id)) return loc;
  return std::nullopt;
}

bool ChunkStore::put(const ChunkId& id, BlobKind kind, const ChunkId& base, uint32_t plainLength,
                     std::span<const uint8_t> envelope, const BlockMap* blockMap) {
  if (contains(id)) return false;
  std::shared_ptr<Sealing> full;
  {
    std::lock_guard lock(mutex_);
    // Checked again under the lock: another session may have added it meanwhile.
    if (builderHolding(id)) return false;
    if (open_->builder.empty()) open_->firstBlob = std::chrono::steady_clock::now();
    open_->builder.add(id, kind, base, plainLength, envelope, blockMap);
    if (open_->builder.size() >= options_.packSize ||
        std::chrono::steady_clock::now() - open_->firstBlob >= options_.sealAge) {
      full = std::exchange(open_, std::make_shared<Sealing>());
      sealing_.push_back(full);
    }
  }
  if (full) sealAndWrite(full);
  return true;
}

void ChunkStore::sealAndWrite(const std::shared_ptr<Sealing>& sealing) {
  try {
    auto sealed = sealing->builder.seal();
    storage_.write(packPath(sealed.id), sealed.bytes, WriteMode::IfAbsent);
    auto segment = encodeIndexSegment(sealed.locations);
    storage_.write(indexSegmentPath(segment.id), segment.bytes, WriteMode::IfAbsent);
    std::shared_ptr<IndexSegment> opened = IndexSegment::open(storage_, segment.id);
    logDetail("sealed pack {} ({} blobs, {})", packIdHex(sealed.id), sealed.locations.size(),
              formatBytes(sealed.bytes.size()));
    std::lock_guard lock(mutex_);
    stats_.packsSealed++;
    stats_.bytesSealed += sealed.bytes.size();
    stats_.indexedChunks += opened->entryCount();
    segments_.push_back(std::move(opened));
    stats_.segments = segments_.size();
    sealing_.remove(sealing);
    sealed_.notify_all();
  } catch (...) {
    std::lock_guard lock(mutex_);
    sealing_.remove(sealing);
    sealed_.notify_all();
    throw;
  }
  mergeSegmentsIfNeeded();
}

void ChunkStore::flush() {
  std::shared_ptr<Sealing> last;
  std::vector<std::shared_ptr<Sealing>> earlier;  // seals in progress hold blobs put before this call
  {
    std::lock_guard lock(mutex_);
    earlier.assign(sealing_.begin(), sealing_.end());
    if (!open_->builder.empty()) {
      last = std::exchange(open_, std::make_shared<Sealing>());
      sealing_.push_back(last);
    }
  }
  if (last) sealAndWrite(last);
  // Only those: under steady uploads new seals keep starting, and waiting for an empty list
  // could take forever.
  std::unique_lock lock(mutex_);
  sealed_.wait(lock, [&] {
    return std::none_of(earlier.begin(), earlier.end(), [&](const std::shared_ptr<Sealing>& s) {
      return std::find(sealing_.begin(), sealing_.end(), s) != sealing_.end();
    });
  });
}

void ChunkStore::flushAfterFailure(std::string_view what) noexcept {
  try {
    flush();
  } catch (const std::exception& error) {
    logWarn("{} failed, and the chunks it stored could not be made durable: {}", what, error.what());
  }
}

void ChunkStore::mergeSegmentsIfNeeded() {
  std::vector<std::shared_ptr<IndexSegment>> inputs;
  {
    std::lock_guard lock(mutex_);
    if (merging_ || segments_.size() <= options_.maxSegments) return;
    merging_ = true;
    // The smallest segments, down to half the limit: large segments are rewritten rarely, so
    // the index is not rewritten whole (nor held in memory whole) every few packs.
    inputs = segments_;
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const auto& a, const auto& b) { return a->entryCount() < b->entryCount(); });
    inputs.resize(std::max<size_t>(2, segments_.size() - options_.maxSegments / 2));
  }
  try {
    std::vector<ChunkLocation> all;
    for (const auto& segment : inputs) {
      auto locations = segment->all();
      all.insert(all.end(), locations.begin(), locations.end());
    }
    auto merged = encodeIndexSegment(std::move(all));
    storage_.write(indexSegmentPath(merged.id), merged.bytes, WriteMode::IfAbsent);
    std::shared_ptr<IndexSegment> opened = IndexSegment::open(storage_, merged.id);
    {
      std::lock_guard lock(mutex_);
      // Segments added while merging stay; the inputs are replaced by the merged one.
      std::vector<std::shared_ptr<IndexSegment>> next{opened};
      for (const auto& s : segments_)
        if (std::find(inputs.begin(), inputs.end(), s) == inputs.end()) next.push_back(s);
      segments_ = std::move(next);
      stats_.segments = segments_.size();
      stats_.indexedChunks = 0;
      for (const auto& s : segments_) stats_.indexedChunks += s->entryCount();
      merging_ = false;
    }
    // The merged segment is durable, so the inputs can go. A crash before this leaves
    // duplicates, which are harmless and merged away next time.
    for (const auto& s : inputs)
      if (s->id() != merged.id) storage_.remove(indexSegmentPath(s->id()));
    logDetail("merged {} index segments into {}", inputs.size(), merged.id);
  } catch (...) {
    std::lock_guard lock(mutex_);
    merging_ = false;
    throw;
  }
}

std::shared_ptr<ChunkStore::PackReader> ChunkStore::packReader(const PackId& id) const {
  std::lock_guard lock(readersMutex_);
  for (auto it = readers_.begin(); it != readers_.end(); ++it) {
    if (it->first == id) {
      readers_.splice(readers_.begin(), readers_, it);
      return readers_.front().second;
    }
  }
  auto reader = std::make_shared<PackReader>();
  reader->reader = storage_.openRead(packPath(id));
  readers_.emplace_front(id, reader);
  // A reader in use when it leaves the cache lives on until its reader is done.
  if (readers_.size() > options_.openPackReaders) readers_.pop_back();
  return reader;
}

std::optional<ChunkLocation> ChunkStore::onDisk(const ChunkLocation& location) const {
  if (!inMemory(location)) return location;
  auto found = locate(location.id);
  if (!found) fail(ErrorCode::Internal, "chunk {} vanished while being read", location.id.hex());
  if (inMemory(*found)) return std::nullopt;
  return found;
}

std::vector<uint8_t> ChunkStore::readBlob(const ChunkLocation& location) const {
  if (inMemory(location)) {
    std::lock_guard lock(mutex_);
    if (auto* builder = builderHolding(location.id)) {
      auto blob = builder->blob(*builder->find(location.id));
      return {blob.begin(), blob.end()};
    }
  }
  auto loc = onDisk(location);
  if (!loc) return readBlob(*locate(location.id));
  auto pack = packReader(loc->pack);
  std::lock_guard lock(pack->mutex);  // a reader serves one thread at a time
  return repo::readBlob(*pack->reader, *loc);
}

std::optional<BlockMap> ChunkStore::readBlockMap(const ChunkLocation& location) const {
  if (location.blockMapOffset == kNoOffset) return std::nullopt;
  if (inMemory(location)) {
    std::lock_guard lock(mutex_);
    if (auto* builder = builderHolding(location.id)) return builder->blockMap(*builder->find(location.id));
  }
  auto loc = onDisk(location);
  if (!loc) return readBlockMap(*locate(location.id));
  auto pack = packReader(loc->pack);
  std::lock_guard lock(pack->mutex);
  return repo::readBlockMap(*pack->reader, *loc);
}

ChunkStoreStats ChunkStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace pgbr::repo
