// Relation file names: "<relfilenode>[_fsm|_vm|_init][.<segment>]" in base/<db>/, global/ and
// pg_tblspc/<oid>/PG_<major>_<catver>/<db>/, and temporary relations "t<backend>_<relfilenode>...".
// The fork and segment give every page its block number in the fork (segment * RELSEG_SIZE + page
// index), which the page checksum mixes in. Pure functions and value types; thread-safe.
#pragma once

#include "common/pg/page.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::pg {

enum class Fork { Main, Fsm, Vm, Init };

std::string_view forkSuffix(Fork fork);  // "", "_fsm", "_vm", "_init"

struct RelationFile {
  uint32_t relfilenode = 0;
  Fork fork = Fork::Main;
  uint32_t segment = 0;  // 0 for the first 1 GiB file (no ".<n>" suffix)

  // Block number, in the whole fork, of the pageIndex-th page of this segment file.
  uint32_t blockNumber(uint32_t pageIndex, uint32_t segmentBlocks = kRelationSegmentBlocks) const {
    return segment * segmentBlocks + pageIndex;
  }
  std::string fileName() const;
  auto operator<=>(const RelationFile&) const = default;
};

// Parses a permanent or unlogged relation file name (the last path component); nullopt for
// anything else (PG_VERSION, pg_filenode.map, temp relations, names with leading zeros).
std::optional<RelationFile> parseRelationFileName(std::string_view fileName);

// True for a temporary relation's file, "t<digits>_<digits>[_fork][.<segment>]": the session that
// owns it is gone after a restore, so it is never backed up.
bool isTempRelationFileName(std::string_view fileName);

}  // namespace pgbr::pg
