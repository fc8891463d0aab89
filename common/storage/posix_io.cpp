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

namespace {

// Calls op(pointer, count, done) until buffer is full or op returns 0, retrying EINTR.
template <typename ReadOp>
size_t readLoop(std::span<uint8_t> buffer, std::string_view path, ReadOp op) {
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = op(buffer.data() + done, buffer.size() - done, done);
    if (n < 0) {
      if (errno == EINTR) continue;
      failErrno(ErrorCode::FileRead, "cannot read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

size_t readFd(int fd, std::span<uint8_t> buffer, std::string_view path) {
  return readLoop(buffer, path, [fd](uint8_t* at, size_t count, size_t) { return ::read(fd, at, count); });
}

size_t preadFd(int fd, std::span<uint8_t> buffer, uint64_t offset, std::string_view path) {
  return readLoop(buffer, path, [fd, offset](uint8_t* at, size_t count, size_t done) {
    return ::pread(fd, at, count, static_cast<off_t>(offset + done));
  });
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
