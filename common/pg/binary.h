// Reading fixed-width integers out of PostgreSQL's on-disk structures (pg_control, WAL page
// headers, data pages). PostgreSQL writes them in the host's byte order, so they are read the same
// way; memcpy keeps the reads free of alignment and aliasing traps. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace pgbr::pg::detail {

// Reads a T at offset; the caller has checked that offset + sizeof(T) <= bytes.size().
template <typename T>
T readAt(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace pgbr::pg::detail
