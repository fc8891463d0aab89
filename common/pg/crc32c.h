// CRC-32C (Castagnoli), the checksum PostgreSQL puts on pg_control, WAL records and backup
// manifests. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace pgbr::pg {

// The finished CRC of bytes (initial value and final xor 0xFFFFFFFF, reflected polynomial
// 0x82F63B78), as PostgreSQL's INIT_CRC32C / COMP_CRC32C / FIN_CRC32C compute it.
uint32_t crc32c(std::span<const uint8_t> bytes);

}  // namespace pgbr::pg
