// Byte streams over a request channel, so the filter code (RecordWriter, RecordReader,
// ManifestReader) reads and writes the network like any other stream: ChannelSink sends what is
// written as DATA (in pieces of a configured size) and finish() ends the agent's half with END;
// ChannelSource reads DATA until the server's END. Both block the calling thread.
//
// Neither owns the channel: it must outlive them. One thread uses a stream at a time.
#pragma once

#include "agent/repo_client.h"
#include "common/filter/buffer.h"
#include "common/storage/byte_stream.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace pgbr::agent {

class ChannelSink final : public ByteSink {
 public:
  // Sends DATA frames of up to pieceSize bytes; finish() sends END with trailer.
  ChannelSink(RepoChannel& channel, size_t pieceSize, nlohmann::json trailer = nlohmann::json::object());

  void write(std::span<const uint8_t> data) override;
  void finish() override;
  void cancel() noexcept override;

  uint64_t bytesSent() const { return sent_; }

 private:
  void flush();

  RepoChannel& channel_;
  size_t pieceSize_;
  nlohmann::json trailer_;
  ByteBuffer pending_;
  uint64_t sent_ = 0;
  bool done_ = false;
};

class ChannelSource final : public ByteSource {
 public:
  explicit ChannelSource(RepoChannel& channel) : channel_(channel) {}

  size_t read(std::span<uint8_t> buffer) override;
  // True once the server's END has been read; its trailer is then channel.trailer().
  bool ended() const { return ended_; }
  uint64_t bytesReceived() const { return received_; }

 private:
  RepoChannel& channel_;
  std::vector<uint8_t> current_;
  size_t position_ = 0;
  uint64_t received_ = 0;
  bool ended_ = false;
};

}  // namespace pgbr::agent
