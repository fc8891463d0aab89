// One TLS connection between an agent and the repository server, carrying many channels.
// It is a reader coroutine (frames in: checked against ProtocolState, then delivered to
// channels), a writer coroutine (drains the bounded send queue into TLS records), a flusher
// coroutine (hands the ciphertext to the socket, many frames per system call) and a watchdog
// coroutine (handshake and idle time-outs, keep-alive PINGs).
//
// Lifetime: shared_ptr-owned; its coroutines and its channels keep it alive until it is
// closed and they have ended. Threading: everything runs on one executor, the connection's
// executor(); with several threads on the io_context it must be a strand. All member calls
// and all Channel calls must be made on it. Created by Client::connect() and by the Server.
#pragma once

#include "common/error.h"
#include "protocol/channel.h"
#include "protocol/frame.h"
#include "protocol/limits.h"
#include "protocol/message.h"
#include "protocol/protocol_state.h"
#include "protocol/signal.h"
#include "protocol/tls_stream.h"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace pgbr::protocol {

struct ConnectionStats {
  uint64_t dataBytesSent = 0;       // DATA payload bytes written to TLS
  uint64_t dataBytesReceived = 0;   // DATA payload bytes read from TLS
  size_t sendBufferedBytes = 0;     // plaintext queued for sending plus ciphertext not yet written
  size_t receiveBufferedBytes = 0;  // DATA received that no consumer has taken yet
  size_t openChannels = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Called by the server for each REQUEST: the channel and its JSON.
  using RequestHandler = std::function<void(Channel channel, nlohmann::json request)>;
  // Called by the server after the TLS handshake with the client certificate's CN: an error
  // refuses the connection (sent to the client as ERROR on channel 0).
  using Authorise = std::function<std::optional<Error>(const std::string& commonName)>;

  Connection(std::unique_ptr<TlsStream> tls, Role role, const Limits& limits, std::string software);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // TLS handshake and HELLO exchange within limits.handshakeTimeout, then starts the reader,
  // writer and flusher. Throws Error(Tls|Auth|Protocol|Timeout|Connect); the connection is
  // closed then. The client passes empty functions.
  asio::awaitable<void> start(Authorise authorise, RequestHandler onRequest);

  Role role() const { return role_; }
  const std::string& peer() const { return tls_->peer(); }
  const std::string& peerCommonName() const { return peerCommonName_; }
  const Hello& peerHello() const { return peerHello_; }
  std::string tlsVersion() const { return tls_->protocolVersion(); }
  asio::any_io_executor executor() const { return executor_; }
  ConnectionStats stats() const;
  bool isOpen() const { return !failure_; }
  // Why the connection closed (nullopt while open).
  const std::optional<Error>& failure() const { return failure_; }

  // Client: opens a channel with a REQUEST (an object with an "op" string). Waits while the
  // server's maxChannels are open; throws Error(Cancelled) after the server's GOAWAY.
  asio::awaitable<Channel> openChannel(const nlohmann::json& request);
  // PING/PONG round trip.
  asio::awaitable<std::chrono::nanoseconds> ping();

  // Sends GOAWAY: the peer opens no new channel; the server refuses REQUESTs that cross it.
  void goAway(std::string message);
  bool goAwayReceived() const { return goAwayReceived_; }
  // Closes the connection: pending and later channel calls throw `reason`. With tellPeer,
  // `reason` is sent as ERROR on channel 0 first. Queued frames are dropped, close_notify is
  // sent, and the socket is closed (at the latest after a short linger).
  void close(const Error& reason, bool tellPeer = false);
  // Waits until the connection's coroutines have ended after close() or a failure.
  asio::awaitable<void> closed();

 private:
  friend class Channel;
  struct OutFrame;
  struct PingWait;

  asio::awaitable<void> handshakeAndHello(const Authorise& authorise);
  asio::awaitable<Frame> readFrame(const Limits& limits);
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> flusher();
  asio::awaitable<void> watchdog();
  void dispatch(const FrameHeader& header, std::vector<uint8_t> payload);
  void dispatchChannel(const FrameHeader& header, std::vector<uint8_t> payload);
  void onRequest(uint32_t id, nlohmann::json request);
  void endChannel(detail::ChannelState& channel, const Error& reason);
  void forgetIfClosed(uint32_t id);

  // Send side used by Channel.
  void enqueue(Frame frame, const std::shared_ptr<detail::ChannelState>& channel, bool control);
  void enqueueControl(FrameType type, uint32_t channel, std::vector<uint8_t> payload);
  asio::awaitable<void> sendJson(const std::shared_ptr<detail::ChannelState>& channel, FrameType type,
                                 const nlohmann::json& body);
  asio::awaitable<void> sendData(const std::shared_ptr<detail::ChannelState>& channel, std::span<const uint8_t> data);
  asio::awaitable<void> waitWritten(const std::shared_ptr<detail::ChannelState>& channel);
  void purge(detail::ChannelState& channel);
  void returnCredit(uint32_t id, uint32_t bytes);
  void cancelChannel(detail::ChannelState& channel, const Error& reason, FrameType frame,
                     const nlohmann::json* body) noexcept;
  asio::awaitable<Message> receive(detail::ChannelState& channel);
  void coroutineEnded();

  asio::any_io_executor executor_;
  std::unique_ptr<TlsStream> tls_;
  Role role_;
  ProtocolState state_;
  std::string software_;
  Hello peerHello_;
  std::string peerCommonName_;
  RequestHandler onRequest_;

  std::unordered_map<uint32_t, std::shared_ptr<detail::ChannelState>> channels_;
  std::deque<OutFrame> queue_;
  size_t queuedBytes_ = 0;
  uint32_t queuedControl_ = 0;
  Signal writerWake_;   // frames queued, room for ciphertext, or closing
  Signal flusherWake_;  // ciphertext to send, or the writer ended
  Signal slotFreed_;    // a channel closed (client waiting in openChannel)
  Signal closedSignal_;
  asio::steady_timer watchdogTimer_;

  std::optional<Error> failure_;
  bool running_ = false;  // handshake done, reader and writer started
  int coroutines_ = 0;    // reader, writer and flusher still running
  bool writerDone_ = false;
  bool goAwaySent_ = false;
  bool goAwayReceived_ = false;
  std::chrono::steady_clock::time_point handshakeDeadline_;
  std::chrono::steady_clock::time_point closeDeadline_;
  std::chrono::steady_clock::time_point lastReceive_;
  std::chrono::steady_clock::time_point lastSend_;
  bool handshakeTimedOut_ = false;

  std::vector<std::vector<uint8_t>> spareBuffers_;  // DATA payload buffers given back by consumers
  uint64_t nextPing_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<PingWait>> pings_;
  ConnectionStats stats_;
};

}  // namespace pgbr::protocol
