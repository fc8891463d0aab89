// The PostgreSQL major versions pgbr knows, as one table: how to recognise each one (pg_control
// and catalog versions, WAL page magic) and where pg_control keeps the fields pgbr reads. Adding a
// version is adding a row (and a layout when pg_control changed shape). Immutable; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace pgbr::pg {

// Byte offsets of the ControlFileData fields pgbr reads (x86-64/arm64 alignment; PostgreSQL
// writes the struct in host byte order). crc is also the number of bytes the CRC covers.
struct ControlLayout {
  size_t systemIdentifier;          // uint64
  size_t controlVersion;            // uint32 pg_control_version
  size_t catalogVersion;            // uint32 catalog_version_no
  size_t state;                     // int32 DBState
  size_t time;                      // int64 pg_time_t of the last update
  size_t checkpoint;                // uint64 XLogRecPtr of the latest checkpoint record
  size_t checkpointRedo;            // uint64 checkPointCopy.redo
  size_t checkpointTimeline;        // uint32 checkPointCopy.ThisTimeLineID
  size_t minRecoveryPoint;          // uint64
  size_t minRecoveryPointTimeline;  // uint32
  size_t walLevel;                  // int32
  size_t blockSize;                 // uint32 blcksz
  size_t relationSegmentSize;       // uint32 relseg_size (blocks per relation segment file)
  size_t walBlockSize;              // uint32 xlog_blcksz
  size_t walSegmentSize;            // uint32 xlog_seg_size
  size_t dataChecksumVersion;       // uint32 (0 = checksums off)
  size_t crc;                       // uint32 CRC-32C of every byte before it
};

struct PgVersion {
  unsigned major;           // 15
  uint32_t controlVersion;  // PG_CONTROL_VERSION
  uint32_t catalogVersion;  // CATALOG_VERSION_NO of the release; 0 when controlVersion alone identifies it
  uint16_t walMagic;        // XLOG_PAGE_MAGIC
  const ControlLayout* control;
};

// Every known version, oldest first.
std::span<const PgVersion> pgVersions();

// The version that wrote a pg_control with these numbers; nullopt for an unknown (newer, older
// or pre-release) one.
std::optional<PgVersion> pgVersionFromControl(uint32_t controlVersion, uint32_t catalogVersion);
// The version whose WAL pages carry this magic.
std::optional<PgVersion> pgVersionFromWalMagic(uint16_t magic);
std::optional<PgVersion> pgVersionFromMajor(unsigned major);
// server_version_num (150004) -> 15.
unsigned pgMajorFromVersionNum(int versionNum);

// "PG_15_202209061": the directory PostgreSQL creates inside each tablespace location, so that
// several major versions can share one (pg_upgrade).
std::string tablespaceVersionDirectory(unsigned major, uint32_t catalogVersion);

}  // namespace pgbr::pg
