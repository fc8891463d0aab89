// The chunk handlers of RepoService: chunks.missing, chunks.put, chunks.patch, chunks.get, blockmaps.get.
#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/log.h"
#include "repo-server/request.h"
#include "repo-server/service.h"

#include <asio/this_coro.hpp>

namespace pgbr::repo {
namespace {

// Upload records (docs/operations.md): u32 length | `prefix` bytes of chunk ids | envelope, the
// length counting everything after itself. chunks.put has the chunk's id; chunks.patch the
// chunk's id and the earlier chunk's.
constexpr size_t kLengthSize = 4;
// A page set holds a chunk's pages behind a header and a bitmap of at most 256 bytes.
constexpr size_t kMaxPlaintext = kMaxChunkSize + 4096;

struct RecordFormat {
  std::string_view op;
  size_t prefix = ChunkId::kSize;
  size_t minRecord() const { return prefix + kEnvelopeHeaderSize + kEnvelopeTrailerSize; }
  size_t maxRecord() const { return prefix + kEnvelopeHeaderSize + kMaxPlaintext + kEnvelopeTrailerSize; }
};
constexpr RecordFormat kPutRecords{.op = "chunks.put", .prefix = ChunkId::kSize};
constexpr RecordFormat kPatchRecords{.op = "chunks.patch", .prefix = 2 * ChunkId::kSize};

struct PutCounts {
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t patches = 0;  // stored as patches (chunks.patch)
  uint64_t bytes = 0;

  void add(const PutCounts& other) {
    stored += other.stored;
    duplicates += other.duplicates;
    patches += other.patches;
    bytes += other.bytes;
  }
};

// Calls visit(prefix, envelope) for each whole record of a batch.
template <typename Visit>
void forEachRecord(const std::vector<uint8_t>& batch, size_t prefix, Visit visit) {
  std::span<const uint8_t> rest(batch);
  while (!rest.empty()) {
    uint32_t length = getU32(rest, 0);
    visit(rest.subspan(kLengthSize, prefix), rest.subspan(kLengthSize + prefix, length - prefix));
    rest = rest.subspan(kLengthSize + length);
  }
}

// Verifies and stores the whole records of one chunks.put batch (on a worker).
PutCounts putRecords(Repository& repo, const std::vector<uint8_t>& batch) {
  PutCounts counts;
  auto decoder = repo.decoders().lease();
  forEachRecord(batch, kPutRecords.prefix, [&](std::span<const uint8_t> ids, std::span<const uint8_t> envelope) {
    ChunkId id(ids.first<ChunkId::kSize>());
    // The id is recomputed from the plaintext: a chunk joins the store only under its own id.
    auto plaintext = decoder->decode(envelope, id);
    if (repo.chunks().put(id, BlobKind::Chunk, ChunkId(), static_cast<uint32_t>(plaintext.size()), envelope,
                          &decoder->blockMap())) {
      ++counts.stored;
      counts.bytes += envelope.size();
    } else {
      ++counts.duplicates;
    }
  });
  return counts;
}

// Rebuilds, verifies and stores the chunks of one chunks.patch batch (on a worker).
PutCounts patchRecords(Repository& repo, const std::vector<uint8_t>& batch) {
  PutCounts counts;
  forEachRecord(batch, kPatchRecords.prefix, [&](std::span<const uint8_t> ids, std::span<const uint8_t> envelope) {
    ChunkId id(ids.first<ChunkId::kSize>());
    ChunkId earlier(ids.subspan(ChunkId::kSize).first<ChunkId::kSize>());
    PatchOutcome outcome = repo.patcher().put(id, earlier, envelope);
    if (!outcome.stored) {
      ++counts.duplicates;
      return;
    }
    ++counts.stored;
    counts.patches += outcome.patch ? 1 : 0;
    counts.bytes += outcome.bytes;
  });
  return counts;
}

// Splits the DATA byte stream into batches of whole records (records may span DATA frames).
class RecordBatcher {
 public:
  RecordBatcher(size_t batchBytes, RecordFormat format) : batchBytes_(batchBytes), format_(format) {}

  // Adds bytes; returns a batch of whole records once batchBytes of them are complete.
  std::optional<std::vector<uint8_t>> add(std::span<const uint8_t> data) {
    pending_.insert(pending_.end(), data.begin(), data.end());
    size_t complete = completeRecords();
    if (complete < batchBytes_) return std::nullopt;
    return take(complete);
  }
  // At END: the remaining whole records; Protocol error when the stream stops inside a record.
  std::optional<std::vector<uint8_t>> finish() {
    size_t complete = completeRecords();
    if (complete != pending_.size())
      fail(ErrorCode::Protocol, "{}: the data ends inside a record ({} bytes left over)", format_.op,
           pending_.size() - complete);
    if (complete == 0) return std::nullopt;
    return take(complete);
  }

 private:
  // Bytes of pending_ that form whole records, checking each record's length.
  size_t completeRecords() {
    while (scanned_ + kLengthSize <= pending_.size()) {
      uint32_t length = getU32(pending_, scanned_);
      if (length < format_.minRecord() || length > format_.maxRecord())
        fail(ErrorCode::Protocol, "{}: a record of {} bytes cannot hold its chunk ids and an envelope", format_.op,
             length);
      if (scanned_ + kLengthSize + length > pending_.size()) break;
      scanned_ += kLengthSize + length;
    }
    return scanned_;
  }
  std::vector<uint8_t> take(size_t bytes) {
    std::vector<uint8_t> batch(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(bytes));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(bytes));
    scanned_ -= bytes;
    return batch;
  }

  size_t batchBytes_;
  RecordFormat format_;
  std::vector<uint8_t> pending_;
  size_t scanned_ = 0;
};

// Receives an upload of records and stores them in batches on the workers, several at once.
// After a failure (a refused record, a lost connection) the chunks verified so far are made
// durable before the error is reported: a backup that is tried again need not send them again.
asio::awaitable<PutCounts> storeRecords(Repository& repo, WorkerPool& pool, size_t depth, size_t batchBytes,
                                        protocol::Channel& channel, RecordFormat format,
                                        PutCounts (*store)(Repository&, const std::vector<uint8_t>&)) {
  JobQueue<PutCounts> jobs(pool, co_await asio::this_coro::executor, depth);
  PutCounts total;
  std::exception_ptr failure;
  try {
    RecordBatcher batcher(batchBytes, format);
    Repository* stored = &repo;
    auto start = [&](std::vector<uint8_t> batch) {
      jobs.start([stored, store, batch = std::move(batch)] { return store(*stored, batch); });
    };
    while (auto data = co_await channel.receiveData()) {
      if (auto batch = batcher.add(*data)) start(std::move(*batch));
      while (jobs.full()) total.add(co_await jobs.next());
    }
    if (auto batch = batcher.finish()) start(std::move(*batch));
    while (!jobs.empty()) total.add(co_await jobs.next());
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // Workers may still be storing verified chunks of this request: let them end first.
    co_await jobs.drain();
    auto keep = pool.run([&] { repo.chunks().flushAfterFailure(format.op); });
    co_await std::move(keep);
    std::rethrow_exception(failure);
  }
  co_return total;
}

}  // namespace

asio::awaitable<void> RepoService::chunksMissing(Session& session, Channel& channel, const Json& request) {
  authorisedStanza(session, request);
  auto ids = requireChunkIds(request, kMaxIdsPerRequest);
  auto find = pool_.run([&] {
    std::vector<size_t> missing;
    for (size_t i = 0; i < ids.size(); ++i)
      if (!repo_.chunks().contains(ids[i])) missing.push_back(i);
    return missing;
  });
  std::vector<size_t> missing = co_await std::move(find);
  const Json response{{"missing", missing}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::chunksPut(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  const size_t jobs = depth();
  PutCounts total = co_await storeRecords(repo_, pool_, jobs, settings_.batchBytes, channel, kPutRecords, &putRecords);
  repo_.backupLocks().addStored(stanza, total.bytes);
  const Json response{{"stored", total.stored}, {"duplicates", total.duplicates}, {"bytes", total.bytes}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::chunksPatch(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  const size_t jobs = depth();
  PutCounts total =
      co_await storeRecords(repo_, pool_, jobs, settings_.batchBytes, channel, kPatchRecords, &patchRecords);
  repo_.backupLocks().addStored(stanza, total.bytes);
  const Json response{
      {"stored", total.stored}, {"duplicates", total.duplicates}, {"patches", total.patches}, {"bytes", total.bytes}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::chunksGet(Session& session, Channel& channel, const Json& request) {
  authorisedStanza(session, request);
  auto ids = requireChunkIds(request, kMaxIdsPerRequest);
  // Each requested chunk as the blobs to send: its base first when it is stored as a patch.
  struct Blob {
    ChunkLocation location;
    uint8_t kind;
  };
  auto locate = pool_.run([&] {
    std::vector<Blob> blobs;
    for (const auto& id : ids) {
      auto location = repo_.chunks().locate(id);
      if (!location)
        fail(ErrorCode::Corrupt, "chunk {} is not in the repository: a manifest names a chunk the repository lost",
             id.hex());
      if (location->kind == BlobKind::Patch) {
        auto base = repo_.chunks().locate(location->base);
        if (!base)
          fail(ErrorCode::Corrupt, "chunk {} is stored as a patch of chunk {}, which is not in the repository",
               id.hex(), location->base.hex());
        blobs.push_back({*base, 1});
      }
      blobs.push_back({*location, static_cast<uint8_t>(location->kind)});
    }
    return blobs;
  });
  std::vector<Blob> blobs = co_await std::move(locate);
  const Json response = Json::object();
  co_await channel.sendResponse(response);

  // Reads run ahead on the workers, in batches of about batchBytes, and are sent in order.
  JobQueue<std::vector<uint8_t>> reads(pool_, co_await asio::this_coro::executor, depth());
  Repository* repo = &repo_;
  auto readBatch = [repo](std::vector<Blob> batch) {
    std::vector<uint8_t> out;
    for (const auto& blob : batch) {
      auto bytes = repo->chunks().readBlob(blob.location);
      uint32_t length = static_cast<uint32_t>(ChunkId::kSize + 1 + bytes.size());
      size_t at = out.size();
      out.resize(at + kLengthSize + length);
      putU32(out, at, length);
      std::copy(blob.location.id.bytes().begin(), blob.location.id.bytes().end(),
                out.begin() + static_cast<ptrdiff_t>(at + kLengthSize));
      out[at + kLengthSize + ChunkId::kSize] = blob.kind;
      std::copy(bytes.begin(), bytes.end(),
                out.begin() + static_cast<ptrdiff_t>(at + kLengthSize + ChunkId::kSize + 1));
    }
    return out;
  };
  std::exception_ptr failure;
  try {
    size_t next = 0;
    while (next < blobs.size() || !reads.empty()) {
      while (next < blobs.size() && !reads.full()) {
        std::vector<Blob> batch;
        size_t bytes = 0;
        while (next < blobs.size() && (batch.empty() || bytes < settings_.batchBytes)) {
          bytes += blobs[next].location.length;
          batch.push_back(blobs[next++]);
        }
        reads.start([readBatch, batch = std::move(batch)] { return readBatch(batch); });
      }
      std::vector<uint8_t> data = co_await reads.next();
      co_await channel.sendData(data);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    co_await reads.drain();
    std::rethrow_exception(failure);
  }
  const Json trailer{{"chunks", ids.size()}};
  co_await channel.sendEnd(trailer);
}


asio::awaitable<void> RepoService::blockmapsGet(Session& session, Channel& channel, const Json& request) {
  authorisedStanza(session, request);
  auto ids = requireChunkIds(request, kMaxIdsPerRequest);
  auto read = pool_.run([&] {
    // Per id: u16 pages | pages × 8 bytes; 0 pages when the chunk is not stored.
    std::vector<uint8_t> out;
    out.reserve(ids.size() * (2 + 32 * kBlockTagSize));
    for (const auto& id : ids) {
      std::optional<BlockMap> map;
      if (auto location = repo_.chunks().locate(id)) map = repo_.chunks().readBlockMap(*location);
      size_t pages = map ? map->pageCount() : 0;
      out.push_back(static_cast<uint8_t>(pages >> 8));
      out.push_back(static_cast<uint8_t>(pages));
      if (map) out.insert(out.end(), map->bytes().begin(), map->bytes().end());
    }
    return out;
  });
  std::vector<uint8_t> maps = co_await std::move(read);
  const Json response = Json::object();
  co_await channel.sendResponse(response);
  co_await channel.sendData(maps);
  const Json trailer{{"chunks", ids.size()}};
  co_await channel.sendEnd(trailer);
}

}  // namespace pgbr::repo
