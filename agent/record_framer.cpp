#include "agent/record_framer.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <cstring>

namespace pgbr::agent {

void RecordFramer::feed(std::span<const uint8_t> data) {
  // Drop what was consumed before appending, so the buffer holds at most one record and a part.
  if (position_ > 0) {
    size_t left = buffer_.size() - position_;
    if (left > 0) std::memmove(buffer_.data(), buffer_.data() + position_, left);
    buffer_.resize(left);
    position_ = 0;
  }
  buffer_.append(data);
}

std::optional<std::span<const uint8_t>> RecordFramer::next() {
  size_t available = buffer_.size() - position_;
  if (available < 4) return std::nullopt;
  uint32_t length = getU32(buffer_.span(), position_);
  if (length > maxBody_)
    fail(ErrorCode::Protocol, "{}: a record claims {} bytes, more than the {} a record may have", what_, length,
         maxBody_);
  if (available - 4 < length) return std::nullopt;
  auto body = buffer_.span().subspan(position_ + 4, length);
  position_ += 4 + length;
  return body;
}

void appendChunkRecord(std::vector<uint8_t>& out, const ChunkId& id, std::span<const uint8_t> envelope) {
  size_t at = out.size();
  out.resize(at + 4 + ChunkId::kSize + envelope.size());
  putU32(out, at, static_cast<uint32_t>(ChunkId::kSize + envelope.size()));
  std::memcpy(out.data() + at + 4, id.bytes().data(), ChunkId::kSize);
  std::memcpy(out.data() + at + 4 + ChunkId::kSize, envelope.data(), envelope.size());
}

}  // namespace pgbr::agent
