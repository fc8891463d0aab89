#include "common/pg/wal_header.h"

#include "common/error.h"
#include "common/pg/binary.h"
#include "common/pg/file.h"

namespace pgbr::pg {
namespace {

using detail::readAt;

// Offsets inside XLogLongPageHeaderData (the same in every supported version).
constexpr size_t kMagic = 0, kInfo = 2, kTimeline = 4, kPageAddress = 8, kSystemId = 24, kSegmentSize = 32,
                 kBlockSize = 36;

}  // namespace

WalSegmentHeader parseWalSegmentHeader(std::span<const uint8_t> page, std::string_view source) {
  if (page.size() < kWalLongPageHeaderSize)
    fail(ErrorCode::Format, "WAL file '{}' is {} bytes long, too short to hold a WAL page header", source, page.size());
  WalSegmentHeader header;
  header.magic = readAt<uint16_t>(page, kMagic);
  header.info = readAt<uint16_t>(page, kInfo);
  auto version = pgVersionFromWalMagic(header.magic);
  if (!version)
    fail(ErrorCode::Format,
         "WAL file '{}' starts with page magic 0x{:04X}, which is no PostgreSQL version pgbr knows: it is not a WAL "
         "segment, is damaged, or comes from an unsupported version",
         source, header.magic);
  if (!(header.info & kXlpLongHeader))
    fail(ErrorCode::Format,
         "WAL file '{}' does not start with the long page header every segment begins with (xlp_info 0x{:04X}): it "
         "is not the start of a segment",
         source, header.info);
  header.version = *version;
  header.timeline = readAt<uint32_t>(page, kTimeline);
  header.pageAddress = Lsn(readAt<uint64_t>(page, kPageAddress));
  header.systemIdentifier = readAt<uint64_t>(page, kSystemId);
  header.segmentSize = readAt<uint32_t>(page, kSegmentSize);
  header.blockSize = readAt<uint32_t>(page, kBlockSize);
  if (!isValidWalSegmentSize(header.segmentSize))
    fail(ErrorCode::Format, "WAL file '{}' claims a segment size of {} bytes, which PostgreSQL never uses", source,
         header.segmentSize);
  return header;
}

WalSegmentHeader readWalSegmentHeader(const std::string& path) {
  auto bytes = detail::readFilePrefix(path, kWalLongPageHeaderSize, "WAL file");
  return parseWalSegmentHeader(bytes, path);
}

void checkWalSegmentBelongs(const WalSegmentHeader& header, std::string_view fileName,
                            const ClusterIdentity& expected) {
  if (header.systemIdentifier != expected.systemIdentifier || header.version.major != expected.pgMajor)
    fail(ErrorCode::PgMismatch,
         "WAL segment '{}' was written by PostgreSQL {} with system identifier {}, but this stanza's cluster is "
         "PostgreSQL {} with system identifier {}: the segment comes from another cluster (check pg1-path, the "
         "stanza name and archive_command), or the stanza must be upgraded",
         fileName, header.version.major, header.systemIdentifier, expected.pgMajor, expected.systemIdentifier);
  if (header.segmentSize != expected.walSegmentSize)
    fail(ErrorCode::PgMismatch,
         "WAL segment '{}' has a segment size of {} bytes, but this stanza's cluster uses {} bytes (system "
         "identifier {})",
         fileName, header.segmentSize, expected.walSegmentSize, expected.systemIdentifier);

  std::string_view base = fileName.substr(0, fileName.find('.'));
  auto segment = WalSegment::parse(base, header.segmentSize);
  if (!segment) return;  // not a segment name (a test buffer, a spool file): nothing more to compare
  if (header.pageAddress != segment->startLsn(header.segmentSize))
    fail(ErrorCode::Format,
         "WAL segment '{}' starts at {} but its name says {}: the file was renamed or is a recycled segment, not "
         "the one PostgreSQL archived",
         fileName, header.pageAddress, segment->startLsn(header.segmentSize));
  // The first segment of a new timeline begins with a copy of the old timeline's last segment, so
  // its first page may carry an older timeline, never a newer one.
  if (header.timeline > segment->timeline)
    fail(ErrorCode::Format, "WAL segment '{}' holds records of timeline {}, later than the timeline {} in its name",
         fileName, header.timeline, segment->timeline);
}

}  // namespace pgbr::pg
