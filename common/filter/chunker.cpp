#include "common/filter/chunker.h"

#include "common/error.h"
#include "common/filter/chunk_id.h"
#include "common/storage/posix_io.h"

#include <fcntl.h>

namespace pgbr {

Chunker::Chunker(int fd, std::string path, uint32_t chunkSize) : fd_(fd), path_(std::move(path)), chunkSize_(chunkSize) {
  if (chunkSize == 0 || chunkSize % kPageSize != 0)
    fail(ErrorCode::Internal, "chunk size {} is not a positive multiple of 8 KiB", chunkSize);
  buffer_.resize(chunkSize);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

std::optional<std::span<const uint8_t>> Chunker::next() {
  if (ended_) return std::nullopt;
  size_t n = preadFd(fd_, buffer_.span(), offset_, path_);
  if (n < chunkSize_) ended_ = true;
  if (n == 0) return std::nullopt;
  chunkOffset_ = offset_;
  offset_ += n;
  return std::span<const uint8_t>(buffer_.data(), n);
}

}  // namespace pgbr
