#include "repo-server/pack.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"

#include <algorithm>
#include <cstring>

namespace pgbr::repo {
namespace {

constexpr std::string_view kPackMagic = "PGBRPACK";
constexpr uint32_t kPackVersion = 1;

void appendBytes(std::vector<uint8_t>& out, std::span<const uint8_t> data) { out.insert(out.end(), data.begin(), data.end()); }

[[noreturn]] void corrupt(std::string_view what, std::string_view why) {
  fail(ErrorCode::Corrupt, "pack {} {}; run verify, and restore from another repository if it is damaged", what, why);
}

// Checks that a location's blob and block map lie inside the blob area [header, blobEnd) and
// block-map area [blobEnd, trailer).
void checkBounds(const ChunkLocation& loc, uint64_t blobEnd, uint64_t trailerOffset, std::string_view what) {
  if (loc.offset < kPackHeaderSize || uint64_t{loc.offset} + loc.length > blobEnd)
    corrupt(what, fmt::format("names blob {} outside its blob area", loc.id.hex()));
  if (loc.blockMapOffset != kNoOffset &&
      (loc.blockMapOffset < blobEnd || uint64_t{loc.blockMapOffset} + uint64_t{loc.pages} * kBlockTagSize > trailerOffset))
    corrupt(what, fmt::format("names a block map of {} outside its block-map area", loc.id.hex()));
}

// The blob area ends where the first block map starts, or at the trailer when there is none.
uint64_t blobAreaEnd(const std::vector<ChunkLocation>& locations, uint64_t trailerOffset) {
  uint64_t end = trailerOffset;
  for (const auto& loc : locations)
    if (loc.blockMapOffset != kNoOffset) end = std::min<uint64_t>(end, loc.blockMapOffset);
  return end;
}

struct Footer {
  uint64_t trailerOffset;
  uint32_t trailerLength;
};

Footer parseFooter(std::span<const uint8_t> footer, uint64_t size, std::string_view what) {
  Footer f{getU64(footer, 0), getU32(footer, 8)};
  if (f.trailerOffset < kPackHeaderSize || f.trailerOffset + f.trailerLength + kPackFooterSize != size)
    corrupt(what, "has a footer that does not match its size (truncated?)");
  return f;
}

PackTrailer decodeTrailer(std::span<const uint8_t> trailer, const PackId& id, uint64_t trailerOffset, uint64_t size,
                          std::string_view what) {
  PackTrailer out{decodeEntryTable(trailer, what, &id), size};
  uint64_t blobEnd = blobAreaEnd(out.locations, trailerOffset);
  for (const auto& loc : out.locations) checkBounds(loc, blobEnd, trailerOffset, what);
  return out;
}

}  // namespace

std::string packPath(const PackId& id) {
  auto hex = packIdHex(id);
  return fmt::format("packs/{}/{}.pack", hex.substr(0, 2), hex);
}

PackBuilder::PackBuilder() {
  bytes_.reserve(kPackHeaderSize);
  bytes_.resize(kPackHeaderSize);
  std::memcpy(bytes_.data(), kPackMagic.data(), kPackMagic.size());
  putU32(bytes_, 8, kPackVersion);
}

bool PackBuilder::add(const ChunkId& id, BlobKind kind, const ChunkId& base, uint32_t plainLength,
                      std::span<const uint8_t> envelope, const BlockMap* blockMap) {
  if (byId_.contains(id)) return false;
  if (kind == BlobKind::Patch && base.isZero()) fail(ErrorCode::Internal, "patch {} has no base", id.hex());
  ChunkLocation loc;
  loc.id = id;
  loc.kind = kind;
  loc.base = kind == BlobKind::Patch ? base : ChunkId();
  loc.plainLength = plainLength;
  loc.offset = static_cast<uint32_t>(bytes_.size());
  loc.length = static_cast<uint32_t>(envelope.size());
  appendBytes(bytes_, envelope);
  if (blockMap && blockMap->pageCount() > 0) {
    if (blockMap->pageCount() > 255) fail(ErrorCode::Internal, "block map of {} has {} pages", id.hex(), blockMap->pageCount());
    loc.blockMapOffset = static_cast<uint32_t>(blockMaps_.size());
    loc.pages = static_cast<uint8_t>(blockMap->pageCount());
    appendBytes(blockMaps_, blockMap->bytes());
  }
  byId_.emplace(id, locations_.size());
  locations_.push_back(loc);
  return true;
}

const ChunkLocation* PackBuilder::find(const ChunkId& id) const {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : &locations_[it->second];
}

std::span<const uint8_t> PackBuilder::blob(const ChunkLocation& location) const {
  return std::span(bytes_).subspan(location.offset, location.length);
}

std::optional<BlockMap> PackBuilder::blockMap(const ChunkLocation& location) const {
  if (location.blockMapOffset == kNoOffset) return std::nullopt;
  return BlockMap(std::span(blockMaps_).subspan(location.blockMapOffset, location.pages * kBlockTagSize));
}

PackBuilder::Sealed PackBuilder::seal() const {
  if (locations_.empty()) fail(ErrorCode::Internal, "sealing an empty pack");
  Sealed sealed;
  sealed.locations = locations_;
  auto& bytes = sealed.bytes;
  bytes.reserve(bytes_.size() + blockMaps_.size() + locations_.size() * (kEntrySize + 32) + 64 + kPackFooterSize);
  bytes = bytes_;
  uint32_t blobEnd = static_cast<uint32_t>(bytes.size());
  for (auto& loc : sealed.locations)
    if (loc.blockMapOffset != kNoOffset) loc.blockMapOffset += blobEnd;
  appendBytes(bytes, blockMaps_);
  uint64_t trailerOffset = bytes.size();
  auto trailer = encodeEntryTable(sealed.locations);  // pack ids all zero: a pack does not know its id
  appendBytes(bytes, trailer);
  if (bytes.size() + kPackFooterSize > 0xFFFFFFFFull) fail(ErrorCode::Internal, "pack would exceed 4 GiB");
  size_t footerAt = bytes.size();
  bytes.resize(footerAt + kPackFooterSize);
  putU64(bytes, footerAt, trailerOffset);
  putU32(bytes, footerAt + 8, static_cast<uint32_t>(trailer.size()));
  auto digest = sha256(std::span(bytes).first(footerAt + 16));
  std::copy(digest.begin(), digest.end(), bytes.begin() + static_cast<ptrdiff_t>(footerAt + 16));
  sealed.id = digest;
  for (auto& loc : sealed.locations) loc.pack = digest;
  return sealed;
}

PackTrailer readPackTrailer(StorageReader& reader, const PackId& id, std::string_view what) {
  uint64_t size = reader.objectSize();
  if (size < kPackHeaderSize + kPackFooterSize) corrupt(what, fmt::format("is too short ({} bytes)", size));
  std::array<uint8_t, kPackFooterSize> footerBytes{};
  if (reader.readAt(size - kPackFooterSize, footerBytes) != kPackFooterSize) corrupt(what, "footer cannot be read");
  if (!std::equal(footerBytes.begin() + 16, footerBytes.end(), id.begin()))
    corrupt(what, "footer hash does not match its name");
  auto footer = parseFooter(footerBytes, size, what);
  std::vector<uint8_t> trailer(footer.trailerLength);
  if (reader.readAt(footer.trailerOffset, trailer) != trailer.size()) corrupt(what, "trailer cannot be read");
  return decodeTrailer(trailer, id, footer.trailerOffset, size, what);
}

PackTrailer checkPackBytes(std::span<const uint8_t> bytes, const PackId& id, std::string_view what) {
  if (bytes.size() < kPackHeaderSize + kPackFooterSize) corrupt(what, fmt::format("is too short ({} bytes)", bytes.size()));
  if (std::memcmp(bytes.data(), kPackMagic.data(), kPackMagic.size()) != 0) corrupt(what, "does not start with PGBRPACK");
  if (getU32(bytes, 8) != kPackVersion) corrupt(what, fmt::format("has unknown version {}", getU32(bytes, 8)));
  auto digest = sha256(bytes.first(bytes.size() - 32));
  if (digest != id) corrupt(what, "content does not hash to its name");
  auto footer = parseFooter(bytes.last(kPackFooterSize), bytes.size(), what);
  return decodeTrailer(bytes.subspan(footer.trailerOffset, footer.trailerLength), id, footer.trailerOffset, bytes.size(),
                       what);
}

std::vector<uint8_t> readBlob(StorageReader& reader, const ChunkLocation& location) {
  std::vector<uint8_t> out(location.length);
  if (reader.readAt(location.offset, out) != out.size())
    fail(ErrorCode::Corrupt, "pack {} ends before blob {}", packIdHex(location.pack), location.id.hex());
  return out;
}

BlockMap readBlockMap(StorageReader& reader, const ChunkLocation& location) {
  if (location.blockMapOffset == kNoOffset) return BlockMap();
  std::vector<uint8_t> out(size_t{location.pages} * kBlockTagSize);
  if (reader.readAt(location.blockMapOffset, out) != out.size())
    fail(ErrorCode::Corrupt, "pack {} ends before the block map of {}", packIdHex(location.pack), location.id.hex());
  return BlockMap(out);
}

}  // namespace pgbr::repo
