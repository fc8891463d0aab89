#include "agent/channel_stream.h"

#include <cstring>

namespace pgbr::agent {

ChannelSink::ChannelSink(RepoChannel& channel, size_t pieceSize, nlohmann::json trailer)
    : channel_(channel), pieceSize_(pieceSize), trailer_(std::move(trailer)) {}

void ChannelSink::write(std::span<const uint8_t> data) {
  if (done_) fail(ErrorCode::Internal, "write to a finished channel stream");
  while (!data.empty()) {
    size_t take = std::min(data.size(), pieceSize_ - pending_.size());
    pending_.append(data.first(take));
    data = data.subspan(take);
    if (pending_.size() == pieceSize_) flush();
  }
}

void ChannelSink::flush() {
  if (pending_.empty()) return;
  try {
    channel_.sendData(pending_.span());
  } catch (...) {
    done_ = true;
    throw;
  }
  sent_ += pending_.size();
  pending_.clear();
}

void ChannelSink::finish() {
  if (done_) fail(ErrorCode::Internal, "channel stream finished twice or after a failure");
  flush();
  done_ = true;
  channel_.sendEnd(trailer_);
}

void ChannelSink::cancel() noexcept {
  if (done_) return;
  done_ = true;
  try {
    channel_.cancel();
  } catch (...) {
    // The connection is gone already: nothing was finished, which is all cancel promises.
  }
}

size_t ChannelSource::read(std::span<uint8_t> buffer) {
  while (position_ == current_.size()) {
    if (ended_) return 0;
    auto data = channel_.receiveData();
    if (!data) {
      ended_ = true;
      current_.clear();
      position_ = 0;
      return 0;
    }
    current_ = std::move(*data);
    position_ = 0;
    received_ += current_.size();
  }
  size_t take = std::min(buffer.size(), current_.size() - position_);
  std::memcpy(buffer.data(), current_.data() + position_, take);
  position_ += take;
  return take;
}

}  // namespace pgbr::agent
