// The one gate between manifest paths and the restore's file system: every directory, file and
// link a restore creates goes through RestoreTree, which resolves the path component by component
// from an open descriptor of the data directory without following links (O_NOFOLLOW), so a path
// can neither be absolute, climb out with '..', nor escape through a symlink — whether the link
// was there before or an earlier entry of the same manifest created it. The only links a path
// may pass through are the tablespace links (pg_tblspc/<oid>) this restore created itself, which
// resolve to their (mapped) tablespace directories. Files are created new (O_EXCL): a restore
// never writes through or over anything that existed — except a delta restore, which opens an
// existing regular file explicitly (openFile) and removes entries explicitly (remove), both
// without following a link.
//
// Thread-safe: workers create files while the main thread creates directories and links; the
// descriptors it keeps are closed by its destructor.
#pragma once

#include "common/storage/posix_io.h"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

struct Ownership {
  std::optional<uid_t> uid;  // leave unchanged when unset
  std::optional<gid_t> gid;
};

class RestoreTree {
 public:
  // root: an existing directory (the data directory), absolute.
  explicit RestoreTree(std::string root);

  const std::string& root() const { return root_; }
  // The file-system path of a manifest path (through a tablespace link: in its directory), for
  // messages.
  std::string describe(std::string_view path) const;

  // Creates a directory (its parent must exist) with mode 0700; attributes come at the end.
  void createDirectory(std::string_view path);
  // Creates the link pg_tblspc/<oid> -> target. target must be absolute and outside the data
  // directory; it is created (with its parents) when absent and must be empty when present
  // (PathNotEmpty naming it) unless mayHoldData (a delta restore, which cleans it). Paths below
  // the link then resolve into target.
  void createTablespaceLink(std::string_view path, const std::string& target, bool mayHoldData = false);
  // Takes an existing link pg_tblspc/<oid> as this restore's tablespace link (a delta restore):
  // it must point to target, checked as createTablespaceLink checks it.
  void adoptTablespaceLink(std::string_view path, const std::string& target);
  // Creates a symbolic link that later paths may not pass through.
  void createSymlink(std::string_view path, const std::string& target);
  // Creates a new regular file (mode 0600) and returns it open for writing.
  UniqueFd createFile(std::string_view path);
  // Opens an existing regular file for reading and writing (a delta restore), or only for reading
  // (enough to fsync it, whatever its mode); never a link.
  UniqueFd openFile(std::string_view path, bool writable = true);
  // Removes a file, link or whole directory tree (a delta restore's stray entries), never
  // following a link: a link is removed, not what it points to. Absent is fine.
  void remove(std::string_view path);
  // A new descriptor of the data directory.
  UniqueFd openRoot() const;
  // Opens an existing directory of the tree (for attributes and fsync).
  UniqueFd openDirectory(std::string_view path) const;
  // Opens the directory a tablespace link points to.
  UniqueFd openTablespaceDirectory(std::string_view linkPath) const;

 private:
  // The directory that holds path's last component, resolved without following links except
  // this restore's tablespace links; name receives the last component. Throws PathInvalid.
  UniqueFd openParent(std::string_view path, std::string& name) const;
  std::optional<std::string> tablespaceTarget(std::string_view prefix) const;
  void checkTablespaceTarget(std::string_view path, const std::string& target) const;

  std::string root_;
  UniqueFd rootFd_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> tablespaces_;  // link path -> target directory
};

// The names in an open directory (not "." and ".."), unsorted. Throws FileOpen/FileRead naming where.
std::vector<std::string> listDirectory(int dirFd, const std::string& where);

// Applies mode, ownership and modification time to an open file or directory.
void applyAttributes(int fd, uint32_t mode, int64_t mtime, const Ownership& owner, std::string_view what);

// Ownership for a manifest's user and group names: resolved on this host only when running as
// root (anyone else can only create files as themselves); a name this host lacks is left unset.
Ownership ownershipFor(const std::string& user, const std::string& group);

}  // namespace pgbr::agent
