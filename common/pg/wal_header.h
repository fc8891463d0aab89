// The long page header at the start of every WAL segment (XLogLongPageHeaderData): its magic
// tells the PostgreSQL version, and it carries the system identifier, segment and block sizes,
// timeline and page address. pgbr reads it to prove a segment belongs to a stanza's cluster
// before archiving it. Pure functions and value types; thread-safe.
#pragma once

#include "common/pg/lsn.h"
#include "common/pg/version.h"
#include "common/pg/wal_name.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgbr::pg {

// sizeof(XLogLongPageHeaderData): 24-byte short header (magic, info, timeline, page address,
// remaining length, padding) then system identifier, segment size and WAL block size.
constexpr size_t kWalLongPageHeaderSize = 40;
constexpr uint16_t kXlpLongHeader = 0x0002;

struct WalSegmentHeader {
  uint16_t magic = 0;
  uint16_t info = 0;        // xlp_info flag bits
  TimeLineId timeline = 0;  // timeline of the first record on the page
  Lsn pageAddress;          // LSN of the segment's first byte
  uint64_t systemIdentifier = 0;
  uint32_t segmentSize = 0;
  uint32_t blockSize = 0;  // XLOG_BLCKSZ
  PgVersion version;       // recognised from the magic
};

// The cluster a segment must belong to: what a stanza records.
struct ClusterIdentity {
  uint64_t systemIdentifier = 0;
  unsigned pgMajor = 0;
  uint32_t walSegmentSize = kDefaultWalSegmentSize;
};

// Parses the first bytes (at least kWalLongPageHeaderSize) of a segment. source names it in
// messages. Throws Error(Format) when the bytes are not the first page of a WAL segment of a
// known PostgreSQL version.
WalSegmentHeader parseWalSegmentHeader(std::span<const uint8_t> firstPage, std::string_view source);
// Reads the header of the segment file at path.
WalSegmentHeader readWalSegmentHeader(const std::string& path);

// Checks that a segment (or .partial segment) named fileName, with this header, was written by
// the expected cluster: throws Error(PgMismatch) naming both system identifiers and versions when
// it was not, and Error(Format) when the header contradicts the file name (a renamed or recycled
// file).
void checkWalSegmentBelongs(const WalSegmentHeader& header, std::string_view fileName, const ClusterIdentity& expected);

}  // namespace pgbr::pg
