// Small helpers shared by the storage and filter tests (and the filter micro-benchmark):
// byte strings, deterministic pseudo-random bytes, listing shorthand and error-code capture.
// Header-only, no doctest dependency.
#pragma once

#include "common/error.h"
#include "common/storage/storage.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::test {

inline std::vector<uint8_t> bytesOf(std::string_view text) { return {text.begin(), text.end()}; }

// Deterministic bytes that no compressor can shrink (xorshift32), different for each seed.
inline std::vector<uint8_t> patternBytes(size_t size, uint32_t seed = 1) {
  std::vector<uint8_t> out(size);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

// Listing entries as "name" for objects and "name/" for directories.
inline std::vector<std::string> entryPaths(const std::vector<ListEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.directory ? e.path + "/" : e.path);
  return out;
}

// The code of the pgbr::Error that action throws; Unknown when it throws none.
inline ErrorCode errorCodeOf(const auto& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::Unknown;
}

}  // namespace pgbr::test
