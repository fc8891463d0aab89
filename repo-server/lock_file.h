// An exclusive advisory lock (flock) on a file, held for the lifetime of the object: how a
// pgbr-repo server keeps a second server off the repository it serves. The lock dies with the
// process, so a crashed server never leaves a stale lock behind. Move-only; not thread-safe.
#pragma once

#include "common/storage/posix_io.h"

#include <string>

namespace pgbr::repo {

class LockFile {
 public:
  // Creates the file (and its directory) if needed and locks it without waiting. Throws
  // FileOpen when it cannot be created and `lockedMessage` as Error(FileOpen) when another
  // process holds the lock.
  LockFile(std::string path, std::string_view lockedMessage);
  LockFile(LockFile&&) noexcept = default;
  LockFile& operator=(LockFile&&) noexcept = default;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace pgbr::repo
