// Big-endian integer encoding for pgbr's binary formats (every multi-byte field in
// docs/chunk-format.md is big-endian). Header-only; pure functions.
#pragma once

#include <cstdint>
#include <span>

namespace pgbr {

inline void putU32(std::span<uint8_t> out, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}
inline void putU64(std::span<uint8_t> out, size_t at, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<uint8_t>(value >> (56 - 8 * i));
}
inline uint32_t getU32(std::span<const uint8_t> in, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | in[at + i];
  return value;
}
inline uint64_t getU64(std::span<const uint8_t> in, size_t at) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | in[at + i];
  return value;
}

}  // namespace pgbr
