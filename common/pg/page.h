// Data pages of relation files: the page header (PageHeaderData), PostgreSQL's page checksum
// (storage/checksum_impl.h) and the checks PageIsVerifiedExtended makes before a page is trusted,
// so a backup can report corrupt pages as it reads them. Pure functions; thread-safe.
#pragma once

#include "common/pg/lsn.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pgbr::pg {

constexpr size_t kPageSize = 8192;                   // BLCKSZ of every supported build
constexpr uint32_t kRelationSegmentBlocks = 131072;  // RELSEG_SIZE: 1 GiB segment files
constexpr size_t kPageHeaderSize = 24;               // SizeOfPageHeaderData

struct PageHeader {
  Lsn lsn;                // pd_lsn: LSN of the last WAL record that changed the page
  uint16_t checksum = 0;  // pd_checksum
  uint16_t flags = 0;     // pd_flags
  uint16_t lower = 0;     // pd_lower: end of the line pointer array
  uint16_t upper = 0;     // pd_upper: start of tuple space (0 for a new, never-initialised page)
  uint16_t special = 0;   // pd_special: start of the access method's special space
  uint16_t pageSizeVersion = 0;
  uint32_t pruneXid = 0;
};

// The header of a page (the first kPageHeaderSize bytes, at least).
PageHeader pageHeader(std::span<const uint8_t> page);

// pg_checksum_page(): the checksum PostgreSQL stores in pd_checksum for this page at blockNumber
// (the block number in the whole relation fork, not in the segment file). The page's own
// pd_checksum is ignored. page.size() is the block size, a multiple of 128 bytes (8192 normally).
uint16_t pageChecksum(std::span<const uint8_t> page, uint32_t blockNumber);

enum class PageState {
  Valid,            // header sane and, with checksums on, the checksum matches
  New,              // all zeroes: a page PostgreSQL extended the file with but has not written yet
  ChangedInBackup,  // failed, but its LSN is at or after the backup's start: WAL replay rewrites it
  BadChecksum,      // header sane, checksum wrong
  BadHeader,        // pd_lower/pd_upper/pd_special/pd_flags impossible (and not all zeroes)
};

struct PageCheck {
  PageState state = PageState::Valid;
  uint16_t stored = 0;    // pd_checksum as found
  uint16_t computed = 0;  // what it should be (when checksums are on)
  Lsn lsn;

  // Valid, New and ChangedInBackup pages are fine for a backup.
  bool ok() const {
    return state == PageState::Valid || state == PageState::New || state == PageState::ChangedInBackup;
  }
};

struct PageCheckOptions {
  bool checksums = true;  // the cluster's data_checksum_version != 0
  // A page read while the cluster runs may be torn by a concurrent write; when its LSN is at or
  // after the backup's start the backup's WAL rewrites it, so it is not a corruption. Unset for an
  // offline check.
  std::optional<Lsn> backupStart;
};

// PageIsVerifiedExtended() as PostgreSQL 15 applies it, plus the backup rule above.
PageCheck checkPage(std::span<const uint8_t> page, uint32_t blockNumber, const PageCheckOptions& options);

std::string_view pageStateName(PageState state);

struct PageFailure {
  uint32_t blockNumber = 0;
  PageCheck check;
};

// Checks every whole page of data, the first being firstBlock; returns the pages that are not
// ok(). A trailing partial page (a file being extended while read) is not checked.
std::vector<PageFailure> checkPages(std::span<const uint8_t> data, uint32_t firstBlock, const PageCheckOptions& options,
                                    size_t pageSize = kPageSize);

}  // namespace pgbr::pg
