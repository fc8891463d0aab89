#include "repo-server/entry_table.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"

#include <algorithm>
#include <map>

namespace pgbr::repo {
namespace {


template <typename Key>
uint32_t ordinalOf(std::map<Key, uint32_t>& ordinals, std::vector<Key>& table, const Key& key) {
  auto [it, inserted] = ordinals.emplace(key, static_cast<uint32_t>(table.size()));
  if (inserted) table.push_back(key);
  return it->second;
}

}  // namespace

std::string packIdHex(const PackId& id) { return toHex(id); }

std::vector<uint8_t> encodeEntryTable(std::vector<ChunkLocation> locations) {
  std::sort(locations.begin(), locations.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  locations.erase(std::unique(locations.begin(), locations.end(), [](const auto& a, const auto& b) { return a.id == b.id; }),
                  locations.end());

  std::map<PackId, uint32_t> packOrdinals;
  std::map<ChunkId, uint32_t> baseOrdinals;
  std::vector<PackId> packs;
  std::vector<ChunkId> bases;
  std::vector<std::pair<uint32_t, uint32_t>> ordinals;  // pack, base per entry
  ordinals.reserve(locations.size());
  for (const auto& loc : locations) {
    uint32_t base = kNoOffset;
    if (loc.kind == BlobKind::Patch) {
      if (loc.base.isZero()) fail(ErrorCode::Internal, "patch {} has no base chunk", loc.id.hex());
      base = ordinalOf(baseOrdinals, bases, loc.base);
    }
    ordinals.emplace_back(ordinalOf(packOrdinals, packs, loc.pack), base);
  }

  std::vector<uint8_t> out(kEntryTableHeaderSize + packs.size() * 32 + bases.size() * 32 + locations.size() * kEntrySize);
  std::span<uint8_t> bytes(out);
  putU32(bytes, 0, static_cast<uint32_t>(packs.size()));
  putU32(bytes, 4, static_cast<uint32_t>(bases.size()));
  putU64(bytes, 8, locations.size());
  size_t at = kEntryTableHeaderSize;
  for (const auto& pack : packs) {
    std::copy(pack.begin(), pack.end(), out.begin() + static_cast<ptrdiff_t>(at));
    at += 32;
  }
  for (const auto& base : bases) {
    std::copy(base.bytes().begin(), base.bytes().end(), out.begin() + static_cast<ptrdiff_t>(at));
    at += 32;
  }
  for (size_t i = 0; i < locations.size(); ++i, at += kEntrySize) {
    const auto& loc = locations[i];
    std::copy(loc.id.bytes().begin(), loc.id.bytes().end(), out.begin() + static_cast<ptrdiff_t>(at));
    putU32(bytes, at + 32, ordinals[i].first);
    putU32(bytes, at + 36, loc.offset);
    putU32(bytes, at + 40, loc.length);
    putU32(bytes, at + 44, loc.plainLength);
    putU32(bytes, at + 48, loc.blockMapOffset);
    putU32(bytes, at + 52, ordinals[i].second);
    out[at + 56] = static_cast<uint8_t>(loc.kind);
    out[at + 57] = loc.pages;
  }
  return out;
}

EntryTableLayout entryTableLayout(std::span<const uint8_t> header, uint64_t tableSize, std::string_view what) {
  EntryTableLayout l;
  l.packCount = getU32(header, 0);
  l.baseCount = getU32(header, 4);
  l.entryCount = getU64(header, 8);
  l.packsOffset = kEntryTableHeaderSize;
  l.basesOffset = l.packsOffset + l.packCount * 32;
  l.entriesOffset = l.basesOffset + l.baseCount * 32;
  l.size = tableSize;
  if (l.packCount == 0 && l.entryCount > 0)
    fail(ErrorCode::Corrupt, "{}: entry table has entries but no packs", what);
  if (l.entryCount > tableSize / kEntrySize || l.entriesOffset + l.entryCount * kEntrySize != tableSize)
    fail(ErrorCode::Corrupt, "{}: entry table size {} does not match its counts ({} packs, {} bases, {} entries)", what,
         tableSize, l.packCount, l.baseCount, l.entryCount);
  return l;
}

RawEntry decodeEntry(std::span<const uint8_t> bytes) {
  RawEntry raw;
  auto& loc = raw.location;
  loc.id = ChunkId(bytes.first<32>());
  raw.packOrdinal = getU32(bytes, 32);
  loc.offset = getU32(bytes, 36);
  loc.length = getU32(bytes, 40);
  loc.plainLength = getU32(bytes, 44);
  loc.blockMapOffset = getU32(bytes, 48);
  raw.baseOrdinal = getU32(bytes, 52);
  loc.kind = static_cast<BlobKind>(bytes[56]);
  loc.pages = bytes[57];
  return raw;
}

std::vector<ChunkLocation> decodeEntryTable(std::span<const uint8_t> bytes, std::string_view what,
                                            const PackId* packOverride) {
  auto corrupt = [&](std::string_view why) { fail(ErrorCode::Corrupt, "{}: entry table {}", what, why); };
  if (bytes.size() < kEntryTableHeaderSize) corrupt("is truncated");
  auto layout = entryTableLayout(bytes, bytes.size(), what);

  std::vector<PackId> packs(layout.packCount);
  for (uint64_t i = 0; i < layout.packCount; ++i) {
    std::copy_n(bytes.begin() + static_cast<ptrdiff_t>(layout.packsOffset + i * 32), 32, packs[i].begin());
    if (packOverride) packs[i] = *packOverride;
  }
  std::vector<ChunkId> bases;
  bases.reserve(layout.baseCount);
  for (uint64_t i = 0; i < layout.baseCount; ++i) bases.emplace_back(bytes.subspan(layout.basesOffset + i * 32).first<32>());

  std::vector<ChunkLocation> out;
  out.reserve(layout.entryCount);
  for (uint64_t i = 0; i < layout.entryCount; ++i) {
    auto raw = decodeEntry(bytes.subspan(layout.entriesOffset + i * kEntrySize, kEntrySize));
    auto& loc = raw.location;
    if (raw.packOrdinal >= layout.packCount) corrupt(fmt::format("entry {} names pack {} of {}", i, raw.packOrdinal, layout.packCount));
    loc.pack = packs[raw.packOrdinal];
    if (loc.kind == BlobKind::Chunk) {
      if (raw.baseOrdinal != kNoOffset) corrupt(fmt::format("entry {} is a whole chunk with a base", i));
    } else if (loc.kind == BlobKind::Patch) {
      if (raw.baseOrdinal >= layout.baseCount) corrupt(fmt::format("entry {} names base {} of {}", i, raw.baseOrdinal, layout.baseCount));
      loc.base = bases[raw.baseOrdinal];
    } else {
      corrupt(fmt::format("entry {} has unknown kind {}", i, static_cast<int>(loc.kind)));
    }
    if (!out.empty() && !(out.back().id < loc.id)) corrupt(fmt::format("entry {} is out of order", i));
    out.push_back(loc);
  }
  return out;
}

}  // namespace pgbr::repo
