#include "common/filter/chunk_id.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"

#include <algorithm>

namespace pgbr {
namespace {
constexpr std::string_view kFileChecksumLabel = "pgbr-file-v1";
}

ChunkId::ChunkId(std::span<const uint8_t, kSize> bytes) { std::copy(bytes.begin(), bytes.end(), bytes_.begin()); }

std::optional<ChunkId> ChunkId::fromHex(std::string_view text) {
  if (text.size() != 2 * kSize) return std::nullopt;
  auto bytes = pgbr::fromHex(text);
  if (!bytes) return std::nullopt;
  return ChunkId(std::span<const uint8_t, kSize>(bytes->data(), kSize));
}

std::string ChunkId::hex() const { return toHex(bytes_); }

bool ChunkId::isZero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

BlockMap::BlockMap(std::span<const uint8_t> bytes) { assign(bytes); }

void BlockMap::assign(std::span<const uint8_t> bytes) {
  if (bytes.size() % kBlockTagSize != 0)
    fail(ErrorCode::Format, "a block map has {} bytes, not a multiple of {}", bytes.size(), kBlockTagSize);
  bytes_.assign(bytes.begin(), bytes.end());
}

std::vector<uint32_t> BlockMap::changedPages(const BlockMap& base) const {
  std::vector<uint32_t> changed;
  for (size_t i = 0; i < pageCount(); ++i) {
    if (i >= base.pageCount() || !std::equal(page(i).begin(), page(i).end(), base.page(i).begin()))
      changed.push_back(static_cast<uint32_t>(i));
  }
  return changed;
}

FileChecksum::FileChecksum() {
  hash_.update({reinterpret_cast<const uint8_t*>(kFileChecksumLabel.data()), kFileChecksumLabel.size()});
}

void FileChecksum::add(const ChunkId& id) { hash_.update(id.bytes()); }

Sha256Digest FileChecksum::finish(uint64_t size) {
  std::array<uint8_t, 8> length{};
  putU64(length, 0, size);
  hash_.update(length);
  Sha256Digest digest = hash_.finish();
  hash_.reset();
  hash_.update({reinterpret_cast<const uint8_t*>(kFileChecksumLabel.data()), kFileChecksumLabel.size()});
  return digest;
}

}  // namespace pgbr
