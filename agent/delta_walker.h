// What a delta restore finds in the data directory: DeltaWalker lists the existing entries in
// manifest order (depth first, each directory's names sorted, so the same order as
// manifestPathLess), lazily, one directory level at a time, so the restore can walk the local tree
// and the manifest side by side like a merge join: a local entry that sorts before the next
// manifest entry is not in the backup and is removed; one at the same path is compared with it.
// The walker descends only where it is told to (enter), so it never follows a link of its own
// accord and never leaves the directories the restore owns.
//
// Memory: the names of one directory per level entered. Belongs to one thread.
#pragma once

#include "common/storage/posix_io.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::agent {

enum class LocalType { File, Directory, Link, Other };

struct LocalEntry {
  std::string path;  // relative to the data directory, as in the manifest
  LocalType type = LocalType::Other;
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds
  uint64_t links = 1;  // hard links of a file
  std::string target;  // of a link
};

class DeltaWalker {
 public:
  // Starts at the top of the data directory, given as an open directory descriptor.
  explicit DeltaWalker(UniqueFd root);

  // The next entry not yet consumed, in manifest order; nullptr when there is none.
  const LocalEntry* peek();
  // Moves past the entry peek() returned, without descending into it.
  void consume();
  // Lists the directory `path` (open as dir) so that its entries come next: path must sort right
  // after the last entry consumed (its own, or where it was just created); an entry already peeked
  // comes again after path's.
  void enter(std::string path, UniqueFd dir);

 private:
  struct Frame {
    std::string prefix;  // "" at the top, else "<path>/"
    UniqueFd dir;
    std::vector<std::string> names;
    size_t next = 0;
  };

  std::vector<Frame> stack_;
  std::optional<LocalEntry> current_;
};

}  // namespace pgbr::agent
