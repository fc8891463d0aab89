// One request on a connection: the client opens it with a REQUEST, then both sides may send
// DATA and each closes its half with END; the server answers with one RESPONSE. ERROR or
// CANCEL ends it for both sides. Sends wait for flow-control credit, so a peer that stops
// reading bounds what this side buffers; receiving a DATA message returns its credit.
//
// A Channel is a move-only handle owned by the coroutine using it (a default-constructed one
// is empty: only assignment and destruction are allowed). Every call must run on the
// connection's executor (Connection::executor()). Destroying a channel that has not finished
// cancels it. At most one coroutine may send and one may receive on a channel at a time.
#pragma once

#include "common/error.h"
#include "protocol/frame.h"

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace pgbr::protocol {

class Connection;
namespace detail {
struct ChannelState;
}

struct Message {
  FrameType type = FrameType::Data;  // Response, Data or End
  nlohmann::json json;               // the RESPONSE body or END trailer
  std::vector<uint8_t> data;         // the DATA payload
};

class Channel {
 public:
  Channel() = default;
  Channel(std::shared_ptr<Connection> connection, std::shared_ptr<detail::ChannelState> state);
  Channel(Channel&& other) noexcept = default;
  Channel& operator=(Channel&& other) noexcept;
  ~Channel();

  uint32_t id() const;
  Connection& connection() const { return *connection_; }

  // Server only, at most once, before END.
  asio::awaitable<void> sendResponse(const nlohmann::json& response);
  // Splits into DATA frames of at most the peer's frame size, waiting for credit; returns
  // once every byte is encrypted into the connection's output (the span may then be reused).
  asio::awaitable<void> sendData(std::span<const uint8_t> data);
  // Closes this side's half; the trailer typically carries sizes and checksums.
  asio::awaitable<void> sendEnd(const nlohmann::json& trailer);
  // END with an empty trailer ({}).
  asio::awaitable<void> sendEnd();
  // Ends the channel for both sides with the error's code and message.
  void sendError(const Error& error);
  // Ends the channel for both sides (CANCEL); pending and later calls throw Error(Cancelled).
  void cancel() noexcept;

  // The next RESPONSE, DATA or END. Throws the peer's ERROR (its code, its message),
  // Error(Cancelled) after a CANCEL, or the connection's failure.
  asio::awaitable<Message> receive();
  // Client: the RESPONSE, which must come next (Error(Protocol) otherwise).
  asio::awaitable<nlohmann::json> receiveResponse();
  // The next DATA payload, or nullopt at END (whose trailer is then trailer()).
  asio::awaitable<std::optional<std::vector<uint8_t>>> receiveData();
  const nlohmann::json& trailer() const;
  // Gives a DATA payload back once consumed: the connection reads later frames into it
  // instead of allocating (and zeroing) a new buffer. Optional.
  void recycle(std::vector<uint8_t>&& buffer);

  // True when both halves have ended, or the channel was cancelled or failed.
  bool finished() const;
  // True once the peer's END has been received (the remote half is closed).
  bool remoteEnded() const;
  // True once this side's END, ERROR or CANCEL has been queued.
  bool localEnded() const;

 private:
  friend class Connection;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<detail::ChannelState> state_;
};

}  // namespace pgbr::protocol
