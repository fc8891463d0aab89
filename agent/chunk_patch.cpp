#include "agent/chunk_patch.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/filter/pipeline.h"

#include <algorithm>
#include <cstring>

namespace pgbr::agent {

void applyPatch(std::span<const uint8_t> patch, const ChunkId& baseId, std::span<const uint8_t> base, ByteBuffer& out,
                std::string_view what) {
  constexpr size_t kFixed = 4 + ChunkId::kSize + 4 + 4 + 4;
  if (patch.size() < kFixed || !std::equal(kPatchMagic.begin(), kPatchMagic.end(), patch.begin()))
    fail(ErrorCode::Corrupt, "{}: the patch does not start with a patch header", what);
  ChunkId named(patch.subspan(4).first<ChunkId::kSize>());
  if (named != baseId)
    fail(ErrorCode::Corrupt, "{}: the patch is for base chunk {}, not {}", what, named.hex(), baseId.hex());
  uint32_t baseLength = getU32(patch, 36);
  uint32_t resultLength = getU32(patch, 40);
  uint32_t pageSize = getU32(patch, 44);
  if (baseLength != base.size())
    fail(ErrorCode::Corrupt, "{}: the patch expects a base of {} bytes, the base chunk has {}", what, baseLength,
         base.size());
  if (pageSize != kPageSize || resultLength > kMaxChunkSize)
    fail(ErrorCode::Corrupt, "{}: the patch has page size {} and length {}", what, pageSize, resultLength);
  size_t pages = (resultLength + pageSize - 1) / pageSize;
  size_t bitmapSize = (pages + 7) / 8;
  if (patch.size() < kFixed + bitmapSize) fail(ErrorCode::Corrupt, "{}: the patch is truncated in its bitmap", what);
  auto bitmap = patch.subspan(kFixed, bitmapSize);
  auto deltas = patch.subspan(kFixed + bitmapSize);

  out.resize(resultLength);
  size_t used = 0;
  for (size_t page = 0; page < pages; ++page) {
    size_t start = page * pageSize;
    size_t length = std::min<size_t>(pageSize, resultLength - start);
    bool changed = (bitmap[page / 8] >> (page % 8)) & 1;
    if (!changed) {
      if (start + length > base.size())
        fail(ErrorCode::Corrupt, "{}: page {} is marked unchanged but lies beyond the base chunk", what, page);
      std::memcpy(out.data() + start, base.data() + start, length);
      continue;
    }
    if (deltas.size() - used < length) fail(ErrorCode::Corrupt, "{}: the patch is truncated at page {}", what, page);
    const uint8_t* delta = deltas.data() + used;
    uint8_t* target = out.data() + start;
    size_t overlap = start < base.size() ? std::min(length, base.size() - start) : 0;
    for (size_t i = 0; i < overlap; ++i) target[i] = delta[i] ^ base[start + i];
    std::memcpy(target + overlap, delta + overlap, length - overlap);
    used += length;
  }
  if (used != deltas.size())
    fail(ErrorCode::Corrupt, "{}: the patch has {} bytes after its last page", what, deltas.size() - used);
  // Bits for pages past the end must be clear, so one patch has one meaning.
  for (size_t page = pages; page < bitmapSize * 8; ++page)
    if ((bitmap[page / 8] >> (page % 8)) & 1)
      fail(ErrorCode::Corrupt, "{}: the patch marks page {} beyond its end", what, page);
}

}  // namespace pgbr::agent
