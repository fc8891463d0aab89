#include "common/pg/file.h"

#include "common/error.h"

#include <fcntl.h>
#include <unistd.h>

namespace pgbr::pg::detail {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::vector<uint8_t> readFilePrefix(const std::string& path, size_t maxBytes, std::string_view what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) fail(ErrorCode::FileMissing, "{} '{}' does not exist", what, path);
    failErrno(ErrorCode::FileOpen, fmt::format("cannot open {}", what), path, err);
  }
  std::vector<uint8_t> bytes(maxBytes);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failErrno(ErrorCode::FileRead, fmt::format("cannot read {}", what), path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace pgbr::pg::detail
