#include "common/filter/chunk_patch.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <doctest/doctest.h>

#include <cstring>

using namespace pgbr;

namespace {

ChunkId someId(uint8_t seed) {
  std::array<uint8_t, 32> bytes{};
  bytes.fill(seed);
  return ChunkId(bytes);
}

std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(seed + i * 31 + i / 8192);
  return out;
}

// The format of docs/repository-format.md, built independently of the code under test.
std::vector<uint8_t> makePatch(const ChunkId& baseId, const std::vector<uint8_t>& base,
                               const std::vector<uint8_t>& result) {
  size_t pages = (result.size() + 8191) / 8192;
  std::vector<uint8_t> patch(4 + 32 + 12);
  std::memcpy(patch.data(), "PGBP", 4);
  std::memcpy(patch.data() + 4, baseId.bytes().data(), 32);
  putU32(patch, 36, static_cast<uint32_t>(base.size()));
  putU32(patch, 40, static_cast<uint32_t>(result.size()));
  putU32(patch, 44, 8192);
  std::vector<uint8_t> bitmap((pages + 7) / 8);
  std::vector<uint8_t> deltas;
  for (size_t page = 0; page < pages; ++page) {
    size_t start = page * 8192, length = std::min<size_t>(8192, result.size() - start);
    bool same = start + length <= base.size() && std::memcmp(base.data() + start, result.data() + start, length) == 0;
    if (same) continue;
    bitmap[page / 8] |= static_cast<uint8_t>(1 << (page % 8));
    for (size_t i = 0; i < length; ++i)
      deltas.push_back(static_cast<uint8_t>(result[start + i] ^ (start + i < base.size() ? base[start + i] : 0)));
  }
  patch.insert(patch.end(), bitmap.begin(), bitmap.end());
  patch.insert(patch.end(), deltas.begin(), deltas.end());
  return patch;
}

}  // namespace

TEST_CASE("a patch rebuilds changed pages, keeps the others and extends past the base") {
  auto base = pattern(3 * 8192, 1);
  auto result = base;
  result[8192 + 100] ^= 0x5a;           // page 1 changed
  result.resize(4 * 8192 + 500, 0x77);  // a longer chunk: pages 3 and 4 beyond the base
  ChunkId baseId = someId(3);
  auto patch = makePatch(baseId, base, result);
  ByteBuffer out;
  applyPatch(patch, baseId, base, out, "chunk x");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == result);
}

TEST_CASE("a shorter result keeps only the base's first bytes") {
  auto base = pattern(2 * 8192, 9);
  std::vector<uint8_t> result(base.begin(), base.begin() + 5000);
  ChunkId baseId = someId(1);
  ByteBuffer out;
  applyPatch(makePatch(baseId, base, result), baseId, base, out, "chunk x");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == result);
}

TEST_CASE("a patch for another base, a wrong base length or a truncated patch is corrupt") {
  auto base = pattern(8192, 2);
  auto result = base;
  result[0] ^= 1;
  ChunkId baseId = someId(4);
  auto patch = makePatch(baseId, base, result);
  ByteBuffer out;
  CHECK_THROWS_WITH_AS(applyPatch(patch, someId(5), base, out, "chunk x"),
                       doctest::Contains("the patch is for base chunk"), Error);
  std::vector<uint8_t> shortBase(base.begin(), base.begin() + 100);
  CHECK_THROWS_WITH_AS(applyPatch(patch, baseId, shortBase, out, "chunk x"),
                       "chunk x: the patch expects a base of 8192 bytes, the base chunk has 100", Error);
  auto truncated = patch;
  truncated.pop_back();
  CHECK_THROWS_WITH_AS(applyPatch(truncated, baseId, base, out, "chunk x"), "chunk x: the patch is truncated at page 0",
                       Error);
  auto trailing = patch;
  trailing.push_back(0);
  CHECK_THROWS_WITH_AS(applyPatch(trailing, baseId, base, out, "chunk x"),
                       "chunk x: the patch has 1 bytes after its last page", Error);
  auto magic = patch;
  magic[0] = 'X';
  CHECK_THROWS_AS(applyPatch(magic, baseId, base, out, "chunk x"), Error);
}

TEST_CASE("a page marked unchanged beyond the base cannot be rebuilt") {
  auto base = pattern(8192, 2);
  auto result = pattern(2 * 8192, 2);
  ChunkId baseId = someId(4);
  auto patch = makePatch(baseId, base, result);
  // Clear page 1's bit and drop its delta: the page would have no source.
  patch[48] &= static_cast<uint8_t>(~2);
  REQUIRE(patch.size() > 8192);
  patch.erase(patch.end() - 8192, patch.end());
  ByteBuffer out;
  CHECK_THROWS_WITH_AS(applyPatch(patch, baseId, base, out, "chunk x"),
                       "chunk x: page 1 is marked unchanged but lies beyond the base chunk", Error);
}

TEST_CASE("buildPatch writes the documented format and marks only the pages that differ") {
  auto base = pattern(3 * 8192 + 300, 5);
  auto result = base;
  result[2 * 8192 + 7] ^= 0x01;         // page 2 changed
  result.resize(4 * 8192 + 10, 0x33);  // page 3 grew past the base's short last page, page 4 is new
  ChunkId baseId = someId(6);
  ByteBuffer patch;
  CHECK(buildPatch(baseId, base, result, patch) == 3);
  CHECK(std::vector<uint8_t>(patch.data(), patch.data() + patch.size()) == makePatch(baseId, base, result));
  ByteBuffer out;
  applyPatch(patch.span(), baseId, base, out, "chunk x");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == result);
  // Only the changed byte of page 2 is non-zero in its delta.
  size_t deltaStart = 48 + 1;
  size_t nonZero = 0;
  for (size_t i = 0; i < 8192; ++i) nonZero += patch.data()[deltaStart + i] != 0;
  CHECK(nonZero == 1);
}

TEST_CASE("a chunk equal to its base gives a patch without pages, and a shorter one rebuilds") {
  auto base = pattern(2 * 8192, 8);
  ChunkId baseId = someId(7);
  ByteBuffer patch, out;
  CHECK(buildPatch(baseId, base, base, patch) == 0);
  CHECK(patch.size() == 48 + 1);
  applyPatch(patch.span(), baseId, base, out, "chunk x");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == base);
  std::vector<uint8_t> shorter(base.begin(), base.begin() + 8192 + 20);
  shorter[8192] ^= 0xff;
  CHECK(buildPatch(baseId, base, shorter, patch) == 1);
  applyPatch(patch.span(), baseId, base, out, "chunk x");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == shorter);
}

TEST_CASE("a page set carries the listed pages and rebuilds the chunk from its earlier version") {
  auto earlier = pattern(4 * 8192, 3);
  auto chunk = earlier;
  chunk[100] ^= 1;
  chunk[3 * 8192 + 5] ^= 1;
  chunk.resize(5 * 8192 - 100, 0x44);
  const std::vector<uint32_t> pages{0, 3, 4};
  ByteBuffer set;
  buildPageSet(chunk, pages, set);
  // magic, length, page size, one bitmap byte (pages 0, 3, 4), then the three pages.
  CHECK(set.size() == 12 + 1 + 8192 * 2 + (8192 - 100));
  CHECK(std::memcmp(set.data(), "PGBS", 4) == 0);
  CHECK(getU32(set.span(), 4) == chunk.size());
  CHECK(set.data()[12] == 0b11001);
  ByteBuffer out;
  applyPageSet(set.span(), earlier, out, "chunk y");
  CHECK(std::vector<uint8_t>(out.data(), out.data() + out.size()) == chunk);

  // Without page 4, which lies beyond the earlier version, the set cannot be applied.
  const std::vector<uint32_t> tooFew{0, 3};
  buildPageSet(chunk, tooFew, set);
  CHECK_THROWS_WITH_AS(applyPageSet(set.span(), earlier, out, "chunk y"),
                       "chunk y: page 4 is marked unchanged but lies beyond the earlier chunk", Error);
  auto truncated = std::vector<uint8_t>(set.data(), set.data() + set.size() - 1);
  CHECK_THROWS_WITH_AS(applyPageSet(truncated, earlier, out, "chunk y"), "chunk y: the page set is truncated at page 3",
                       Error);
  const std::vector<uint32_t> unordered{3, 0};
  CHECK_THROWS_AS(buildPageSet(chunk, unordered, set), Error);
}
