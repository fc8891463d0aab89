// Which paths of a PostgreSQL data directory (and its tablespaces) a backup takes, and how:
// PostgreSQL's own base-backup rules (basebackup.c) plus pgBackRest's (signal files, old labels),
// written out in docs/postgresql.md. DataDirectoryRules decides per path; walkDataDirectory applies
// the rules to a live directory tree, following tablespace links. Rules are immutable and
// thread-safe; a walk runs on the caller's thread.
#pragma once

#include "common/pg/relation.h"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::pg {

enum class EntryType { File, Directory, Symlink, Other };

enum class Disposition {
  Include,       // back it up; a directory is descended into
  IncludeEmpty,  // a directory whose contents PostgreSQL recreates or discards at start: keep it, empty
  Exclude,       // leave it out (a directory's contents too)
};

enum class FileClass {
  Other,
  Relation,  // a relation segment file: page-checksummable, eligible for page-level incrementals
  Control,   // global/pg_control: copy it after everything else, as PostgreSQL's base backup does
};

struct PathDecision {
  Disposition disposition = Disposition::Include;
  FileClass fileClass = FileClass::Other;
  std::optional<RelationFile> relation;   // set for FileClass::Relation
  std::optional<uint32_t> tablespaceOid;  // set for the pg_tblspc/<oid> entry of a tablespace
  std::string_view reason;                // why it is excluded or kept empty; empty otherwise

  bool included() const { return disposition != Disposition::Exclude; }
};

class DataDirectoryRules {
 public:
  // The cluster's major version and catalog version (pg_control) pick the tablespace
  // subdirectory that belongs to it ("PG_15_202209061").
  DataDirectoryRules(unsigned pgMajor, uint32_t catalogVersion);

  // relPath is relative to the data directory, '/'-separated, with tablespace contents reached
  // through their link ("pg_tblspc/16384/PG_15_202209061/5/16385"). initForkExists tells, for a
  // relation file in a database directory, whether its relfilenode has an _init fork there (an
  // unlogged relation, of which only the init fork is kept).
  PathDecision decide(std::string_view relPath, EntryType type, bool initForkExists = false) const;

  struct Entry {
    std::string name;
    EntryType type = EntryType::File;
  };
  // Decides every entry of the directory dirRelPath ("" for the data directory itself) at once,
  // working out initForkExists from the entries; results are in the order of entries.
  std::vector<PathDecision> decideDirectory(std::string_view dirRelPath, const std::vector<Entry>& entries) const;

  const std::string& tablespaceSubdirectory() const { return tablespaceSubdirectory_; }

 private:
  std::string tablespaceSubdirectory_;
};

// One entry met by walkDataDirectory.
struct DataDirEntry {
  std::string path;  // relative to the data directory, '/'-separated
  EntryType type = EntryType::File;
  PathDecision decision;
  uint64_t size = 0;  // files
  int64_t mtime = 0;  // seconds since the epoch
  mode_t mode = 0;    // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::string linkTarget;  // symlinks
};

// Walks dataDirectory depth-first in name order, calling visit for every entry (excluded ones
// too, so callers can log them) and descending into included directories and into the targets of
// tablespace links. Entries that vanish while the walk runs (a table dropped during an online
// backup) are skipped. Throws Error(FileMissing/FileOpen/FileRead) when the data directory or a
// directory in it cannot be read.
void walkDataDirectory(const std::filesystem::path& dataDirectory, const DataDirectoryRules& rules,
                       const std::function<void(const DataDirEntry&)>& visit);

}  // namespace pgbr::pg
