#include "common/storage/byte_stream.h"

#include "common/error.h"

#include <algorithm>
#include <cstring>

namespace pgbr {

size_t readFull(ByteSource& source, std::span<uint8_t> buffer) {
  size_t done = 0;
  while (done < buffer.size()) {
    size_t n = source.read(buffer.subspan(done));
    if (n == 0) break;
    done += n;
  }
  return done;
}

std::vector<uint8_t> readAll(ByteSource& source) {
  std::vector<uint8_t> out;
  constexpr size_t kStep = 64 * 1024;
  for (;;) {
    size_t old = out.size();
    out.resize(old + kStep);
    size_t n = readFull(source, std::span(out).subspan(old));
    out.resize(old + n);
    if (n < kStep) return out;
  }
}

void VectorSink::write(std::span<const uint8_t> data) {
  if (finished_ || cancelled_) fail(ErrorCode::Internal, "write to a memory sink that is already finished or cancelled");
  data_.insert(data_.end(), data.begin(), data.end());
}

void VectorSink::finish() {
  if (finished_ || cancelled_) fail(ErrorCode::Internal, "memory sink finished twice or after cancel");
  finished_ = true;
}

void VectorSink::cancel() noexcept {
  if (finished_) return;
  cancelled_ = true;
  data_.clear();
}

size_t SpanSource::read(std::span<uint8_t> buffer) {
  size_t n = std::min(buffer.size(), data_.size());
  if (n > 0) std::memcpy(buffer.data(), data_.data(), n);
  data_ = data_.subspan(n);
  return n;
}

}  // namespace pgbr
