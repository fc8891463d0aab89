// Test data and keys for the filter tests and the filter micro-benchmark: deterministic
// pgbench-like heap pages (what backups mostly read) and keyrings from fixed master keys.
// Header-only, no doctest dependency.
#pragma once

#include "common/filter/keys.h"
#include "test/common/storage/storage_test_util.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace pgbr::test {

inline std::shared_ptr<const Keyring> testKeyring(uint8_t seed = 1, uint32_t currentKeyId = 1) {
  std::array<uint8_t, kKeySize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  return std::make_shared<const Keyring>(SecretKey(bytes), currentKeyId);
}

// `pages` 8 KiB heap pages shaped like pgbench_accounts: a page header with an LSN, line
// pointers, and 61 tuples of (aid, bid, abalance, 84-space filler) with tuple headers.
inline std::vector<uint8_t> pgbenchPages(size_t pages, uint32_t firstAid = 1) {
  constexpr size_t kPage = 8192;
  constexpr size_t kTuples = 61;
  constexpr size_t kTupleSize = 128;  // 23-byte header + 1 pad + 3 ints + 85-byte filler, MAXALIGNed
  std::vector<uint8_t> out(pages * kPage, 0);
  uint32_t aid = firstAid;
  uint64_t x = firstAid * 0x9E3779B97F4A7C15ull + 7;
  auto put32 = [](uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); };
  auto put16 = [](uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); };
  for (size_t p = 0; p < pages; ++p) {
    uint8_t* page = out.data() + p * kPage;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    put32(page, 0);
    put32(page + 4, static_cast<uint32_t>(0x1000000 + (x & 0xfffff)));  // LSN
    put16(page + 8, static_cast<uint16_t>(x >> 32));                    // checksum
    put16(page + 12, static_cast<uint16_t>(24 + 4 * kTuples));          // pd_lower
    put16(page + 14, static_cast<uint16_t>(kPage - kTuples * kTupleSize));
    put16(page + 16, kPage);
    put16(page + 18, 0x2004);
    for (size_t t = 0; t < kTuples; ++t, ++aid) {
      uint16_t offset = static_cast<uint16_t>(kPage - (t + 1) * kTupleSize);
      put32(page + 24 + 4 * t, offset | (1u << 15) | (121u << 17));  // line pointer: normal, 121 bytes
      uint8_t* tuple = page + offset;
      put32(tuple, 700 + aid / 4096);  // xmin
      put32(tuple + 4, 0);             // xmax
      put16(tuple + 12, static_cast<uint16_t>(p));
      put16(tuple + 16, static_cast<uint16_t>(t + 1));
      put16(tuple + 18, 4);       // natts
      put16(tuple + 20, 0x0902);  // infomask
      tuple[22] = 24;             // hoff
      put32(tuple + 24, aid);
      put32(tuple + 28, aid / 100000 + 1);
      put32(tuple + 32, (x >> (t % 32)) % 7 == 0 ? static_cast<uint32_t>(x >> 40) % 5000 : 0);
      tuple[36] = 0xab;  // varlena header of the filler
      std::memset(tuple + 37, ' ', 84);
    }
  }
  return out;
}

}  // namespace pgbr::test
