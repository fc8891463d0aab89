#include "common/pg/version.h"

#include <fmt/format.h>

#include <array>

namespace pgbr::pg {
namespace {

// ControlFileData of PostgreSQL 12 to 17 (pg_control versions 1201, 1300 and 1700). Fields that
// moved between these versions (float4ByVal went in 13; CheckPoint gained wal_level in 17, in
// what was padding) lie outside what pgbr reads or leave the offsets below unchanged. Offsets
// checked field by field against pg_control.h of each version and, for 15, against a real
// pg_control and pg_controldata.
constexpr ControlLayout kControl1201To1700{
    .systemIdentifier = 0,
    .controlVersion = 8,
    .catalogVersion = 12,
    .state = 16,
    .time = 24,
    .checkpoint = 32,
    .checkpointRedo = 40,  // CheckPoint starts at 40 and is 88 bytes long
    .checkpointTimeline = 48,
    .minRecoveryPoint = 136,  // after unloggedLSN at 128
    .minRecoveryPointTimeline = 144,
    .walLevel = 172,
    .blockSize = 216,
    .relationSegmentSize = 220,
    .walBlockSize = 224,
    .walSegmentSize = 228,
    .dataChecksumVersion = 252,
    .crc = 288,  // after the 32-byte mock authentication nonce at 256
};

// Catalog versions tell apart the releases that share pg_control version 1300. Version 17 is
// the only one with 1700 (its catalog number is not needed to recognise it).
constexpr std::array kVersions{
    PgVersion{12, 1201, 201909212, 0xD101, &kControl1201To1700},
    PgVersion{13, 1300, 202007201, 0xD106, &kControl1201To1700},
    PgVersion{14, 1300, 202107181, 0xD10D, &kControl1201To1700},
    PgVersion{15, 1300, 202209061, 0xD110, &kControl1201To1700},
    PgVersion{16, 1300, 202307071, 0xD113, &kControl1201To1700},
    PgVersion{17, 1700, 0, 0xD116, &kControl1201To1700},
};

}  // namespace

std::span<const PgVersion> pgVersions() { return kVersions; }

std::optional<PgVersion> pgVersionFromControl(uint32_t controlVersion, uint32_t catalogVersion) {
  for (const auto& version : kVersions)
    if (version.controlVersion == controlVersion &&
        (version.catalogVersion == 0 || version.catalogVersion == catalogVersion))
      return version;
  return std::nullopt;
}

std::optional<PgVersion> pgVersionFromWalMagic(uint16_t magic) {
  for (const auto& version : kVersions)
    if (version.walMagic == magic) return version;
  return std::nullopt;
}

std::optional<PgVersion> pgVersionFromMajor(unsigned major) {
  for (const auto& version : kVersions)
    if (version.major == major) return version;
  return std::nullopt;
}

unsigned pgMajorFromVersionNum(int versionNum) { return static_cast<unsigned>(versionNum / 10000); }

std::string tablespaceVersionDirectory(unsigned major, uint32_t catalogVersion) {
  return fmt::format("PG_{}_{}", major, catalogVersion);
}

}  // namespace pgbr::pg
