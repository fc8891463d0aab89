#include "agent/restore_writer.h"

#include "agent/channel_stream.h"
#include "common/filter/chunk_patch.h"
#include "common/filter/bytes.h"
#include "common/log.h"
#include "common/text.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <thread>

namespace pgbr::agent {

using nlohmann::json;

namespace {

// Record kinds of a chunks.get answer (docs/operations.md).
constexpr uint8_t kWholeChunk = 1;
constexpr uint8_t kPatch = 2;
constexpr uint32_t kMaxRecordBody =
    ChunkId::kSize + 1 + kEnvelopeHeaderSize + kMaxEnvelopeLength + kEnvelopeTrailerSize;

void pwriteAll(int fd, std::span<const uint8_t> data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileWrite, "cannot write", path, errno);
    }
    data = data.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

}  // namespace

void DeferredSyncs::add(int fd, std::string path) {
  // Only a hint that lets the disk start early; the fsync in syncOne is what makes it durable.
  (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  std::vector<std::string> due;
  {
    std::lock_guard lock(mutex_);
    paths_.push_back(std::move(path));
    if (paths_.size() >= limit_) due.swap(paths_);
  }
  for (const auto& each : due) syncOne(each);
}

std::vector<std::string> DeferredSyncs::take() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> paths;
  paths.swap(paths_);
  return paths;
}

void DeferredSyncs::syncOne(const std::string& path) {
  UniqueFd fd = tree_.openFile(path, false);
  std::string where = tree_.describe(path);
  fsyncFd(fd.get(), where);
  fd.closeChecked(where);
}

void DeferredSyncs::syncAll(unsigned threads) {
  std::vector<std::string> paths = take();
  std::atomic<size_t> next{0};
  std::mutex errorMutex;
  std::exception_ptr error;
  auto run = [&] {
    try {
      for (size_t i = next++; i < paths.size(); i = next++) syncOne(paths[i]);
    } catch (...) {
      next = paths.size();
      std::lock_guard lock(errorMutex);
      if (!error) error = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < std::min<size_t>(threads, paths.size()); ++t) helpers.emplace_back(run);
    run();
  }
  if (error) std::rethrow_exception(error);
}

Ownership OwnershipCache::get(const std::string& user, const std::string& group) {
  std::lock_guard lock(mutex_);
  auto key = std::pair(user, group);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  Ownership owner = ownershipFor(user, group);
  if (::geteuid() == 0 && (!owner.uid || !owner.gid))
    logWarn(
        "user '{}' or group '{}' of the backup does not exist on this host: files that belong to them are "
        "restored as root",
        user, group);
  cache_.emplace(key, owner);
  return owner;
}

void checkFileEntry(const ManifestEntry& entry, uint32_t chunkSize, std::string_view what) {
  uint64_t expected = chunkSize == 0 ? 0 : (entry.size + chunkSize - 1) / chunkSize;
  if (entry.chunks.size() != expected)
    fail(ErrorCode::Corrupt, "{}: file '{}' of {} bytes lists {} chunks instead of {}", what, entry.path, entry.size,
         entry.chunks.size(), expected);
  FileChecksum checksum;
  for (const auto& id : entry.chunks) checksum.add(id);
  auto digest = checksum.finish(entry.size);
  if (toHex(digest) != entry.checksum)
    fail(ErrorCode::Corrupt, "{}: the checksum of file '{}' does not match its list of chunks", what, entry.path);
}

RestoreWriter::RestoreWriter(const RestoreContext& context)
    : context_(context),
      decoder_(context.keyring),
      patchCodec_(context.keyring, KeyPurpose::Data, PipelineSpec{}),
      hasher_(context.keyring->chunkIdKey()) {}

RestoreWriter::~RestoreWriter() = default;

bool keptBySizeAndTime(const RestoreJob& job, const RestoreContext& context) {
  // A file the backup saw modified in or after the second the backup started may have changed again
  // within that second after it was read, unseen by a one-second mtime: such files are hashed.
  return job.local && !context.force && job.local->size == job.entry.size && job.local->mtime == job.entry.mtime &&
         job.entry.mtime < context.backupStart;
}

std::vector<RestoreJob> splitJob(RestoreJob job, size_t partChunks) {
  std::vector<RestoreJob> jobs;
  size_t chunks = job.entry.chunks.size();
  partChunks = std::max<size_t>(partChunks, 1);
  if (chunks <= partChunks) {
    job.parts.reset();
    job.firstChunk = 0;
    job.endChunk = chunks;
    jobs.push_back(std::move(job));
    return jobs;
  }
  size_t count = (chunks + partChunks - 1) / partChunks;
  auto parts = std::make_shared<FileParts>(count);
  for (size_t first = 0; first < chunks; first += partChunks) {
    RestoreJob part{.entry = job.entry, .local = job.local, .parts = parts, .firstChunk = first,
                    .endChunk = std::min(chunks, first + partChunks)};
    jobs.push_back(std::move(part));
  }
  return jobs;
}

void RestoreWriter::process(const RestoreJob& job) {
  const ManifestEntry& entry = job.entry;
  if (!job.parts && keptBySizeAndTime(job, context_)) {
    keepFile(entry);
    return;
  }
  if (files_.size() >= context_.filesPerBatch) flush();
  auto file = std::make_unique<OpenFile>();
  file->entry = entry;
  file->existed = job.local.has_value();
  file->parts = job.parts;
  // The parts of a new file open what restore created before queueing them.
  file->fd = file->existed || job.parts ? context_.tree->openFile(entry.path) : context_.tree->createFile(entry.path);
  OpenFile* raw = file.get();
  files_.push_back(std::move(file));
  size_t first = job.parts ? job.firstChunk : 0;
  size_t end = job.parts ? std::min(job.endChunk, entry.chunks.size()) : entry.chunks.size();
  // The chunks to fetch, all known before the first is queued: a flush may write them, and the
  // file is finished when the count of those still to come reaches zero.
  std::vector<size_t> needed;
  std::string where = raw->existed ? context_.tree->describe(entry.path) : std::string();
  for (size_t i = first; i < end; ++i) {
    uint64_t offset = uint64_t{i} * context_.chunkSize;
    auto length = static_cast<uint32_t>(std::min<uint64_t>(context_.chunkSize, entry.size - offset));
    if (raw->existed && offset + length <= job.local->size &&
        chunkOnDisk(raw->fd.get(), where, offset, length, entry.chunks[i])) {
      context_.stats->bytesKept += length;
      context_.progress->addBytes(length);
    } else {
      needed.push_back(i);
    }
  }
  raw->remaining = needed.size();
  raw->fetched = needed.size();
  if (needed.empty()) {
    finishFile(*raw);
    dropFinished();
    return;
  }
  for (size_t i : needed) {
    uint64_t offset = uint64_t{i} * context_.chunkSize;
    auto length = static_cast<uint32_t>(std::min<uint64_t>(context_.chunkSize, entry.size - offset));
    const ChunkId& id = entry.chunks[i];
    auto [it, inserted] = targets_.try_emplace(id);
    if (inserted) ids_.push_back(id);
    it->second.push_back({.file = raw, .offset = offset, .length = length});
    if (ids_.size() >= context_.chunksPerBatch) flush();
  }
}

void RestoreWriter::keepFile(const ManifestEntry& entry) {
  UniqueFd fd = context_.tree->openFile(entry.path);
  std::string where = context_.tree->describe(entry.path);
  applyAttributes(fd.get(), entry.mode, entry.mtime, context_.owners->get(entry.user, entry.group), where);
  // It may hold what a crashed restore or cluster wrote and never synced.
  syncFile(fd.get(), entry.path, where);
  fd.closeChecked(where);
  context_.stats->filesKept += 1;
  context_.stats->bytesKept += entry.size;
  context_.progress->addBytes(entry.size);
  context_.progress->addFile();
  logDetail("kept {} ({}): size and modification time match", entry.path, formatBytes(entry.size));
}

bool RestoreWriter::chunkOnDisk(int fd, const std::string& path, uint64_t offset, uint32_t length,
                                const ChunkId& id) {
  local_.resize(length);
  if (preadFd(fd, local_, offset, path) != length) return false;
  return hasher_.hash(local_) == id;
}

void RestoreWriter::flush() {
  if (!ids_.empty()) {
    try {
      fetchBatch();
    } catch (const Error& error) {
      fail(error.code(), "cannot restore '{}': {}", blame(error), error.what());
    }
  }
  ids_.clear();
  targets_.clear();
  dropFinished();
}

void RestoreWriter::fetchBatch() {
  json list = json::array();
  for (const auto& id : ids_) list.push_back(id.hex());
  const json request = {{"op", "chunks.get"}, {"stanza", context_.stanza}, {"ids", std::move(list)}};
  RepoChannel channel = context_.client->download(request).first;
  RecordFramer framer(kMaxRecordBody, "chunks.get answer");
  size_t next = 0;
  std::optional<ChunkId> baseId;
  while (auto data = channel.receiveData()) {
    context_.stats->bytesFetched += data->size();
    framer.feed(*data);
    while (auto body = framer.next()) {
      if (body->size() < ChunkId::kSize + 1)
        fail(ErrorCode::Protocol, "the repository server sent a chunk record of {} bytes", body->size());
      ChunkId id(body->first<ChunkId::kSize>());
      uint8_t kind = (*body)[ChunkId::kSize];
      auto envelope = body->subspan(ChunkId::kSize + 1);
      if (next >= ids_.size())
        fail(ErrorCode::Protocol, "the repository server sent more chunks than the {} asked for", ids_.size());
      const ChunkId& expected = ids_[next];
      if (kind == kWholeChunk && id == expected && !baseId) {
        deliver(expected, decoder_.decode(envelope, expected));
        ++next;
        context_.stats->chunksFetched += 1;
      } else if (kind == kWholeChunk && !baseId) {
        // The base of a patched chunk: checked against its own id, kept for the patch that follows.
        auto plain = decoder_.decode(envelope, id);
        base_.clear();
        base_.append(plain);
        baseId = id;
      } else if (kind == kPatch && baseId && id == expected) {
        auto opened = patchCodec_.open(envelope, fmt::format("patch of chunk {}", expected.hex()));
        applyPatch(opened.plaintext, *baseId, base_.span(), rebuilt_, fmt::format("chunk {}", expected.hex()));
        if (hasher_.hash(rebuilt_.span()) != expected)
          fail(ErrorCode::Corrupt, "chunk {} rebuilt from base {} and its patch does not match its id", expected.hex(),
               baseId->hex());
        deliver(expected, rebuilt_.span());
        baseId.reset();
        ++next;
        context_.stats->chunksFetched += 1;
      } else {
        fail(ErrorCode::Protocol, "the repository server sent chunk {} (kind {}) where chunk {} was expected", id.hex(),
             kind, expected.hex());
      }
    }
  }
  if (next != ids_.size() || baseId || !framer.atBoundary())
    fail(ErrorCode::Protocol, "the repository server sent {} of the {} chunks asked for", next, ids_.size());
}

void RestoreWriter::deliver(const ChunkId& id, std::span<const uint8_t> plaintext) {
  for (const auto& target : targets_.at(id)) {
    OpenFile& file = *target.file;
    if (plaintext.size() != target.length)
      fail(ErrorCode::Corrupt, "chunk {} has {} bytes where file '{}' needs {} at offset {}", id.hex(),
           plaintext.size(), file.entry.path, target.length, target.offset);
    if (file.existed)
      writeChangedPages(file, plaintext, target.offset);
    else
      writeAll(file, plaintext, target.offset);
    context_.progress->addBytes(plaintext.size());
    if (--file.remaining == 0) finishFile(file);
  }
}

void RestoreWriter::writeAll(OpenFile& file, std::span<const uint8_t> data, uint64_t offset) {
  pwriteAll(file.fd.get(), data, offset, context_.tree->describe(file.entry.path));
  context_.stats->bytesWritten += data.size();
}

void RestoreWriter::writeChangedPages(OpenFile& file, std::span<const uint8_t> plaintext, uint64_t offset) {
  // A chunk that differs usually differs in a few pages: those alone are written, so a delta
  // restore dirties (and syncs) about what changed, not whole chunks.
  std::string where = context_.tree->describe(file.entry.path);
  local_.resize(plaintext.size());
  size_t have = preadFd(file.fd.get(), local_, offset, where);
  for (size_t at = 0; at < plaintext.size(); at += kPageSize) {
    size_t length = std::min<size_t>(kPageSize, plaintext.size() - at);
    auto page = plaintext.subspan(at, length);
    if (at + length <= have && std::equal(page.begin(), page.end(), local_.begin() + static_cast<ptrdiff_t>(at)))
      continue;
    writeAll(file, page, offset + at);
  }
}

void RestoreWriter::finishFile(OpenFile& file) {
  std::string where = context_.tree->describe(file.entry.path);
  if (file.parts) {
    file.parts->fetched += file.fetched;
    // Not the last part: what it wrote is in the inode, synced by the part that finishes last.
    if (file.parts->left.fetch_sub(1, std::memory_order_acq_rel) != 1) {
      file.fd.closeChecked(where);
      return;
    }
    file.fetched = file.parts->fetched.load();
  }
  if (::ftruncate(file.fd.get(), static_cast<off_t>(file.entry.size)) != 0)
    failErrno(ErrorCode::FileWrite, "cannot set the size of", where, errno);
  applyAttributes(file.fd.get(), file.entry.mode, file.entry.mtime,
                  context_.owners->get(file.entry.user, file.entry.group), where);
  syncFile(file.fd.get(), file.entry.path, where);
  file.fd.closeChecked(where);
  if (file.existed && file.fetched == 0) {
    context_.stats->filesKept += 1;
    logDetail("kept {} ({}): every chunk matches the backup", file.entry.path, formatBytes(file.entry.size));
  } else if (file.existed) {
    context_.stats->filesUpdated += 1;
    logDetail("updated {} ({}) where it differed from the backup", file.entry.path, formatBytes(file.entry.size));
  } else {
    logDetail("restored {} ({})", file.entry.path, formatBytes(file.entry.size));
  }
  context_.progress->addFile();
}

void RestoreWriter::syncFile(int fd, const std::string& path, const std::string& where) {
  if (context_.syncs)
    context_.syncs->add(fd, path);
  else
    fsyncFd(fd, where);
}

void RestoreWriter::dropFinished() {
  std::erase_if(files_, [](const auto& file) { return !file->fd; });
}

std::string RestoreWriter::blame(const Error& error) const {
  std::string_view message = error.what();
  for (const auto& id : ids_) {
    if (message.find(id.hex()) == std::string_view::npos) continue;
    auto it = targets_.find(id);
    if (it != targets_.end() && !it->second.empty()) return it->second.front().file->entry.path;
  }
  for (const auto& file : files_)
    if (file->fd) return file->entry.path;
  return "a file";
}

}  // namespace pgbr::agent
