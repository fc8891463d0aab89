// pg_control (global/pg_control): the cluster's identity and state — system identifier,
// versions, latest checkpoint, block and WAL segment sizes, whether data checksums are on.
// Parsing verifies the CRC-32C and recognises the major version from the version table
// (common/pg/version.h). Pure functions and value types; thread-safe.
#pragma once

#include "common/pg/lsn.h"
#include "common/pg/version.h"
#include "common/pg/wal_name.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace pgbr::pg {

// PG_CONTROL_FILE_SIZE: the file is always this long; only its first few hundred bytes are used.
constexpr size_t kControlFileSize = 8192;
constexpr std::string_view kControlFilePath = "global/pg_control";

// DBState, stored in pg_control as an int.
enum class DbState : int32_t {
  Startup = 0,
  ShutDown = 1,
  ShutDownInRecovery = 2,
  ShuttingDown = 3,
  InCrashRecovery = 4,
  InArchiveRecovery = 5,
  InProduction = 6,
};

// The text pg_controldata prints for a state ("in production", "shut down", ...).
std::string_view dbStateName(DbState state);

struct ControlData {
  PgVersion version;
  uint64_t systemIdentifier = 0;
  uint32_t controlVersion = 0;
  uint32_t catalogVersion = 0;
  DbState state = DbState::Startup;
  int64_t time = 0;         // seconds since the epoch of the last pg_control update
  Lsn checkpoint;           // latest checkpoint record
  Lsn checkpointRedo;       // its REDO location
  TimeLineId timeline = 0;  // the latest checkpoint's timeline
  Lsn minRecoveryPoint;
  TimeLineId minRecoveryPointTimeline = 0;
  int32_t walLevel = 0;              // 0 minimal, 1 replica, 2 logical
  uint32_t blockSize = 0;            // BLCKSZ, normally 8192
  uint32_t relationSegmentSize = 0;  // blocks per relation segment file, normally 131072
  uint32_t walBlockSize = 0;
  uint32_t walSegmentSize = 0;
  uint32_t dataChecksumVersion = 0;  // 0 when data checksums are off

  bool checksumsEnabled() const { return dataChecksumVersion != 0; }
};

// Parses the bytes of a pg_control file. source names the file in error messages. Throws
// Error(Corrupt) when the CRC does not match (a torn or damaged file) and Error(Format) when the
// file is too short, was written with another byte order, or by a PostgreSQL version pgbr does
// not know.
ControlData parseControl(std::span<const uint8_t> bytes, std::string_view source);

// Reads and parses <dataDirectory>/global/pg_control. Throws as parseControl, and
// Error(FileMissing/FileOpen/FileRead) when the file cannot be read.
ControlData readControl(const std::filesystem::path& dataDirectory);

}  // namespace pgbr::pg
