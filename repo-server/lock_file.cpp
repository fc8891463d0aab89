#include "repo-server/lock_file.h"

#include "common/error.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <filesystem>

namespace pgbr::repo {

LockFile::LockFile(std::string path, std::string_view lockedMessage) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  if (ec) failErrno(ErrorCode::FileOpen, "cannot create the directory of", path_, ec.value());
  int fd = openRetry(path_.c_str(), O_RDWR | O_CREAT, 0640);
  if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot open lock file", path_, -fd);
  fd_ = UniqueFd(fd);
  int rc;
  do {
    rc = ::flock(fd_.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) throw Error(ErrorCode::FileOpen, std::string(lockedMessage));
    failErrno(ErrorCode::FileOpen, "cannot lock", path_, errno);
  }
}

}  // namespace pgbr::repo
