#include "repo-server/index_segment.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"

#include <algorithm>
#include <cstring>

namespace pgbr::repo {
namespace {

constexpr std::string_view kIndexMagic = "PGBRIDX1";
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kIndexHeaderSize = 16;  // magic, version, reserved
constexpr size_t kFenceStride = 128;     // entries per block read from disk
constexpr unsigned kBloomHashes = 7;
constexpr unsigned kBloomBitsPerEntry = 10;

// Ids are keyed hashes, uniformly distributed: slices of them are independent hash values.
uint64_t bloomHash(const ChunkId& id, unsigned i) { return getU32(id.bytes(), 4 * i); }

}  // namespace

EncodedSegment encodeIndexSegment(std::vector<ChunkLocation> locations) {
  auto table = encodeEntryTable(std::move(locations));
  EncodedSegment out;
  out.bytes.assign(kIndexHeaderSize + table.size() + 32, 0);
  std::memcpy(out.bytes.data(), kIndexMagic.data(), kIndexMagic.size());
  putU32(out.bytes, 8, kIndexVersion);
  std::memcpy(out.bytes.data() + kIndexHeaderSize, table.data(), table.size());
  auto digest = sha256(std::span(out.bytes).first(kIndexHeaderSize + table.size()));
  std::memcpy(out.bytes.data() + kIndexHeaderSize + table.size(), digest.data(), digest.size());
  out.id = toHex(digest);
  return out;
}

std::string indexSegmentPath(const std::string& id) { return "index/" + id + ".idx"; }

std::unique_ptr<IndexSegment> IndexSegment::open(Storage& storage, const std::string& id) {
  auto path = indexSegmentPath(id);
  auto what = storage.describe(path);
  auto bytes = storage.read(path);
  auto corrupt = [&](std::string_view why) {
    fail(ErrorCode::Corrupt, "index segment {} {}; the index can be rebuilt from the packs", what, why);
  };
  if (bytes.size() < kIndexHeaderSize + kEntryTableHeaderSize + 32) corrupt("is truncated");
  if (std::memcmp(bytes.data(), kIndexMagic.data(), kIndexMagic.size()) != 0) corrupt("does not start with PGBRIDX1");
  if (getU32(bytes, 8) != kIndexVersion) corrupt(fmt::format("has unknown version {}", getU32(bytes, 8)));
  std::span<const uint8_t> all(bytes);
  auto digest = sha256(all.first(all.size() - 32));
  if (toHex(digest) != id || !std::equal(digest.begin(), digest.end(), all.last(32).begin()))
    corrupt("content does not hash to its name");
  auto table = all.subspan(kIndexHeaderSize, all.size() - kIndexHeaderSize - 32);
  decodeEntryTable(table, what);  // full structural check once, at open

  auto segment = std::unique_ptr<IndexSegment>(new IndexSegment());
  segment->id_ = id;
  segment->layout_ = entryTableLayout(table, table.size(), what);
  segment->reader_ = storage.openRead(path);
  const auto& layout = segment->layout_;
  segment->bloomBits_ = std::max<uint64_t>(64, layout.entryCount * kBloomBitsPerEntry);
  segment->bloom_.assign((segment->bloomBits_ + 63) / 64, 0);
  for (uint64_t i = 0; i < layout.entryCount; ++i) {
    ChunkId chunk(table.subspan(layout.entriesOffset + i * kEntrySize).first<32>());
    if (i % kFenceStride == 0) segment->fence_.push_back(chunk);
    for (unsigned h = 0; h < kBloomHashes; ++h) {
      uint64_t bit = bloomHash(chunk, h) % segment->bloomBits_;
      segment->bloom_[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  return segment;
}

bool IndexSegment::mayContain(const ChunkId& id) const {
  for (unsigned h = 0; h < kBloomHashes; ++h) {
    uint64_t bit = bloomHash(id, h) % bloomBits_;
    if (!(bloom_[bit / 64] & (uint64_t{1} << (bit % 64)))) return false;
  }
  return true;
}

void IndexSegment::readAt(uint64_t tableOffset, std::span<uint8_t> out) const {
  std::lock_guard lock(readerMutex_);
  if (reader_->readAt(kIndexHeaderSize + tableOffset, out) != out.size())
    fail(ErrorCode::Corrupt, "index segment {} was truncated while in use", id_);
}

ChunkLocation IndexSegment::resolve(const RawEntry& raw) const {
  ChunkLocation loc = raw.location;
  readAt(layout_.packsOffset + uint64_t{raw.packOrdinal} * 32, loc.pack);
  if (loc.kind == BlobKind::Patch) {
    std::array<uint8_t, 32> base{};
    readAt(layout_.basesOffset + uint64_t{raw.baseOrdinal} * 32, base);
    loc.base = ChunkId(base);
  }
  return loc;
}

std::optional<ChunkLocation> IndexSegment::lookup(const ChunkId& id) const {
  if (layout_.entryCount == 0 || !mayContain(id)) return std::nullopt;
  auto it = std::upper_bound(fence_.begin(), fence_.end(), id);
  if (it == fence_.begin()) return std::nullopt;
  uint64_t first = static_cast<uint64_t>(it - fence_.begin() - 1) * kFenceStride;
  uint64_t count = std::min<uint64_t>(kFenceStride, layout_.entryCount - first);
  std::vector<uint8_t> block(count * kEntrySize);
  readAt(layout_.entriesOffset + first * kEntrySize, block);
  uint64_t lo = 0, hi = count;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    ChunkId at(std::span<const uint8_t>(block).subspan(mid * kEntrySize).first<32>());
    if (at == id) return resolve(decodeEntry(std::span<const uint8_t>(block).subspan(mid * kEntrySize, kEntrySize)));
    if (at < id) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

std::vector<ChunkLocation> IndexSegment::all() const {
  std::vector<uint8_t> table(layout_.size);
  readAt(0, table);
  return decodeEntryTable(table, id_);
}

}  // namespace pgbr::repo
