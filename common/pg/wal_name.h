// Names of the files in pg_wal and in the WAL archive: segments ("000000010000000A000000FF"),
// partial segments (".partial", left by a promoted standby or pg_receivewal), timeline histories
// ("00000002.history") and backup history files ("<segment>.<offset>.backup"), and the arithmetic
// between a segment, its name and the LSNs it holds. Pure functions and value types; thread-safe.
#pragma once

#include "common/pg/lsn.h"

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::pg {

using TimeLineId = uint32_t;

constexpr uint32_t kDefaultWalSegmentSize = 16u << 20;

// PostgreSQL accepts powers of two from 1 MiB to 1 GiB (initdb --wal-segsize).
bool isValidWalSegmentSize(uint64_t bytes);

// One WAL segment file: its timeline and its segment number (XLogSegNo, the LSN divided by the
// segment size). Its name depends on the segment size, which every function takes explicitly.
struct WalSegment {
  TimeLineId timeline = 0;
  uint64_t number = 0;

  // The segment of this timeline that holds lsn.
  static WalSegment containing(Lsn lsn, TimeLineId timeline, uint32_t segmentSize);
  // Parses a 24-hex-digit segment name (upper case, as PostgreSQL writes it); nullopt when the
  // name is not one or names a segment that cannot exist with this segment size.
  static std::optional<WalSegment> parse(std::string_view fileName, uint32_t segmentSize);

  std::string fileName(uint32_t segmentSize) const;
  WalSegment next() const { return {timeline, number + 1}; }
  Lsn startLsn(uint32_t segmentSize) const { return Lsn(number * segmentSize); }
  // First LSN after the segment.
  Lsn endLsn(uint32_t segmentSize) const { return Lsn((number + 1) * segmentSize); }

  auto operator<=>(const WalSegment&) const = default;
};

enum class WalFileKind {
  Segment,        // 000000010000000000000001
  Partial,        // 000000010000000000000001.partial
  History,        // 00000002.history
  BackupHistory,  // 000000010000000000000001.00000028.backup
  Other,
};

// What kind of WAL file a name is, by its form alone (no segment size needed).
WalFileKind walFileKind(std::string_view fileName);
// The timeline encoded in the first eight hex digits of any WAL file name; nullopt for Other.
std::optional<TimeLineId> walFileTimeline(std::string_view fileName);

// "00000002.history"
std::string historyFileName(TimeLineId timeline);
// "000000010000000000000002.00000028.backup": the file pg_backup_stop writes for a backup that
// started at startLsn.
std::string backupHistoryFileName(TimeLineId timeline, Lsn startLsn, uint32_t segmentSize);

}  // namespace pgbr::pg
