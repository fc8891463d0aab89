#include "common/pg/control.h"

#include "common/error.h"
#include "common/pg/binary.h"
#include "common/pg/crc32c.h"
#include "common/pg/file.h"

#include <vector>

namespace pgbr::pg {
namespace {

using detail::readAt;

// Every known layout ends its data at the same offset today; an unknown version is checked with
// the newest layout so that a damaged file is called damaged rather than "unknown version".
const ControlLayout& newestLayout() { return *pgVersions().back().control; }

uint32_t storedCrc(std::span<const uint8_t> bytes, const ControlLayout& layout) {
  return readAt<uint32_t>(bytes, layout.crc);
}

bool crcMatches(std::span<const uint8_t> bytes, const ControlLayout& layout) {
  return bytes.size() >= layout.crc + 4 && crc32c(bytes.first(layout.crc)) == storedCrc(bytes, layout);
}

std::string supportedVersions() {
  auto versions = pgVersions();
  return fmt::format("PostgreSQL {} to {}", versions.front().major, versions.back().major);
}

}  // namespace

std::string_view dbStateName(DbState state) {
  switch (state) {
    case DbState::Startup:
      return "starting up";
    case DbState::ShutDown:
      return "shut down";
    case DbState::ShutDownInRecovery:
      return "shut down in recovery";
    case DbState::ShuttingDown:
      return "shutting down";
    case DbState::InCrashRecovery:
      return "in crash recovery";
    case DbState::InArchiveRecovery:
      return "in archive recovery";
    case DbState::InProduction:
      return "in production";
  }
  return "unrecognized status code";
}

ControlData parseControl(std::span<const uint8_t> bytes, std::string_view source) {
  const ControlLayout& newest = newestLayout();
  if (bytes.size() < newest.crc + 4)
    fail(ErrorCode::Format, "pg_control '{}' is {} bytes long, too short to be a pg_control file ({} bytes expected)",
         source, bytes.size(), kControlFileSize);

  uint32_t controlVersion = readAt<uint32_t>(bytes, newest.controlVersion);
  uint32_t catalogVersion = readAt<uint32_t>(bytes, newest.catalogVersion);
  auto version = pgVersionFromControl(controlVersion, catalogVersion);
  if (!version) {
    if (!crcMatches(bytes, newest))
      fail(ErrorCode::Corrupt,
           "pg_control '{}' fails its CRC-32C check (pg_control version {}, catalog version {}): the file is damaged "
           "or was written by a PostgreSQL version pgbr does not know ({} are supported)",
           source, controlVersion, catalogVersion, supportedVersions());
    if (controlVersion % 65536 == 0 && controlVersion / 65536 != 0)
      fail(ErrorCode::Format,
           "pg_control '{}' was written with another byte order (pg_control version {}): back it up from a host of "
           "the same architecture",
           source, controlVersion);
    fail(ErrorCode::Format,
         "pg_control '{}' has pg_control version {} and catalog version {}, which pgbr does not know ({} are "
         "supported; pre-release versions are not)",
         source, controlVersion, catalogVersion, supportedVersions());
  }

  const ControlLayout& layout = *version->control;
  if (!crcMatches(bytes, layout))
    fail(ErrorCode::Corrupt,
         "pg_control '{}' fails its CRC-32C check (stored {:08x}, computed {:08x}): the file is damaged or was read "
         "while PostgreSQL was writing it; read it again, and if it stays wrong the cluster needs attention",
         source, storedCrc(bytes, layout), crc32c(bytes.first(layout.crc)));

  ControlData data;
  data.version = *version;
  data.systemIdentifier = readAt<uint64_t>(bytes, layout.systemIdentifier);
  data.controlVersion = controlVersion;
  data.catalogVersion = catalogVersion;
  data.state = static_cast<DbState>(readAt<int32_t>(bytes, layout.state));
  data.time = readAt<int64_t>(bytes, layout.time);
  data.checkpoint = Lsn(readAt<uint64_t>(bytes, layout.checkpoint));
  data.checkpointRedo = Lsn(readAt<uint64_t>(bytes, layout.checkpointRedo));
  data.timeline = readAt<uint32_t>(bytes, layout.checkpointTimeline);
  data.minRecoveryPoint = Lsn(readAt<uint64_t>(bytes, layout.minRecoveryPoint));
  data.minRecoveryPointTimeline = readAt<uint32_t>(bytes, layout.minRecoveryPointTimeline);
  data.walLevel = readAt<int32_t>(bytes, layout.walLevel);
  data.blockSize = readAt<uint32_t>(bytes, layout.blockSize);
  data.relationSegmentSize = readAt<uint32_t>(bytes, layout.relationSegmentSize);
  data.walBlockSize = readAt<uint32_t>(bytes, layout.walBlockSize);
  data.walSegmentSize = readAt<uint32_t>(bytes, layout.walSegmentSize);
  data.dataChecksumVersion = readAt<uint32_t>(bytes, layout.dataChecksumVersion);

  // A CRC-valid file with impossible sizes means the layout table is wrong for this version.
  if (!isValidWalSegmentSize(data.walSegmentSize) || data.blockSize < 1024 || data.blockSize > 32768 ||
      (data.blockSize & (data.blockSize - 1)) != 0 || data.relationSegmentSize == 0)
    fail(ErrorCode::Format,
         "pg_control '{}' (PostgreSQL {}) holds impossible sizes (block {}, WAL segment {}, relation segment {} "
         "blocks): pgbr's layout for this version is wrong; please report it",
         source, data.version.major, data.blockSize, data.walSegmentSize, data.relationSegmentSize);
  return data;
}

ControlData readControl(const std::filesystem::path& dataDirectory) {
  std::string path = (dataDirectory / kControlFilePath).string();
  std::vector<uint8_t> bytes;
  try {
    bytes = detail::readFilePrefix(path, kControlFileSize, "pg_control");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::FileMissing) throw;
    fail(ErrorCode::FileMissing, "pg_control '{}' does not exist: is '{}' a PostgreSQL data directory?", path,
         dataDirectory.string());
  }
  return parseControl(bytes, path);
}

}  // namespace pgbr::pg
