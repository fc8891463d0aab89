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

void RestoreTree::createTablespaceLink(std::string_view path, const std::string& target) {
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
  if (std::filesystem::exists(target, ec)) {
    if (!std::filesystem::is_directory(target, ec))
      fail(ErrorCode::PathInvalid, "tablespace directory '{}' (for '{}') exists and is not a directory", target, path);
    if (!isEmptyDirectory(target))
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
  if (owner.uid || owner.gid) {
    if (::fchown(fd, owner.uid ? *owner.uid : static_cast<uid_t>(-1),
                 owner.gid ? *owner.gid : static_cast<gid_t>(-1)) != 0)
      failErrno(ErrorCode::FileWrite, "cannot change the owner of", what, errno);
  }
  if (::fchmod(fd, static_cast<mode_t>(mode & 07777)) != 0)
    failErrno(ErrorCode::FileWrite, "cannot change the mode of", what, errno);
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
