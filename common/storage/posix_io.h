// Thin, EINTR-safe wrappers over POSIX file I/O shared by the posix storage driver and the
// chunker: an owning file descriptor and full-length read/write/fsync helpers that throw
// pgbr::Error naming the path. Stateless apart from UniqueFd; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pgbr {

// Owns one file descriptor and closes it on destruction (errors from close() on a read-only
// descriptor carry no information; writers call closeChecked() before relying on the data).
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() noexcept;
  // Closes and throws FileWrite if close() reports an error (NFS reports write errors here).
  void closeChecked(std::string_view path);

private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added and EINTR retried; returns -errno on failure instead of throwing
// so callers can map ENOENT/EEXIST themselves.
int openRetry(const char* path, int flags, unsigned mode = 0);
int openAtRetry(int dirFd, const char* path, int flags, unsigned mode = 0);

// Reads until buffer is full or end of file; retries EINTR and short reads. Throws FileRead.
size_t readFd(int fd, std::span<uint8_t> buffer, std::string_view path);
// pread(2) until buffer is full or end of file. Throws FileRead.
size_t preadFd(int fd, std::span<uint8_t> buffer, uint64_t offset, std::string_view path);
// Writes all of data; retries EINTR and short writes. Throws FileWrite (ENOSPC explained).
void writeFd(int fd, std::span<const uint8_t> data, std::string_view path);
// fsync(2); throws FileWrite.
void fsyncFd(int fd, std::string_view path);
// Opens the directory and fsyncs it so a rename or create inside it is durable. Throws FileWrite.
void fsyncDirectory(const std::string& path);

}  // namespace pgbr
