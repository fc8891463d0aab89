#include "common/storage/posix_io.h"

#include "common/error.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace pgbr {

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);  // Linux releases the descriptor even when close() fails
  fd_ = -1;
}

void UniqueFd::closeChecked(std::string_view path) {
  int fd = release();
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) failErrno(ErrorCode::FileWrite, "cannot close", path, errno);
}

int openRetry(const char* path, int flags, unsigned mode) {
  for (;;) {
    int fd = ::open(path, flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

int openAtRetry(int dirFd, const char* path, int flags, unsigned mode) {
  for (;;) {
    int fd = ::openat(dirFd, path, flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

size_t readFd(int fd, std::span<uint8_t> buffer, std::string_view path) {
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileRead, "cannot read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

size_t preadFd(int fd, std::span<uint8_t> buffer, uint64_t offset, std::string_view path) {
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileRead, "cannot read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void writeFd(int fd, std::span<const uint8_t> data, std::string_view path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileWrite, "cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
}

void fsyncFd(int fd, std::string_view path) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) failErrno(ErrorCode::FileWrite, "cannot sync", path, errno);
  }
}

void fsyncDirectory(const std::string& path) {
  int fd = openRetry(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) failErrno(ErrorCode::FileWrite, "cannot open directory to sync", path, -fd);
  UniqueFd dir(fd);
  fsyncFd(dir.get(), path);
}

}  // namespace pgbr
