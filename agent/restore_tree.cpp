#include "agent/restore_tree.h"

#include "common/error.h"
#include "common/storage/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace pgbr::agent {

namespace {

UniqueFd openDirectoryAt(int dirFd, const char* name, int extraFlags = 0) {
  return UniqueFd(openAtRetry(dirFd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | extraFlags));
}

bool isEmptyDirectory(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_empty(path, ec) && !ec;
}

}  // namespace

RestoreTree::RestoreTree(std::string root) : root_(std::move(root)) {
  int fd = openRetry(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot open the data directory", root_, -fd);
  rootFd_ = UniqueFd(fd);
}

std::optional<std::string> RestoreTree::tablespaceTarget(std::string_view prefix) const {
  std::shared_lock lock(mutex_);
  auto it = tablespaces_.find(prefix);
  if (it == tablespaces_.end()) return std::nullopt;
  return it->second;
}

std::string RestoreTree::describe(std::string_view path) const {
  std::shared_lock lock(mutex_);
  for (const auto& [link, target] : tablespaces_)
    if (path.starts_with(link) && path.size() > link.size() && path[link.size()] == '/')
      return target + std::string(path.substr(link.size()));
  return root_ + "/" + std::string(path);
}

UniqueFd RestoreTree::openParent(std::string_view path, std::string& name) const {
  validatePath(path);
  UniqueFd current(::dup(rootFd_.get()));
  if (!current) failErrno(ErrorCode::FileOpen, "cannot duplicate the descriptor of", root_, errno);
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) break;
    std::string_view prefix = path.substr(0, slash);
    std::string component(path.substr(start, slash - start));
    if (auto target = tablespaceTarget(prefix)) {
      int fd = openRetry(target->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot open tablespace directory", *target, -fd);
      current = UniqueFd(fd);
    } else {
      UniqueFd next = openDirectoryAt(current.get(), component.c_str(), O_NOFOLLOW);
      if (!next) {
        int err = -next.release();
        if (err == ELOOP || err == ENOTDIR) {
          // Linux reports a link opened with O_NOFOLLOW | O_DIRECTORY as either; say which it is.
          struct stat st {};
          bool link = err == ELOOP || (::fstatat(current.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                       S_ISLNK(st.st_mode));
          fail(ErrorCode::PathInvalid,
               "manifest path '{}' passes through '{}', which is {}: a restore never writes through a link other "
               "than a tablespace link it created",
               path, prefix, link ? "a symbolic link" : "not a directory");
        }
        failErrno(ErrorCode::FileOpen, "cannot open directory", describe(prefix), err);
      }
      current = std::move(next);
    }
    start = slash + 1;
  }
  name = std::string(path.substr(start));
  return current;
}

void RestoreTree::createDirectory(std::string_view path) {
  std::string name;
  UniqueFd parent = openParent(path, name);
  if (::mkdirat(parent.get(), name.c_str(), 0700) != 0)
    failErrno(errno == EEXIST ? ErrorCode::PathInvalid : ErrorCode::FileWrite,
              errno == EEXIST ? "the manifest names twice, or over an existing entry, the directory"
                              : "cannot create directory",
              describe(path), errno);
}

void RestoreTree::checkTablespaceTarget(std::string_view path, const std::string& target) const {
  if (target.empty() || target.front() != '/')
    fail(ErrorCode::PathInvalid, "tablespace link '{}' points to '{}', which is not an absolute path", path, target);
  std::error_code ec;
  auto canonicalTarget = std::filesystem::weakly_canonical(target, ec).string();
  auto canonicalRoot = std::filesystem::weakly_canonical(root_, ec).string();
  if (canonicalTarget == canonicalRoot || canonicalTarget.starts_with(canonicalRoot + "/"))
    fail(ErrorCode::PathInvalid,
         "tablespace link '{}' would point to '{}', inside the data directory '{}'; map it elsewhere with "
         "--tablespace-map",
         path, target, root_);
}

void RestoreTree::createTablespaceLink(std::string_view path, const std::string& target, bool mayHoldData) {
  checkTablespaceTarget(path, target);
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    if (!std::filesystem::is_directory(target, ec))
      fail(ErrorCode::PathInvalid, "tablespace directory '{}' (for '{}') exists and is not a directory", target, path);
    if (!mayHoldData && !isEmptyDirectory(target))
      fail(ErrorCode::PathNotEmpty,
           "tablespace directory '{}' (for '{}') is not empty; restore it elsewhere with "
           "--tablespace-map=<name>=<path> or --tablespace-map-all=<directory>",
           target, path);
  } else {
    std::filesystem::create_directories(target, ec);
    if (ec) failErrno(ErrorCode::FileWrite, "cannot create tablespace directory", target, ec.value());
    ::chmod(target.c_str(), 0700);
  }
  std::string name;
  UniqueFd parent = openParent(path, name);
  if (::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0)
    failErrno(ErrorCode::FileWrite, "cannot create tablespace link", describe(path), errno);
  std::unique_lock lock(mutex_);
  tablespaces_.emplace(std::string(path), target);
}

void RestoreTree::adoptTablespaceLink(std::string_view path, const std::string& target) {
  checkTablespaceTarget(path, target);
  std::string name;
  UniqueFd parent = openParent(path, name);
  std::vector<char> buffer(4096);
  ssize_t n = ::readlinkat(parent.get(), name.c_str(), buffer.data(), buffer.size());
  if (n < 0) failErrno(ErrorCode::FileOpen, "cannot read the link", describe(path), errno);
  if (std::string_view(buffer.data(), static_cast<size_t>(n)) != target)
    fail(ErrorCode::Internal, "tablespace link '{}' does not point to '{}'", describe(path), target);
  std::error_code ec;
  if (!std::filesystem::is_directory(target, ec))
    fail(ErrorCode::PathInvalid, "tablespace directory '{}' (for '{}') is not a directory", target, path);
  std::unique_lock lock(mutex_);
  tablespaces_.emplace(std::string(path), target);
}

void RestoreTree::createSymlink(std::string_view path, const std::string& target) {
  std::string name;
  UniqueFd parent = openParent(path, name);
  if (::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0)
    failErrno(ErrorCode::FileWrite, "cannot create link", describe(path), errno);
}

UniqueFd RestoreTree::createFile(std::string_view path) {
  std::string name;
  UniqueFd parent = openParent(path, name);
  int fd = openAtRetry(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (-fd == EEXIST)
      fail(ErrorCode::PathInvalid, "'{}' already exists: the manifest names it twice or it was there before",
           describe(path));
    failErrno(ErrorCode::FileWrite, "cannot create file", describe(path), -fd);
  }
  return UniqueFd(fd);
}

UniqueFd RestoreTree::openFile(std::string_view path, bool writable) {
  std::string name;
  UniqueFd parent = openParent(path, name);
  int fd = openAtRetry(parent.get(), name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot open", describe(path), -fd);
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode))
    fail(ErrorCode::PathInvalid, "'{}' is not a regular file", describe(path));
  return file;
}

std::vector<std::string> listDirectory(int dirFd, const std::string& where) {
  UniqueFd listing(::dup(dirFd));
  if (!listing) failErrno(ErrorCode::FileOpen, "cannot duplicate the descriptor of", where, errno);
  DIR* dir = ::fdopendir(listing.get());
  if (!dir) failErrno(ErrorCode::FileOpen, "cannot list", where, errno);
  listing.release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  // The duplicate shares its offset with dirFd: start from the beginning whatever read it before.
  ::rewinddir(dir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* item = ::readdir(dir)) {
    std::string_view name = item->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  if (errno != 0) failErrno(ErrorCode::FileRead, "cannot list", where, errno);
  return names;
}

namespace {

// Removes everything below the open directory dirFd, never following a link.
void removeContents(int dirFd, const std::string& where) {
  std::vector<std::string> names = listDirectory(dirFd, where);
  for (const auto& name : names) {
    std::string path = where + "/" + name;
    if (::unlinkat(dirFd, name.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) failErrno(ErrorCode::FileWrite, "cannot remove", path, errno);
    UniqueFd child = openDirectoryAt(dirFd, name.c_str(), O_NOFOLLOW);
    if (!child) failErrno(ErrorCode::FileOpen, "cannot open directory", path, -child.release());
    removeContents(child.get(), path);
    if (::unlinkat(dirFd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
      failErrno(ErrorCode::FileWrite, "cannot remove directory", path, errno);
  }
}

}  // namespace

void RestoreTree::remove(std::string_view path) {
  std::string name;
  UniqueFd parent = openParent(path, name);
  if (::unlinkat(parent.get(), name.c_str(), 0) == 0 || errno == ENOENT) return;
  // Linux says EISDIR for a directory (POSIX allows EPERM).
  if (errno != EISDIR && errno != EPERM) failErrno(ErrorCode::FileWrite, "cannot remove", describe(path), errno);
  UniqueFd dir = openDirectoryAt(parent.get(), name.c_str(), O_NOFOLLOW);
  if (!dir) failErrno(ErrorCode::FileOpen, "cannot open directory", describe(path), -dir.release());
  removeContents(dir.get(), describe(path));
  if (::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    failErrno(ErrorCode::FileWrite, "cannot remove directory", describe(path), errno);
}

UniqueFd RestoreTree::openRoot() const {
  UniqueFd fd(::dup(rootFd_.get()));
  if (!fd) failErrno(ErrorCode::FileOpen, "cannot duplicate the descriptor of", root_, errno);
  return fd;
}

UniqueFd RestoreTree::openDirectory(std::string_view path) const {
  std::string name;
  UniqueFd parent = openParent(path, name);
  UniqueFd fd = openDirectoryAt(parent.get(), name.c_str(), O_NOFOLLOW);
  if (!fd) failErrno(ErrorCode::FileOpen, "cannot open directory", describe(path), -fd.release());
  return fd;
}

UniqueFd RestoreTree::openTablespaceDirectory(std::string_view linkPath) const {
  auto target = tablespaceTarget(linkPath);
  if (!target) fail(ErrorCode::Internal, "'{}' is not a tablespace link of this restore", linkPath);
  int fd = openRetry(target->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot open tablespace directory", *target, -fd);
  return UniqueFd(fd);
}

void applyAttributes(int fd, uint32_t mode, int64_t mtime, const Ownership& owner, std::string_view what) {
  // Only what differs is changed: every change dirties the inode (its ctime), and a delta restore
  // fsyncs the files and directories it keeps — each dirty one costs a journal commit.
  struct stat st {};
  if (::fstat(fd, &st) != 0) failErrno(ErrorCode::FileRead, "cannot read the attributes of", what, errno);
  if ((owner.uid && *owner.uid != st.st_uid) || (owner.gid && *owner.gid != st.st_gid)) {
    if (::fchown(fd, owner.uid ? *owner.uid : static_cast<uid_t>(-1),
                 owner.gid ? *owner.gid : static_cast<gid_t>(-1)) != 0)
      failErrno(ErrorCode::FileWrite, "cannot change the owner of", what, errno);
    st.st_mode = 0;  // chown may clear the set-user and set-group bits: the mode is set again
  }
  if ((st.st_mode & 07777) != (mode & 07777) && ::fchmod(fd, static_cast<mode_t>(mode & 07777)) != 0)
    failErrno(ErrorCode::FileWrite, "cannot change the mode of", what, errno);
  if (st.st_mtim.tv_sec == static_cast<time_t>(mtime) && st.st_mtim.tv_nsec == 0) return;
  struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                              {.tv_sec = static_cast<time_t>(mtime), .tv_nsec = 0}};
  if (::futimens(fd, times) != 0) failErrno(ErrorCode::FileWrite, "cannot set the modification time of", what, errno);
}

Ownership ownershipFor(const std::string& user, const std::string& group) {
  Ownership owner;
  if (::geteuid() != 0) return owner;
  std::vector<char> buffer(16384);
  if (!user.empty()) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found) == 0 && found) owner.uid = found->pw_uid;
  }
  if (!group.empty()) {
    struct group gr {};
    struct group* found = nullptr;
    if (::getgrnam_r(group.c_str(), &gr, buffer.data(), buffer.size(), &found) == 0 && found) owner.gid = found->gr_gid;
  }
  return owner;
}

}  // namespace pgbr::agent
