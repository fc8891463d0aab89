// The per-worker half of a restore: a RestoreWriter creates the files handed to it (through the
// RestoreTree, so never outside the data directory and its tablespaces), gathers their chunk ids
// into a batch (a few MiB, each id once), fetches the batch with one chunks.get request, opens
// every chunk and checks it against its id (rebuilding patched chunks from base and patch first),
// and only then writes it with pwrite at its offsets. A file is finished — mode, owner, mtime,
// fsync (at once, or later through DeferredSyncs) — when its last chunk is written. A failure names the file it concerns.
//
// A delta restore hands over files that already exist (RestoreJob::local): one whose size and
// mtime match the manifest, and was last modified before the backup started, is kept as it is
// (with force, only after every chunk read back hashes to the manifest's id); otherwise each chunk on disk is hashed and only the chunks whose id
// differs from the manifest's are fetched, and of those only the 8 KiB pages that differ are
// written in place; then the file is cut to its size.
//
// Each RestoreWriter belongs to one worker thread; RestoreContext is shared and thread-safe.
#pragma once

#include "agent/progress.h"
#include "agent/record_framer.h"
#include "agent/repo_client.h"
#include "agent/restore_tree.h"
#include "common/filter/chunk.h"
#include "common/manifest/manifest.h"

#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pgbr::agent {

// Ownership by (user, group) names, resolved once per pair (thread-safe).
class OwnershipCache {
 public:
  Ownership get(const std::string& user, const std::string& group);

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Ownership> cache_;
};

// What a restore fetched and kept (any worker adds; read at the end and by the progress line).
struct RestoreStats {
  std::atomic<uint64_t> bytesFetched{0};  // chunks.get record bytes received (compressed, encrypted)
  std::atomic<uint64_t> chunksFetched{0};
  std::atomic<uint64_t> bytesWritten{0};  // plaintext written into files
  std::atomic<uint64_t> bytesKept{0};     // delta: bytes already right on disk
  std::atomic<uint64_t> filesKept{0};     // delta: files left as they were
  std::atomic<uint64_t> filesUpdated{0};  // delta: existing files rewritten where they differed
};

// An existing regular file a delta restore found at a manifest path.
struct LocalFile {
  uint64_t size = 0;
  int64_t mtime = 0;
};

// A large file is restored as parts (chunk ranges) that any worker may take, so the workers share
// it rather than one of them writing (or, in a delta restore, hashing) it all while the others
// wait. The parts of a file share one FileParts: the worker that finishes the last part finishes
// the file (size, attributes, one fsync, which covers what every part wrote to the inode).
struct FileParts {
  explicit FileParts(size_t count) : left(count) {}
  std::atomic<size_t> left;          // parts not finished yet
  std::atomic<size_t> fetched{0};    // chunks fetched over all parts
};

struct RestoreJob {
  ManifestEntry entry;
  std::optional<LocalFile> local;  // delta restore: the file is there already
  // A part of a file: its chunks [firstChunk, endChunk). The file was created (when new) before
  // its parts were queued, so every part opens it.
  std::shared_ptr<FileParts> parts;
  size_t firstChunk = 0;
  size_t endChunk = 0;
};

// The fsyncs of restored files, taken out of the workers' way: a finished file has its writeback
// started (sync_file_range) and its path recorded; syncAll() later reopens and fsyncs every
// recorded file on several threads — as PostgreSQL syncs a data directory after a crash — so the
// disk works while the workers fetch and write, and the syncs overlap instead of each waiting for a
// journal commit of its own. A restore calls syncAll() before it writes backup_label and again
// before it reports success. At most `limit` paths wait: the worker that reaches it syncs them.
//
// Thread-safe.
class DeferredSyncs {
 public:
  DeferredSyncs(RestoreTree& tree, size_t limit) : tree_(tree), limit_(limit) {}

  // Starts the writeback of the open file at path and records it (or fsyncs now, past the limit).
  void add(int fd, std::string path);
  // fsyncs every recorded file on `threads` threads; throws the first failure.
  void syncAll(unsigned threads);

 private:
  std::vector<std::string> take();
  void syncOne(const std::string& path);

  RestoreTree& tree_;
  const size_t limit_;
  std::mutex mutex_;
  std::vector<std::string> paths_;
};

struct RestoreContext {
  std::string stanza;
  RepoClient* client = nullptr;
  RestoreTree* tree = nullptr;
  std::shared_ptr<const Keyring> keyring;
  uint32_t chunkSize = 0;      // the backup's
  size_t chunksPerBatch = 32;  // unique chunk ids per chunks.get
  size_t filesPerBatch = 256;  // files open at once per worker
  Progress* progress = nullptr;
  OwnershipCache* owners = nullptr;
  RestoreStats* stats = nullptr;
  bool force = false;  // delta: check files by content even when size and mtime match
  int64_t backupStart = 0;  // delta: size and mtime are trusted only for files older than this
  DeferredSyncs* syncs = nullptr;  // where finished files are synced; nullptr: each at once
};

// Delta: the existing file's size and mtime match the manifest's and can be trusted (no --force,
// modified before the backup started): it is kept without reading it.
bool keptBySizeAndTime(const RestoreJob& job, const RestoreContext& context);

// Splits a file to restore into parts of at most partChunks chunks (one job, whole, when it is not
// larger). Jobs keep the file's entry; the caller creates a new file before queueing its parts.
std::vector<RestoreJob> splitJob(RestoreJob job, size_t partChunks);

// Checks a file entry against itself before anything is written: the chunk count fits the size
// and chunk size, and the checksum over the ids matches. Throws Corrupt naming the file.
void checkFileEntry(const ManifestEntry& entry, uint32_t chunkSize, std::string_view what);

class RestoreWriter {
 public:
  explicit RestoreWriter(const RestoreContext& context);
  ~RestoreWriter();

  // Creates the file (or opens the existing one) and queues its chunks (those that differ),
  // fetching whenever the batch fills.
  void process(const RestoreJob& job);
  // Fetches and writes everything queued.
  void flush();

 private:
  struct OpenFile {
    ManifestEntry entry;
    UniqueFd fd;
    size_t remaining = 0;  // chunk writes still to come
    bool existed = false;  // delta: rewritten in place
    size_t fetched = 0;    // chunks that differed (delta) or all of them
    std::shared_ptr<FileParts> parts;  // set when this is one part of a file
  };
  struct Target {
    OpenFile* file = nullptr;
    uint64_t offset = 0;
    uint32_t length = 0;
  };

  // Delta: the file is right as it is; applies attributes and counts it.
  void keepFile(const ManifestEntry& entry);
  // Delta: whether the chunk at offset of the existing file already has the id.
  bool chunkOnDisk(int fd, const std::string& path, uint64_t offset, uint32_t length, const ChunkId& id);
  void fetchBatch();
  void deliver(const ChunkId& id, std::span<const uint8_t> plaintext);
  void writeAll(OpenFile& file, std::span<const uint8_t> data, uint64_t offset);
  // Delta: writes only the pages of the chunk that differ from what the file holds at offset.
  void writeChangedPages(OpenFile& file, std::span<const uint8_t> plaintext, uint64_t offset);
  void finishFile(OpenFile& file);
  // fsyncs a finished file, or leaves that to context_.syncs.
  void syncFile(int fd, const std::string& path, const std::string& where);
  void dropFinished();
  // The file a failure concerns: the one holding a chunk the message names, else the batch's first.
  std::string blame(const Error& error) const;

  const RestoreContext& context_;
  ChunkDecoder decoder_;
  EnvelopeCodec patchCodec_;
  ChunkHasher hasher_;
  ByteBuffer base_;
  ByteBuffer rebuilt_;
  std::vector<uint8_t> local_;  // a chunk read back from disk (delta)
  std::vector<std::unique_ptr<OpenFile>> files_;
  std::vector<ChunkId> ids_;  // unique, in request order
  std::unordered_map<ChunkId, std::vector<Target>> targets_;
};

}  // namespace pgbr::agent
