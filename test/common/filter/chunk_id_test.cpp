#include "common/filter/chunk_id.h"

#include "common/error.h"
#include "common/text.h"

#include <doctest/doctest.h>

#include <unordered_set>

using namespace pgbr;

namespace {
ChunkId idWithFirstByte(uint8_t first) {
  std::array<uint8_t, ChunkId::kSize> bytes{};
  bytes[0] = first;
  bytes[31] = 0x5a;
  return ChunkId(bytes);
}
}  // namespace

TEST_CASE("a chunk id round-trips through hex and rejects malformed hex") {
  ChunkId id = idWithFirstByte(0xab);
  std::string hex = id.hex();
  CHECK(hex == "ab0000000000000000000000000000000000000000000000000000000000005a");
  CHECK(ChunkId::fromHex(hex) == id);
  for (char& c : hex) c = static_cast<char>(std::toupper(c));
  CHECK(ChunkId::fromHex(hex) == id);
  CHECK_FALSE(ChunkId::fromHex("ab").has_value());
  CHECK_FALSE(ChunkId::fromHex(std::string(64, 'g')).has_value());
  CHECK_FALSE(ChunkId::fromHex(std::string(66, '0')).has_value());
  CHECK(ChunkId().isZero());
  CHECK_FALSE(id.isZero());
}

TEST_CASE("chunk ids order bytewise and hash into unordered containers") {
  CHECK(idWithFirstByte(1) < idWithFirstByte(2));
  CHECK(idWithFirstByte(2) == idWithFirstByte(2));
  std::unordered_set<ChunkId> set{idWithFirstByte(1), idWithFirstByte(2), idWithFirstByte(1)};
  CHECK(set.size() == 2);
  CHECK(set.contains(idWithFirstByte(2)));
}

TEST_CASE("a block map lists the pages that differ from its base, extra pages included") {
  std::vector<uint8_t> base(4 * kBlockTagSize, 1);
  std::vector<uint8_t> changed = base;
  changed[2 * kBlockTagSize + 7] = 9;
  changed.resize(5 * kBlockTagSize, 1);
  BlockMap a(base);
  BlockMap b(changed);
  CHECK(a.pageCount() == 4);
  CHECK(b.changedPages(a) == std::vector<uint32_t>{2, 4});
  CHECK(a.changedPages(a).empty());
  CHECK(a.changedPages(b) == std::vector<uint32_t>{2});
  CHECK_THROWS_AS(BlockMap(std::vector<uint8_t>(9)), Error);
}

TEST_CASE("a file checksum is SHA-256 of the label, the ordered ids and the size") {
  FileChecksum checksum;
  checksum.add(idWithFirstByte(1));
  checksum.add(idWithFirstByte(2));
  auto digest = checksum.finish(300'000);

  std::vector<uint8_t> input{'p', 'g', 'b', 'r', '-', 'f', 'i', 'l', 'e', '-', 'v', '1'};
  for (auto id : {idWithFirstByte(1), idWithFirstByte(2)}) input.insert(input.end(), id.bytes().begin(), id.bytes().end());
  for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<uint8_t>(300'000ull >> shift));
  CHECK(digest == sha256(input));

  // The object starts over: the same ids in another order give another checksum.
  checksum.add(idWithFirstByte(2));
  checksum.add(idWithFirstByte(1));
  CHECK(checksum.finish(300'000) != digest);
}
