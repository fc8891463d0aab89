// The delta restore's side-by-side walk of the manifest and the existing data directory
// (DeltaWalker): for each manifest path in order, match() first removes every local entry that
// sorts before it — entries the backup does not have: stale WAL, a stray file, a dropped
// relation, an old backup_label or signal file — then hands back the local entry at that very
// path, if any, for the restore to keep, rewrite or replace. finish() removes what is left after
// the last manifest path. Nothing outside the data directory is touched except below the
// tablespace links the restore entered; at the top of a tablespace directory only this major
// version's subdirectories (PG_<major>_*) are the restore's, others (another version's, after
// pg_upgrade) are left alone.
//
// Belongs to the restore's main thread.
#pragma once

#include "agent/delta_walker.h"
#include "agent/restore_tree.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace pgbr::agent {

class DeltaMerge {
 public:
  // versionPrefix: "PG_15_", the prefix of the tablespace subdirectories of this major version.
  DeltaMerge(RestoreTree& tree, std::string versionPrefix);

  // Removes the local entries before path; returns (and consumes) the one at path.
  std::optional<LocalEntry> match(std::string_view path);
  // Removes a matched local entry that cannot stay (another type, a link elsewhere, …).
  void remove(const LocalEntry& entry);
  // Descends into a kept directory (or a tablespace link's directory) of the manifest.
  void enter(const std::string& path);
  void enterTablespace(const std::string& linkPath);
  // Removes every local entry left.
  void finish();

  uint64_t removedEntries() const { return removed_; }

 private:
  bool keep(const LocalEntry& entry) const;

  RestoreTree& tree_;
  DeltaWalker walker_;
  std::string versionPrefix_;
  std::set<std::string, std::less<>> tablespaceLinks_;
  uint64_t removed_ = 0;
};

}  // namespace pgbr::agent
