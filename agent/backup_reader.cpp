#include "agent/backup_reader.h"
#include "agent/json_fields.h"

#include "agent/record_framer.h"
#include "common/filter/chunk_patch.h"
#include "common/log.h"
#include "common/storage/posix_io.h"
#include "common/text.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_map>

namespace pgbr::agent {

using nlohmann::json;

namespace {

constexpr size_t kMaxIdsPerRequest = 4096;

int openForBackup(const std::string& path) {
  // O_NOATIME spares the inode an update per file; only the owner (or root) may ask for it.
  int fd = openRetry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd == -EPERM) fd = openRetry(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd;
}

}  // namespace

namespace {

// The name getpwuid_r/getgrgid_r give an id, or the id in decimal when the host has no such
// user or group; looked up once per id.
template <typename Id, typename Record, typename Lookup>
std::string cachedName(std::mutex& mutex, std::map<Id, std::string>& cache, Id id, Lookup lookup, char* Record::*name) {
  std::lock_guard lock(mutex);
  auto it = cache.find(id);
  if (it != cache.end()) return it->second;
  std::vector<char> buffer(16384);
  Record record{};
  Record* found = nullptr;
  std::string text = lookup(id, &record, buffer.data(), buffer.size(), &found) == 0 && found ? std::string(found->*name)
                                                                                             : std::to_string(id);
  cache.emplace(id, text);
  return text;
}

}  // namespace

std::string OwnerNames::user(uid_t uid) { return cachedName(mutex_, users_, uid, ::getpwuid_r, &passwd::pw_name); }

std::string OwnerNames::group(gid_t gid) { return cachedName(mutex_, groups_, gid, ::getgrgid_r, &group::gr_name); }

ManifestEntry manifestEntryFor(const pg::DataDirEntry& entry, OwnerNames& names) {
  ManifestEntry out;
  out.type = entry.type == pg::EntryType::Directory ? EntryType::Directory
             : entry.type == pg::EntryType::Symlink ? EntryType::Link
                                                    : EntryType::File;
  out.path = entry.path;
  out.mtime = entry.mtime;
  out.mode = static_cast<uint32_t>(entry.mode & 07777);
  out.user = names.user(entry.uid);
  out.group = names.group(entry.gid);
  out.target = entry.linkTarget;
  return out;
}

std::vector<size_t> missingChunks(RepoClient& client, const std::string& stanza, const std::vector<ChunkId>& ids) {
  if (ids.size() > kMaxIdsPerRequest) fail(ErrorCode::Internal, "chunks.missing with {} ids", ids.size());
  json list = json::array();
  for (const auto& id : ids) list.push_back(id.hex());
  const json request = {{"op", "chunks.missing"}, {"stanza", stanza}, {"ids", std::move(list)}};
  json response = client.call(request);
  if (!field(response, "missing").is_array())
    fail(ErrorCode::Protocol, "the repository server's chunks.missing answer has no 'missing' list");
  std::vector<size_t> missing;
  for (const auto& index : response["missing"]) {
    auto position = asUnsigned(index);
    if (!position || *position >= ids.size())
      fail(ErrorCode::Protocol, "the repository server's chunks.missing answer names position {} of {} ids",
           index.dump(), ids.size());
    missing.push_back(static_cast<size_t>(*position));
  }
  return missing;
}

std::vector<std::optional<BlockMap>> blockMaps(RepoClient& client, const std::string& stanza,
                                               const std::vector<ChunkId>& ids) {
  if (ids.size() > kMaxIdsPerRequest) fail(ErrorCode::Internal, "blockmaps.get with {} ids", ids.size());
  json list = json::array();
  for (const auto& id : ids) list.push_back(id.hex());
  const json request = {{"op", "blockmaps.get"}, {"stanza", stanza}, {"ids", std::move(list)}};
  RepoChannel channel = client.download(request).first;
  std::vector<uint8_t> data;
  while (auto piece = channel.receiveData()) data.insert(data.end(), piece->begin(), piece->end());
  // Per id: u16 pages | pages × 8 bytes.
  std::vector<std::optional<BlockMap>> maps;
  std::span<const uint8_t> rest(data);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (rest.size() < 2) fail(ErrorCode::Protocol, "the repository server's blockmaps.get answer ends at id {}", i);
    size_t pages = size_t{rest[0]} << 8 | rest[1];
    size_t bytes = pages * kBlockTagSize;
    if (rest.size() < 2 + bytes)
      fail(ErrorCode::Protocol, "the repository server's blockmaps.get answer ends inside the map of id {}", i);
    if (pages > 0)
      maps.emplace_back(BlockMap(rest.subspan(2, bytes)));
    else
      maps.emplace_back(std::nullopt);
    rest = rest.subspan(2 + bytes);
  }
  if (!rest.empty())
    fail(ErrorCode::Protocol, "the repository server's blockmaps.get answer has {} bytes after its last map",
         rest.size());
  return maps;
}

std::string describeBlocks(const std::vector<uint32_t>& blocks, size_t limit) {
  std::string out;
  size_t items = 0;
  for (size_t i = 0; i < blocks.size();) {
    size_t j = i;
    while (j + 1 < blocks.size() && blocks[j + 1] == blocks[j] + 1) ++j;
    if (items == limit) {
      out += ", …";
      break;
    }
    if (!out.empty()) out += ", ";
    out += j > i ? fmt::format("{}-{}", blocks[i], blocks[j]) : std::to_string(blocks[i]);
    ++items;
    i = j + 1;
  }
  return out;
}

BackupReader::BackupReader(const ReaderContext& context)
    : context_(context), encoder_(context.keyring, context.pipeline), page_(pg::kPageSize) {
  batch_.reserve(std::max<uint64_t>(context_.batchBytes, context_.pipeline.chunkSize));
}

void BackupReader::process(const BackupFileJob& job) {
  const auto& walked = job.entry;
  std::string path = context_.dataDirectory + "/" + walked.path;
  int raw = openForBackup(path);
  if (raw < 0) {
    if (-raw == ENOENT) {
      // Dropped while the backup ran: WAL replay removes it from the restored cluster as well.
      logDetail("skipped {}: removed during the backup", walked.path);
      context_.stats->vanished.fetch_add(1);
      context_.progress->addFile();
      context_.reorder->complete(job.seq, std::nullopt);
      return;
    }
    failErrno(ErrorCode::FileOpen, "cannot open for backup", path, -raw);
  }
  UniqueFd fd(raw);
  ManifestEntry entry = manifestEntryFor(walked, *context_.names);
  FileChecksum checksum;
  const uint32_t chunkSize = context_.pipeline.chunkSize;
  const auto& relation = walked.decision.relation;
  bool checkPages = context_.pageCheck && walked.decision.fileClass == pg::FileClass::Relation && relation;
  // Relation files change a few pages at a time; anything else is deduplicated by whole chunks.
  bool patchable = walked.decision.fileClass == pg::FileClass::Relation;
  uint64_t offset = 0;
  for (;;) {
    if (!slots_.empty() &&
        (slots_.size() >= context_.chunksPerBatch || batch_.size() + chunkSize > context_.batchBytes))
      flush();
    size_t at = batch_.size();
    batch_.resize(at + chunkSize);
    size_t n = preadFd(fd.get(), batch_.span().subspan(at, chunkSize), offset, path);
    batch_.resize(at + n);
    if (n == 0) break;
    auto chunk = batch_.span().subspan(at, n);
    ChunkId id = encoder_.hash(chunk);
    if (checkPages) this->checkPages(fd.get(), path, *relation, offset, chunk, entry.pageErrors);
    size_t index = entry.chunks.size();
    entry.chunks.push_back(id);
    checksum.add(id);
    Slot slot{.offset = at, .length = n, .id = id};
    if (index < job.priorChunks.size()) {
      slot.prior = job.priorChunks[index];
      slot.relation = patchable;
      if (patchable && *slot.prior != id) slot.map = encoder_.blockMap();
    }
    slots_.push_back(std::move(slot));
    context_.stats->chunks.fetch_add(1, std::memory_order_relaxed);
    context_.stats->bytesRead.fetch_add(n, std::memory_order_relaxed);
    context_.progress->addBytes(n);
    offset += n;
    if (n < chunkSize) break;
  }
  entry.size = offset;
  auto digest = checksum.finish(offset);
  entry.checksum = toHex(digest);
  if (!entry.pageErrors.empty()) {
    context_.stats->pageErrors.fetch_add(entry.pageErrors.size());
    logWarn("invalid page checksums found in file {} at blocks {}", walked.path, describeBlocks(entry.pageErrors));
  }
  logDetail("read {} ({}, {} chunks)", walked.path, formatBytes(entry.size), entry.chunks.size());
  context_.progress->addFile();
  if (entry.chunks.empty())
    context_.reorder->complete(job.seq, std::move(entry));
  else
    waiting_.push_back({.seq = job.seq, .entry = std::move(entry)});
}

void BackupReader::checkPages(int fd, const std::string& path, const pg::RelationFile& relation, uint64_t fileOffset,
                              std::span<const uint8_t> chunk, std::vector<uint32_t>& errors) {
  uint32_t firstPage = static_cast<uint32_t>(fileOffset / pg::kPageSize);
  uint32_t firstBlock = relation.blockNumber(firstPage, context_.segmentBlocks);
  for (const auto& failure : pg::checkPages(chunk, firstBlock, *context_.pageCheck)) {
    // A page PostgreSQL was writing while we read it may be torn: read it again before calling it
    // corrupt (its new version carries an LSN after the backup's start, or a good checksum).
    uint64_t pageOffset = fileOffset + uint64_t{failure.blockNumber - firstBlock} * pg::kPageSize;
    // A page that is gone on the second read was truncated away while the backup ran (WAL replay
    // truncates the restored file too).
    size_t n = preadFd(fd, page_, pageOffset, path);
    if (n < pg::kPageSize || pg::checkPage(page_, failure.blockNumber, *context_.pageCheck).ok()) continue;
    errors.push_back(failure.blockNumber);
  }
}

void BackupReader::flush() {
  if (slots_.empty()) {
    for (auto& w : waiting_) context_.reorder->complete(w.seq, std::move(w.entry));
    waiting_.clear();
    return;
  }
  // The same chunk twice in a batch (zeroed pages, identical small files) is asked for and sent once.
  std::vector<ChunkId> ids;
  std::vector<size_t> firstSlot;
  std::unordered_map<ChunkId, size_t> seen;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (seen.emplace(slots_[i].id, ids.size()).second) {
      ids.push_back(slots_[i].id);
      firstSlot.push_back(i);
    }
  }
  auto missing = missingChunks(*context_.client, context_.stanza, ids);
  ReaderStats& stats = *context_.stats;
  {
    std::vector<bool> lacking(ids.size(), false);
    for (size_t index : missing) lacking[index] = true;
    for (const auto& slot : slots_) {
      if (slot.prior && *slot.prior == slot.id)
        stats.unchangedChunks.fetch_add(1, std::memory_order_relaxed);
      else if (!lacking[seen.at(slot.id)])
        stats.storedChunks.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // The prior backup's chunks at the places of missing relation chunks: their block maps say
  // which pages changed.
  std::vector<ChunkId> earlier;
  std::unordered_map<ChunkId, size_t> earlierIndex;
  for (size_t index : missing) {
    const Slot& slot = slots_[firstSlot[index]];
    if (slot.relation && slot.prior && earlierIndex.emplace(*slot.prior, earlier.size()).second)
      earlier.push_back(*slot.prior);
  }
  std::vector<std::optional<BlockMap>> earlierMaps;
  if (!earlier.empty()) earlierMaps = blockMaps(*context_.client, context_.stanza, earlier);

  std::vector<uint8_t> whole, patches;
  uint64_t wholeCount = 0, patchCount = 0;
  for (size_t index : missing) {
    const Slot& slot = slots_[firstSlot[index]];
    auto chunk = batch_.span().subspan(slot.offset, slot.length);
    const std::optional<BlockMap>* earlierMap =
        slot.relation && slot.prior ? &earlierMaps[earlierIndex.at(*slot.prior)] : nullptr;
    if (earlierMap && earlierMap->has_value()) {
      // The server rebuilds the chunk from the earlier one and these pages, and decides between a
      // patch and a whole chunk by what the patch would cost.
      auto pages = slot.map.changedPages(**earlierMap);
      buildPageSet(chunk, pages, pageSet_);
      appendPatchRecord(patches, slot.id, *slot.prior, encoder_.seal(pageSet_.span()));
      ++patchCount;
      stats.patchPages.fetch_add(pages.size(), std::memory_order_relaxed);
    } else {
      appendChunkRecord(whole, slot.id, encoder_.seal(chunk));
      ++wholeCount;
    }
  }
  stats.newChunks.fetch_add(missing.size(), std::memory_order_relaxed);
  stats.patchChunks.fetch_add(patchCount, std::memory_order_relaxed);
  stats.sentBytes.fetch_add(whole.size() + patches.size(), std::memory_order_relaxed);
  if (wholeCount > 0) context_.uploader->submit("chunks.put", std::move(whole), wholeCount);
  if (patchCount > 0) context_.uploader->submit("chunks.patch", std::move(patches), patchCount);
  batch_.clear();
  slots_.clear();
  for (auto& w : waiting_) context_.reorder->complete(w.seq, std::move(w.entry));
  waiting_.clear();
}

}  // namespace pgbr::agent
