#include "common/filter/chunk_patch.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/filter/pipeline.h"

#include <algorithm>
#include <cstring>

namespace pgbr {
namespace {

// Patch header: magic, base id, base length, result length, page size.
constexpr size_t kPatchHeader = 4 + ChunkId::kSize + 4 + 4 + 4;
// Page-set header: magic, result length, page size.
constexpr size_t kPageSetHeader = 4 + 4 + 4;

size_t pageCount(size_t length) { return (length + kPageSize - 1) / kPageSize; }

// The part both forms share after their header: a bitmap of the result's pages, then the data
// of each marked page, in order.
struct Paged {
  size_t resultLength = 0;
  std::span<const uint8_t> bitmap;
  std::span<const uint8_t> data;
  std::string_view form;   // "patch", "page set"
  std::string_view other;  // "base chunk", "earlier chunk"
};

Paged splitPaged(std::span<const uint8_t> bytes, size_t header, size_t resultLength, uint32_t pageSize,
                 std::string_view form, std::string_view other, std::string_view what) {
  if (pageSize != kPageSize || resultLength > kMaxChunkSize)
    fail(ErrorCode::Corrupt, "{}: the {} has page size {} and length {}", what, form, pageSize, resultLength);
  size_t bitmapSize = (pageCount(resultLength) + 7) / 8;
  if (bytes.size() < header + bitmapSize) fail(ErrorCode::Corrupt, "{}: the {} is truncated in its bitmap", what, form);
  return {.resultLength = resultLength,
          .bitmap = bytes.subspan(header, bitmapSize),
          .data = bytes.subspan(header + bitmapSize),
          .form = form,
          .other = other};
}

// Rebuilds the result into out: unmarked pages come from `source`, marked ones from
// combine(target, data, source bytes under the page).
template <typename Combine>
void rebuild(const Paged& paged, std::span<const uint8_t> source, ByteBuffer& out, std::string_view what,
             Combine combine) {
  size_t pages = pageCount(paged.resultLength);
  out.resize(paged.resultLength);
  size_t used = 0;
  for (size_t page = 0; page < pages; ++page) {
    size_t start = page * kPageSize;
    size_t length = std::min(kPageSize, paged.resultLength - start);
    bool marked = (paged.bitmap[page / 8] >> (page % 8)) & 1;
    if (!marked) {
      if (start + length > source.size())
        fail(ErrorCode::Corrupt, "{}: page {} is marked unchanged but lies beyond the {}", what, page, paged.other);
      std::memcpy(out.data() + start, source.data() + start, length);
      continue;
    }
    if (paged.data.size() - used < length)
      fail(ErrorCode::Corrupt, "{}: the {} is truncated at page {}", what, paged.form, page);
    size_t overlap = start < source.size() ? std::min(length, source.size() - start) : 0;
    combine(out.data() + start, paged.data.data() + used, length, source.subspan(start, overlap));
    used += length;
  }
  if (used != paged.data.size())
    fail(ErrorCode::Corrupt, "{}: the {} has {} bytes after its last page", what, paged.form, paged.data.size() - used);
  // Bits for pages past the end must be clear, so one encoding has one meaning.
  for (size_t page = pages; page < paged.bitmap.size() * 8; ++page)
    if ((paged.bitmap[page / 8] >> (page % 8)) & 1)
      fail(ErrorCode::Corrupt, "{}: the {} marks page {} beyond its end", what, paged.form, page);
}

}  // namespace

size_t buildPatch(const ChunkId& baseId, std::span<const uint8_t> base, std::span<const uint8_t> result,
                  ByteBuffer& out) {
  if (result.size() > kMaxChunkSize || base.size() > kMaxChunkSize)
    fail(ErrorCode::Internal, "a patch between chunks of {} and {} bytes", base.size(), result.size());
  size_t pages = pageCount(result.size());
  size_t bitmapSize = (pages + 7) / 8;
  out.resize(kPatchHeader + bitmapSize);
  std::memcpy(out.data(), kPatchMagic.data(), kPatchMagic.size());
  std::memcpy(out.data() + 4, baseId.bytes().data(), ChunkId::kSize);
  putU32(out.span(), 36, static_cast<uint32_t>(base.size()));
  putU32(out.span(), 40, static_cast<uint32_t>(result.size()));
  putU32(out.span(), 44, static_cast<uint32_t>(kPageSize));
  std::memset(out.data() + kPatchHeader, 0, bitmapSize);
  size_t changed = 0;
  for (size_t page = 0; page < pages; ++page) {
    size_t start = page * kPageSize;
    size_t length = std::min(kPageSize, result.size() - start);
    size_t overlap = start < base.size() ? std::min(length, base.size() - start) : 0;
    if (overlap == length && std::memcmp(base.data() + start, result.data() + start, length) == 0) continue;
    out.data()[kPatchHeader + page / 8] |= static_cast<uint8_t>(1u << (page % 8));
    size_t at = out.size();
    out.resize(at + length);
    uint8_t* target = out.data() + at;
    for (size_t i = 0; i < overlap; ++i) target[i] = result[start + i] ^ base[start + i];
    std::memcpy(target + overlap, result.data() + start + overlap, length - overlap);
    ++changed;
  }
  return changed;
}

void applyPatch(std::span<const uint8_t> patch, const ChunkId& baseId, std::span<const uint8_t> base, ByteBuffer& out,
                std::string_view what) {
  if (patch.size() < kPatchHeader || !std::equal(kPatchMagic.begin(), kPatchMagic.end(), patch.begin()))
    fail(ErrorCode::Corrupt, "{}: the patch does not start with a patch header", what);
  ChunkId named(patch.subspan(4).first<ChunkId::kSize>());
  if (named != baseId)
    fail(ErrorCode::Corrupt, "{}: the patch is for base chunk {}, not {}", what, named.hex(), baseId.hex());
  uint32_t baseLength = getU32(patch, 36);
  if (baseLength != base.size())
    fail(ErrorCode::Corrupt, "{}: the patch expects a base of {} bytes, the base chunk has {}", what, baseLength,
         base.size());
  Paged paged = splitPaged(patch, kPatchHeader, getU32(patch, 40), getU32(patch, 44), "patch", "base chunk", what);
  rebuild(paged, base, out, what,
          [](uint8_t* target, const uint8_t* delta, size_t length, std::span<const uint8_t> under) {
            for (size_t i = 0; i < under.size(); ++i) target[i] = delta[i] ^ under[i];
            std::memcpy(target + under.size(), delta + under.size(), length - under.size());
          });
}

void buildPageSet(std::span<const uint8_t> chunk, std::span<const uint32_t> pages, ByteBuffer& out) {
  size_t total = pageCount(chunk.size());
  size_t bitmapSize = (total + 7) / 8;
  out.resize(kPageSetHeader + bitmapSize);
  std::memcpy(out.data(), kPageSetMagic.data(), kPageSetMagic.size());
  putU32(out.span(), 4, static_cast<uint32_t>(chunk.size()));
  putU32(out.span(), 8, static_cast<uint32_t>(kPageSize));
  std::memset(out.data() + kPageSetHeader, 0, bitmapSize);
  for (size_t i = 0; i < pages.size(); ++i) {
    uint32_t page = pages[i];
    if (page >= total || (i > 0 && page <= pages[i - 1]))
      fail(ErrorCode::Internal, "page set of a chunk of {} pages with page {} at position {}", total, page, i);
    out.data()[kPageSetHeader + page / 8] |= static_cast<uint8_t>(1u << (page % 8));
    size_t start = size_t{page} * kPageSize;
    out.append(chunk.subspan(start, std::min(kPageSize, chunk.size() - start)));
  }
}

void applyPageSet(std::span<const uint8_t> pageSet, std::span<const uint8_t> earlier, ByteBuffer& out,
                  std::string_view what) {
  if (pageSet.size() < kPageSetHeader || !std::equal(kPageSetMagic.begin(), kPageSetMagic.end(), pageSet.begin()))
    fail(ErrorCode::Corrupt, "{}: the page set does not start with a page-set header", what);
  Paged paged =
      splitPaged(pageSet, kPageSetHeader, getU32(pageSet, 4), getU32(pageSet, 8), "page set", "earlier chunk", what);
  rebuild(paged, earlier, out, what, [](uint8_t* target, const uint8_t* page, size_t length, std::span<const uint8_t>) {
    std::memcpy(target, page, length);
  });
}

}  // namespace pgbr
