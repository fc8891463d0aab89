#include "common/pg/wal_name.h"

#include <fmt/format.h>

namespace pgbr::pg {
namespace {

bool isUpperHex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

uint32_t hex32(std::string_view text) {
  uint32_t value = 0;
  for (char c : text) value = value << 4 | static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  return value;
}

bool hasSuffix(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Segment numbers per "xlogid", the high half of a segment name's number part.
uint64_t segmentsPerXLogId(uint32_t segmentSize) { return 0x100000000ull / segmentSize; }

}  // namespace

bool isValidWalSegmentSize(uint64_t bytes) {
  return bytes >= (1u << 20) && bytes <= (1u << 30) && (bytes & (bytes - 1)) == 0;
}

WalSegment WalSegment::containing(Lsn lsn, TimeLineId timeline, uint32_t segmentSize) {
  return {timeline, lsn.value() / segmentSize};
}

std::optional<WalSegment> WalSegment::parse(std::string_view fileName, uint32_t segmentSize) {
  if (fileName.size() != 24 || !isUpperHex(fileName)) return std::nullopt;
  uint64_t perId = segmentsPerXLogId(segmentSize);
  uint32_t low = hex32(fileName.substr(16, 8));
  if (low >= perId) return std::nullopt;
  return WalSegment{hex32(fileName.substr(0, 8)), uint64_t(hex32(fileName.substr(8, 8))) * perId + low};
}

std::string WalSegment::fileName(uint32_t segmentSize) const {
  uint64_t perId = segmentsPerXLogId(segmentSize);
  return fmt::format("{:08X}{:08X}{:08X}", timeline, static_cast<uint32_t>(number / perId),
                     static_cast<uint32_t>(number % perId));
}

WalFileKind walFileKind(std::string_view name) {
  if (name.size() == 24 && isUpperHex(name)) return WalFileKind::Segment;
  if (name.size() == 24 + 8 && hasSuffix(name, ".partial") && isUpperHex(name.substr(0, 24)))
    return WalFileKind::Partial;
  if (name.size() == 8 + 8 && hasSuffix(name, ".history") && isUpperHex(name.substr(0, 8))) return WalFileKind::History;
  if (name.size() == 24 + 1 + 8 + 7 && hasSuffix(name, ".backup") && name[24] == '.' &&
      isUpperHex(name.substr(0, 24)) && isUpperHex(name.substr(25, 8)))
    return WalFileKind::BackupHistory;
  return WalFileKind::Other;
}

std::optional<TimeLineId> walFileTimeline(std::string_view name) {
  if (walFileKind(name) == WalFileKind::Other) return std::nullopt;
  return hex32(name.substr(0, 8));
}

std::string historyFileName(TimeLineId timeline) { return fmt::format("{:08X}.history", timeline); }

std::string backupHistoryFileName(TimeLineId timeline, Lsn startLsn, uint32_t segmentSize) {
  WalSegment segment = WalSegment::containing(startLsn, timeline, segmentSize);
  return fmt::format("{}.{:08X}.backup", segment.fileName(segmentSize),
                     static_cast<uint32_t>(startLsn.value() % segmentSize));
}

}  // namespace pgbr::pg
