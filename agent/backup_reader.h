// The per-worker half of a backup: a BackupReader reads the files handed to it chunk by chunk
// into one batch buffer (a few MiB, whatever the file sizes), hashes every chunk, checks the
// page checksums of relation files as it goes, and, when the batch is full or the worker has
// nothing else to do, asks the repository which chunk ids it lacks (chunks.missing) and sends
// only those to the ChunkUploader. A missing chunk of a relation file that the prior backup had
// at the same place goes as the pages that changed since (chunks.patch, with the prior chunk's
// block map from blockmaps.get), so the repository stores a patch of what really changed;
// anything else goes whole (chunks.put). A file's manifest entry is completed in the
// ReorderBuffer once all its chunks have been handed over, so the manifest only ever names
// chunks already on their way.
//
// Each BackupReader belongs to one worker thread; what it shares (ReaderContext) is immutable
// or thread-safe, and ReaderStats are atomics.
#pragma once

#include "agent/chunk_uploader.h"
#include "agent/progress.h"
#include "agent/reorder_buffer.h"
#include "agent/repo_client.h"
#include "common/filter/buffer.h"
#include "common/filter/chunk.h"
#include "common/manifest/manifest.h"
#include "common/pg/data_dir.h"
#include "common/pg/page.h"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::agent {

// Owner and group names by id, looked up once each (thread-safe).
class OwnerNames {
 public:
  std::string user(uid_t uid);
  std::string group(gid_t gid);

 private:
  std::mutex mutex_;
  std::map<uid_t, std::string> users_;
  std::map<gid_t, std::string> groups_;
};

struct BackupFileJob {
  uint64_t seq = 0;
  pg::DataDirEntry entry;
  std::vector<ChunkId> priorChunks;  // the file's chunks in the prior backup (diff, incr)
};

struct ReaderStats {
  std::atomic<uint64_t> chunks{0};          // chunks read
  std::atomic<uint64_t> bytesRead{0};       // bytes read from files
  std::atomic<uint64_t> unchangedChunks{0};  // the same as the prior backup's at that place
  std::atomic<uint64_t> storedChunks{0};    // otherwise already in the repository (deduplicated, or
                                            // stored by an interrupted backup that this one resumes)
  std::atomic<uint64_t> newChunks{0};       // chunks the repository lacked and that were sent
  std::atomic<uint64_t> patchChunks{0};     // of those, sent as the pages that changed
  std::atomic<uint64_t> patchPages{0};      // pages sent for them
  std::atomic<uint64_t> sentBytes{0};       // record bytes sent (sealed chunks and page sets)
  std::atomic<uint64_t> unchangedFiles{0};  // recorded from the prior backup without reading
  std::atomic<uint64_t> unchangedBytes{0};
  std::atomic<uint64_t> pageErrors{0};
  std::atomic<uint64_t> vanished{0};  // files removed between the walk and the read
};

struct ReaderContext {
  std::string dataDirectory;
  std::string stanza;
  RepoClient* client = nullptr;
  std::shared_ptr<const Keyring> keyring;
  PipelineSpec pipeline;
  // A batch ends when its plaintext would pass batchBytes or it holds chunksPerBatch chunks (the
  // ids one chunks.missing may name): small files share one exchange instead of one per few files.
  uint64_t batchBytes = 4 * 1024 * 1024;
  size_t chunksPerBatch = 4096;
  std::optional<pg::PageCheckOptions> pageCheck;  // nullopt: page checksums are not checked
  uint32_t segmentBlocks = pg::kRelationSegmentBlocks;
  ReorderBuffer<ManifestEntry>* reorder = nullptr;
  ChunkUploader* uploader = nullptr;
  Progress* progress = nullptr;
  OwnerNames* names = nullptr;
  ReaderStats* stats = nullptr;
};

// The manifest entry of a walked path, without contents: kind, path, mtime, mode, owner, target.
ManifestEntry manifestEntryFor(const pg::DataDirEntry& entry, OwnerNames& names);

// chunks.missing: positions in ids (at most 4096) of the chunks the repository lacks.
std::vector<size_t> missingChunks(RepoClient& client, const std::string& stanza, const std::vector<ChunkId>& ids);

// blockmaps.get: the block map of each id (at most 4096), nullopt for a chunk the repository
// does not hold.
std::vector<std::optional<BlockMap>> blockMaps(RepoClient& client, const std::string& stanza,
                                               const std::vector<ChunkId>& ids);

// "0, 3-5, 9": block numbers for messages, at most `limit` items then "…".
std::string describeBlocks(const std::vector<uint32_t>& blocks, size_t limit = 20);

class BackupReader {
 public:
  explicit BackupReader(const ReaderContext& context);

  // Reads one file into the batch (flushing as the batch fills).
  void process(const BackupFileJob& job);
  // Sends what the batch holds and completes the entries waiting on it.
  void flush();

 private:
  struct Slot {
    size_t offset = 0;
    size_t length = 0;
    ChunkId id;
    std::optional<ChunkId> prior;  // the prior backup's chunk at this place
    bool relation = false;         // of a relation file: may go as changed pages
    BlockMap map;                  // kept when it may be compared with the prior's
  };
  struct Waiting {
    uint64_t seq = 0;
    ManifestEntry entry;
  };

  void checkPages(int fd, const std::string& path, const pg::RelationFile& relation, uint64_t fileOffset,
                  std::span<const uint8_t> chunk, std::vector<uint32_t>& errors);

  const ReaderContext& context_;
  ChunkEncoder encoder_;
  ByteBuffer batch_;
  std::vector<Slot> slots_;
  std::vector<Waiting> waiting_;
  std::vector<uint8_t> page_;
  ByteBuffer pageSet_;
};

}  // namespace pgbr::agent
