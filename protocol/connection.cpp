#include "protocol/connection.h"

#include "common/log.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace pgbr::protocol {

namespace detail {

// The per-channel half the consumer sees: received messages, the outcome, and the count of
// this channel's frames queued and written (sends wait until theirs are written).
struct ChannelState {
  ChannelState(uint32_t channelId, const asio::any_io_executor& executor)
      : id(channelId), readable(executor), writable(executor) {}
  uint32_t id;
  std::deque<Message> inbox;
  size_t inboxBytes = 0;
  std::optional<Error> failure;
  bool endTaken = false;
  nlohmann::json trailer = nlohmann::json::object();
  uint64_t enqueued = 0;
  uint64_t written = 0;
  Signal readable;  // inbox grew or the channel failed
  Signal writable;  // credit arrived, frames were written, or the channel failed
};

}  // namespace detail

using detail::ChannelState;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
// Plaintext encrypted per batch, and ciphertext allowed to wait for the socket: the writer
// encrypts the next batch while the flusher waits for the socket to take the last one.
constexpr size_t kWriteBatch = 1024 * 1024;
constexpr size_t kMaxCiphertext = 2 * 1024 * 1024;
// After close(), how long the peer has to read our last frames before the socket is closed.
constexpr auto kLinger = std::chrono::milliseconds(2000);

bool tellsPeer(const Error& error) {
  return error.code() == ErrorCode::Protocol || error.code() == ErrorCode::Limit || error.code() == ErrorCode::Timeout;
}

long long millis(std::chrono::milliseconds duration) { return static_cast<long long>(duration.count()); }

}  // namespace

struct Connection::OutFrame {
  std::vector<uint8_t> bytes;  // a whole small frame (header and payload)
  std::array<uint8_t, kFrameHeaderSize> dataHeader{};
  std::span<const uint8_t> data;  // DATA payload, in the sender's memory until written
  std::shared_ptr<ChannelState> channel;
  bool control = false;
  size_t size() const { return bytes.size() + (data.empty() ? 0 : kFrameHeaderSize + data.size()); }
};

struct Connection::PingWait {
  explicit PingWait(const asio::any_io_executor& executor) : done(executor) {}
  Clock::time_point sent;
  std::optional<std::chrono::nanoseconds> rtt;
  Signal done;
};

Connection::Connection(std::unique_ptr<TlsStream> tls, Role role, const Limits& limits, std::string software)
    : executor_(tls->socket().get_executor()),
      tls_(std::move(tls)),
      role_(role),
      state_(role, limits),
      software_(std::move(software)),
      writerWake_(executor_),
      flusherWake_(executor_),
      slotFreed_(executor_),
      closedSignal_(executor_),
      watchdogTimer_(executor_) {}

Connection::~Connection() = default;

ConnectionStats Connection::stats() const {
  ConnectionStats out = stats_;
  out.sendBufferedBytes = queuedBytes_ + tls_->bufferedOutput();
  out.openChannels = state_.openChannels();
  return out;
}

// ---- start-up -----------------------------------------------------------------------------

asio::awaitable<void> Connection::start(Authorise authorise, RequestHandler onRequest) {
  auto self = shared_from_this();
  onRequest_ = std::move(onRequest);
  handshakeDeadline_ = Clock::now() + state_.localLimits().handshakeTimeout;
  asio::co_spawn(
      executor_, [self] { return self->watchdog(); }, asio::detached);
  std::optional<Error> failure;
  try {
    co_await handshakeAndHello(authorise);
  } catch (const Error& error) {
    failure = error;
  } catch (const std::exception& error) {
    failure = Error(ErrorCode::Internal, fmt::format("handshake with {}: {}", peer(), error.what()));
  }
  if (failure) {
    // The watchdog closed the socket under a read or write: say why.
    if (handshakeTimedOut_ && failure->code() == ErrorCode::Connect)
      failure = Error(ErrorCode::Timeout, fmt::format("TLS and HELLO handshake with {} did not finish within {} ms",
                                                      peer(), millis(state_.localLimits().handshakeTimeout)));
    failure_ = *failure;
    tls_->close();
    watchdogTimer_.cancel();
    closedSignal_.notify();
    throw *failure;
  }
  running_ = true;
  lastReceive_ = lastSend_ = Clock::now();
  coroutines_ = 3;
  watchdogTimer_.cancel();  // re-arm with the keep-alive period
  asio::co_spawn(
      executor_, [self] { return self->reader(); }, asio::detached);
  asio::co_spawn(
      executor_, [self] { return self->writer(); }, asio::detached);
  asio::co_spawn(
      executor_, [self] { return self->flusher(); }, asio::detached);
}

asio::awaitable<Frame> Connection::readFrame(const Limits& limits) {
  std::array<uint8_t, kFrameHeaderSize> header{};
  co_await tls_->read(header);
  Frame frame{decodeHeader(header, limits), {}};
  frame.payload.resize(frame.header.length);
  co_await tls_->read(frame.payload);
  co_return frame;
}

asio::awaitable<void> Connection::handshakeAndHello(const Authorise& authorise) {
  co_await tls_->handshake();
  peerCommonName_ = tls_->peerCommonName();
  std::optional<Error> failure;
  bool refused = false;
  try {
    if (authorise) {
      failure = authorise(peerCommonName_);
      refused = failure.has_value();
    }
    if (!failure) {
      Hello hello{.software = software_, .limits = state_.localLimits()};
      tls_->write(serialize(makeJsonFrame(FrameType::Hello, kControlChannel, encodeHello(hello))));
      co_await tls_->flush();
      Limits helloLimits = state_.localLimits();
      helloLimits.maxJsonSize = std::min(helloLimits.maxJsonSize, kMaxHelloSize);
      Frame frame = co_await readFrame(helloLimits);
      state_.receive(frame.header);
      auto body = parseJsonPayload(frame.payload, helloLimits);
      if (frame.header.type == FrameType::Error)
        throw decodeError(body, fmt::format("{} refused the connection", peer()));
      peerHello_ = decodeHello(body);
      negotiateVersion(hello, peerHello_);
      state_.setPeerLimits(peerHello_.limits);
    }
  } catch (const Error& error) {
    failure = error;
  }
  if (!failure) co_return;
  if (refused || tellsPeer(*failure)) {
    // Tell the peer why, then wait (bounded by the handshake deadline) for it to close, so
    // our last frame is not lost to a reset.
    try {
      tls_->write(serialize(makeJsonFrame(FrameType::Error, kControlChannel, encodeError(*failure))));
      tls_->closeNotify();
      co_await tls_->flush();
      tls_->shutdownSend();
      std::array<uint8_t, 4096> scratch{};
      for (;;) co_await tls_->read(scratch);
    } catch (const Error&) {
    }
  }
  throw *failure;
}

// ---- reader -------------------------------------------------------------------------------

asio::awaitable<void> Connection::reader() {
  try {
    const Limits& limits = state_.localLimits();
    for (;;) {
      std::array<uint8_t, kFrameHeaderSize> headerBytes{};
      co_await tls_->read(headerBytes);
      FrameHeader header = decodeHeader(headerBytes, limits);
      if (failure_) {  // closing: read and drop until the peer closes or the linger ends
        std::vector<uint8_t> discard(header.length);
        co_await tls_->read(discard);
        continue;
      }
      bool deliver = state_.receive(header);
      std::vector<uint8_t> payload;
      if (header.type == FrameType::Data && !spareBuffers_.empty()) {
        payload = std::move(spareBuffers_.back());
        spareBuffers_.pop_back();
      }
      payload.resize(header.length);  // a recycled buffer of the same size is not zeroed again
      co_await tls_->read(payload);
      lastReceive_ = Clock::now();
      if (header.type == FrameType::Data) stats_.dataBytesReceived += header.length;
      if (!deliver) {
        if (header.type == FrameType::Data) returnCredit(header.channel, header.length);
      } else {
        dispatch(header, std::move(payload));
      }
      if (tls_->pendingOutput() > 0) flusherWake_.notify();
    }
  } catch (const Error& error) {
    if (!failure_) {
      bool tell = tellsPeer(error);
      if (tell) logWarn("closing connection with {}: {}", peer(), error.what());
      close(error, tell);
      if (!tell) tls_->close();
    }
  } catch (const std::exception& error) {
    close(Error(ErrorCode::Internal, fmt::format("reading from {}: {}", peer(), error.what())), false);
    tls_->close();
  }
  coroutineEnded();
}

void Connection::dispatch(const FrameHeader& header, std::vector<uint8_t> payload) {
  if (header.channel != kControlChannel) {
    dispatchChannel(header, std::move(payload));
    return;
  }
  switch (header.type) {
    case FrameType::Window:
      state_.addSendCredit(kControlChannel, decodeU32(payload));
      for (auto& [id, channel] : channels_) channel->writable.notify();
      break;
    case FrameType::Ping:
      enqueueControl(FrameType::Pong, kControlChannel, payload);
      break;
    case FrameType::Pong:
      if (auto it = pings_.find(decodeU64(payload)); it != pings_.end()) {
        it->second->rtt = Clock::now() - it->second->sent;
        it->second->done.notify();
        pings_.erase(it);
      }
      break;
    case FrameType::GoAway: {
      auto goAway = decodeGoAway(parseJsonPayload(payload, state_.localLimits()));
      goAwayReceived_ = true;
      logDetail("{} sent GOAWAY (last channel {}): {}", peer(), goAway.lastChannel, goAway.message);
      slotFreed_.notify();
      break;
    }
    case FrameType::Error:
      throw decodeError(parseJsonPayload(payload, state_.localLimits()),
                        fmt::format("{} closed the connection", peer()));
    default:
      fail(ErrorCode::Protocol, "unexpected {} frame on channel 0", frameTypeName(header.type));
  }
}

void Connection::dispatchChannel(const FrameHeader& header, std::vector<uint8_t> payload) {
  uint32_t id = header.channel;
  if (header.type == FrameType::Request) {
    onRequest(id, parseJsonPayload(payload, state_.localLimits()));
    return;
  }
  auto it = channels_.find(id);
  if (it == channels_.end()) fail(ErrorCode::Internal, "channel {} is open but has no state", id);
  auto channel = it->second;
  switch (header.type) {
    case FrameType::Response:
    case FrameType::End: {
      auto body = parseJsonPayload(payload, state_.localLimits());
      channel->inbox.push_back(Message{.type = header.type, .json = std::move(body), .data = {}});
      channel->readable.notify();
      break;
    }
    case FrameType::Data:
      channel->inboxBytes += payload.size();
      stats_.receiveBufferedBytes += payload.size();
      channel->inbox.push_back(Message{.type = FrameType::Data, .json = {}, .data = std::move(payload)});
      channel->readable.notify();
      break;
    case FrameType::Error:
      endChannel(*channel, decodeError(parseJsonPayload(payload, state_.localLimits()),
                                       fmt::format("{} ended channel {}", peer(), id)));
      break;
    case FrameType::Cancel:
      endChannel(*channel, Error(ErrorCode::Cancelled, fmt::format("{} cancelled channel {}", peer(), id)));
      break;
    case FrameType::Window:
      state_.addSendCredit(id, decodeU32(payload));
      channel->writable.notify();
      break;
    default:
      fail(ErrorCode::Protocol, "unexpected {} frame on channel {}", frameTypeName(header.type), id);
  }
  forgetIfClosed(id);
}

void Connection::onRequest(uint32_t id, nlohmann::json request) {
  auto channel = std::make_shared<ChannelState>(id, executor_);
  channels_.emplace(id, channel);
  if (goAwaySent_ || !onRequest_) {
    Error refusal(ErrorCode::Cancelled, fmt::format("server is shutting down; request on channel {} refused", id));
    auto body = encodeError(refusal);
    cancelChannel(*channel, refusal, FrameType::Error, &body);
    return;
  }
  onRequest_(Channel(shared_from_this(), channel), std::move(request));
}

void Connection::endChannel(ChannelState& channel, const Error& reason) {
  if (!channel.failure) channel.failure = reason;
  purge(channel);
  channel.readable.notify();
  channel.writable.notify();
}

void Connection::forgetIfClosed(uint32_t id) {
  if (state_.isOpen(id)) return;
  if (channels_.erase(id) > 0) slotFreed_.notify();
}

// ---- writer -------------------------------------------------------------------------------

asio::awaitable<void> Connection::writer() {
  std::vector<uint8_t> staging;  // small frames coalesced into one TLS record
  try {
    for (;;) {
      while ((queue_.empty() || tls_->pendingOutput() >= kMaxCiphertext) && !failure_) co_await writerWake_.wait();
      if (failure_ && queue_.empty()) break;
      size_t batch = 0;
      while (!queue_.empty() && batch < kWriteBatch) {
        OutFrame frame = std::move(queue_.front());
        queue_.pop_front();
        size_t size = frame.size();
        queuedBytes_ -= size;
        batch += size;
        if (frame.control) --queuedControl_;
        if (frame.data.empty()) {
          staging.insert(staging.end(), frame.bytes.begin(), frame.bytes.end());
        } else {
          staging.insert(staging.end(), frame.dataHeader.begin(), frame.dataHeader.end());
          tls_->write(staging);
          staging.clear();
          tls_->write(frame.data);
          stats_.dataBytesSent += frame.data.size();
        }
        if (frame.channel && ++frame.channel->written == frame.channel->enqueued) frame.channel->writable.notify();
      }
      tls_->write(staging);
      staging.clear();
      flusherWake_.notify();
    }
  } catch (const Error& error) {
    if (!failure_) close(error, false);
    tls_->close();
  } catch (const std::exception& error) {
    close(Error(ErrorCode::Internal, fmt::format("writing to {}: {}", peer(), error.what())), false);
    tls_->close();
  }
  writerDone_ = true;
  flusherWake_.notify();
  coroutineEnded();
}

asio::awaitable<void> Connection::flusher() {
  try {
    for (;;) {
      while (tls_->pendingOutput() == 0 && !writerDone_) co_await flusherWake_.wait();
      if (tls_->pendingOutput() == 0) break;  // the writer has ended and everything is sent
      co_await tls_->flush();
      lastSend_ = Clock::now();
      writerWake_.notify();  // room for more ciphertext
    }
    if (tls_->isOpen()) {
      tls_->closeNotify();
      co_await tls_->flush();
      tls_->shutdownSend();
    }
  } catch (const Error& error) {
    if (!failure_) close(error, false);
    tls_->close();
  }
  coroutineEnded();
}

void Connection::enqueue(Frame frame, const std::shared_ptr<ChannelState>& channel, bool control) {
  OutFrame out;
  out.bytes = serialize(frame);
  out.channel = channel;
  out.control = control;
  queuedBytes_ += out.size();
  if (channel) ++channel->enqueued;
  queue_.push_back(std::move(out));
  writerWake_.notify();
}

void Connection::enqueueControl(FrameType type, uint32_t channel, std::vector<uint8_t> payload) {
  if (failure_) return;
  if (++queuedControl_ > state_.localLimits().maxQueuedControlFrames) {
    close(Error(ErrorCode::Limit, fmt::format("{} makes this side queue more than {} control frames (it does not "
                                              "read what it asks for)",
                                              peer(), state_.localLimits().maxQueuedControlFrames)),
          false);
    tls_->close();
    return;
  }
  enqueue(makeFrame(type, channel, std::move(payload)), nullptr, true);
}

void Connection::returnCredit(uint32_t id, uint32_t bytes) {
  if (failure_) return;
  auto credit = state_.consumed(id, bytes);
  if (credit.channel > 0) {
    auto increment = encodeU32(credit.channel);
    enqueueControl(FrameType::Window, id, {increment.begin(), increment.end()});
  }
  if (credit.connection > 0) {
    auto increment = encodeU32(credit.connection);
    enqueueControl(FrameType::Window, kControlChannel, {increment.begin(), increment.end()});
  }
}

void Connection::purge(ChannelState& channel) {
  auto removed = std::remove_if(queue_.begin(), queue_.end(), [&](const OutFrame& frame) {
    if (frame.channel.get() != &channel) return false;
    queuedBytes_ -= frame.size();
    if (!frame.data.empty()) state_.unsent(static_cast<uint32_t>(frame.data.size()));
    return true;
  });
  queue_.erase(removed, queue_.end());
}

// ---- watchdog -----------------------------------------------------------------------------

asio::awaitable<void> Connection::watchdog() {
  for (;;) {
    const Limits& local = state_.localLimits();
    auto base = running_ ? std::min(local.idleTimeout, peerHello_.limits.idleTimeout / 3) : local.handshakeTimeout;
    auto tick =
        std::clamp<std::chrono::milliseconds>(base / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(500));
    watchdogTimer_.expires_after(tick);
    co_await watchdogTimer_.async_wait(kTuple);
    auto now = Clock::now();
    if (!running_) {
      if (failure_) co_return;
      if (now >= handshakeDeadline_) {
        handshakeTimedOut_ = true;
        tls_->close();
      }
      continue;
    }
    if (failure_) {
      if (coroutines_ == 0) co_return;
      if (now >= closeDeadline_) tls_->close();
      continue;
    }
    if (now - lastReceive_ > local.idleTimeout) {
      close(Error(ErrorCode::Timeout,
                  fmt::format("nothing received from {} for {} ms (idle time-out)", peer(), millis(local.idleTimeout))),
            true);
      continue;
    }
    if (now - lastSend_ >= peerHello_.limits.idleTimeout / 3) {
      auto id = encodeU64(++nextPing_);
      enqueueControl(FrameType::Ping, kControlChannel, {id.begin(), id.end()});
      lastSend_ = now;
    }
  }
}

// ---- closing ------------------------------------------------------------------------------

void Connection::close(const Error& reason, bool tellPeer) {
  if (failure_) return;
  failure_ = reason;
  logDetail("connection with {} closed: {}", peer(), reason.what());
  closeDeadline_ = Clock::now() + kLinger;
  queue_.clear();
  queuedBytes_ = 0;
  queuedControl_ = 0;
  for (auto& [id, channel] : channels_) {
    if (!channel->failure) channel->failure = reason;
    channel->readable.notify();
    channel->writable.notify();
  }
  channels_.clear();
  for (auto& [id, wait] : pings_) wait->done.notify();
  pings_.clear();
  if (!running_) {
    tls_->close();
  } else if (tellPeer) {
    enqueue(makeJsonFrame(FrameType::Error, kControlChannel, encodeError(reason)), nullptr, false);
  }
  writerWake_.notify();
  slotFreed_.notify();
  watchdogTimer_.cancel();
}

void Connection::coroutineEnded() {
  if (--coroutines_ > 0) return;
  tls_->close();
  watchdogTimer_.cancel();
  closedSignal_.notify();
}

asio::awaitable<void> Connection::closed() {
  while (!failure_ || coroutines_ > 0) co_await closedSignal_.wait();
}

void Connection::goAway(std::string message) {
  if (failure_ || goAwaySent_ || !running_) return;
  goAwaySent_ = true;
  auto frame = makeJsonFrame(FrameType::GoAway, kControlChannel,
                             encodeGoAway({.lastChannel = state_.highestChannel(), .message = std::move(message)}));
  enqueue(std::move(frame), nullptr, false);
}

// ---- client calls -------------------------------------------------------------------------

asio::awaitable<Channel> Connection::openChannel(const nlohmann::json& request) {
  if (role_ != Role::Client) fail(ErrorCode::Internal, "openChannel() on a server connection");
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
    fail(ErrorCode::Internal, "a request needs an \"op\" string: {}", request.dump());
  for (;;) {
    if (failure_) throw *failure_;
    if (goAwayReceived_) fail(ErrorCode::Cancelled, "{} is shutting down and accepts no new requests (GOAWAY)", peer());
    if (state_.canOpen()) break;
    co_await slotFreed_.wait();
  }
  auto state = std::make_shared<ChannelState>(state_.openChannel(), executor_);
  channels_.emplace(state->id, state);
  Channel channel(shared_from_this(), state);
  co_await sendJson(state, FrameType::Request, request);
  co_return channel;
}

asio::awaitable<std::chrono::nanoseconds> Connection::ping() {
  if (failure_) throw *failure_;
  auto wait = std::make_shared<PingWait>(executor_);
  uint64_t id = ++nextPing_;
  wait->sent = Clock::now();
  pings_.emplace(id, wait);
  auto bytes = encodeU64(id);
  enqueueControl(FrameType::Ping, kControlChannel, {bytes.begin(), bytes.end()});
  while (!wait->rtt) {
    if (failure_) throw *failure_;
    co_await wait->done.wait();
  }
  co_return *wait->rtt;
}

// ---- channel operations -------------------------------------------------------------------

asio::awaitable<void> Connection::waitWritten(const std::shared_ptr<ChannelState>& channel) {
  uint64_t target = channel->enqueued;
  while (channel->written < target) {
    if (channel->failure) throw *channel->failure;
    co_await channel->writable.wait();
  }
}

asio::awaitable<void> Connection::sendJson(const std::shared_ptr<ChannelState>& channel, FrameType type,
                                           const nlohmann::json& body) {
  if (channel->failure) throw *channel->failure;
  auto frame = makeJsonFrame(type, channel->id, body);
  if (frame.header.length > state_.peerLimits().maxJsonSize)
    fail(ErrorCode::Limit, "{} message of {} bytes on channel {} is above {}'s limit of {} bytes", frameTypeName(type),
         frame.header.length, channel->id, peer(), state_.peerLimits().maxJsonSize);
  state_.sent(frame.header);
  enqueue(std::move(frame), channel, false);
  forgetIfClosed(channel->id);
  co_await waitWritten(channel);
}

asio::awaitable<void> Connection::sendData(const std::shared_ptr<ChannelState>& channel,
                                           std::span<const uint8_t> data) {
  while (!data.empty()) {
    uint32_t credit = 0;
    for (;;) {
      if (channel->failure) throw *channel->failure;
      if (state_.localEnded(channel->id)) fail(ErrorCode::Internal, "sendData() after END on channel {}", channel->id);
      credit = state_.sendCredit(channel->id);
      if (credit > 0) break;
      co_await channel->writable.wait();
    }
    auto n = static_cast<uint32_t>(std::min<size_t>({data.size(), credit, state_.peerLimits().maxFramePayload}));
    FrameHeader header{.length = n, .type = FrameType::Data, .flags = 0, .channel = channel->id};
    state_.sent(header);
    OutFrame out;
    out.dataHeader = encodeHeader(header);
    out.data = data.first(n);
    out.channel = channel;
    queuedBytes_ += out.size();
    ++channel->enqueued;
    queue_.push_back(std::move(out));
    writerWake_.notify();
    data = data.subspan(n);
  }
  co_await waitWritten(channel);
}

asio::awaitable<Message> Connection::receive(ChannelState& channel) {
  for (;;) {
    if (!channel.inbox.empty()) {
      Message message = std::move(channel.inbox.front());
      channel.inbox.pop_front();
      if (message.type == FrameType::Data) {
        channel.inboxBytes -= message.data.size();
        stats_.receiveBufferedBytes -= message.data.size();
        returnCredit(channel.id, static_cast<uint32_t>(message.data.size()));
      } else if (message.type == FrameType::End) {
        channel.endTaken = true;
        channel.trailer = message.json;
      }
      co_return message;
    }
    if (channel.failure) throw *channel.failure;
    if (channel.endTaken) fail(ErrorCode::Internal, "receive() on channel {} after its END", channel.id);
    co_await channel.readable.wait();
  }
}

void Connection::cancelChannel(ChannelState& channel, const Error& reason, FrameType type,
                               const nlohmann::json* body) noexcept {
  try {
    if (!channel.failure) channel.failure = reason;
    purge(channel);
    if (!failure_ && state_.isOpen(channel.id)) {
      auto frame = body ? makeJsonFrame(type, channel.id, *body) : makeFrame(type, channel.id, {});
      state_.sent(frame.header);
      enqueue(std::move(frame), nullptr, false);
    }
    forgetIfClosed(channel.id);
    if (channel.inboxBytes > 0) {
      stats_.receiveBufferedBytes -= channel.inboxBytes;
      returnCredit(channel.id, static_cast<uint32_t>(channel.inboxBytes));
      channel.inboxBytes = 0;
    }
    channel.inbox.clear();
    channel.readable.notify();
    channel.writable.notify();
  } catch (const std::exception& error) {
    close(Error(ErrorCode::Internal, fmt::format("cancelling channel {}: {}", channel.id, error.what())), false);
  }
}

// ---- Channel ------------------------------------------------------------------------------

Channel::Channel(std::shared_ptr<Connection> connection, std::shared_ptr<ChannelState> state)
    : connection_(std::move(connection)), state_(std::move(state)) {}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    if (connection_ && !finished()) cancel();
    connection_ = std::move(other.connection_);
    state_ = std::move(other.state_);
  }
  return *this;
}

Channel::~Channel() {
  if (!connection_ || !state_) return;
  if (!finished()) {
    cancel();
  } else if (state_->inboxBytes > 0 && !connection_->failure_) {
    // Data nobody will read still holds connection credit.
    connection_->stats_.receiveBufferedBytes -= state_->inboxBytes;
    connection_->returnCredit(state_->id, static_cast<uint32_t>(state_->inboxBytes));
  }
}

uint32_t Channel::id() const { return state_->id; }

asio::awaitable<void> Channel::sendResponse(const nlohmann::json& response) {
  co_await connection_->sendJson(state_, FrameType::Response, response);
}

asio::awaitable<void> Channel::sendData(std::span<const uint8_t> data) { co_await connection_->sendData(state_, data); }

asio::awaitable<void> Channel::sendEnd(const nlohmann::json& trailer) {
  co_await connection_->sendJson(state_, FrameType::End, trailer);
}

asio::awaitable<void> Channel::sendEnd() {
  const nlohmann::json empty = nlohmann::json::object();
  co_await sendEnd(empty);
}

void Channel::sendError(const Error& error) {
  auto body = encodeError(error);
  connection_->cancelChannel(*state_, error, FrameType::Error, &body);
}

void Channel::cancel() noexcept {
  if (!connection_ || !state_) return;
  connection_->cancelChannel(*state_, Error(ErrorCode::Cancelled, fmt::format("channel {} was cancelled", state_->id)),
                             FrameType::Cancel, nullptr);
}

asio::awaitable<Message> Channel::receive() { co_return co_await connection_->receive(*state_); }

asio::awaitable<nlohmann::json> Channel::receiveResponse() {
  auto message = co_await receive();
  if (message.type != FrameType::Response)
    fail(ErrorCode::Protocol, "expected RESPONSE on channel {} from {}, got {}", id(), connection_->peer(),
         frameTypeName(message.type));
  co_return std::move(message.json);
}

asio::awaitable<std::optional<std::vector<uint8_t>>> Channel::receiveData() {
  auto message = co_await receive();
  if (message.type == FrameType::End) co_return std::nullopt;
  if (message.type != FrameType::Data)
    fail(ErrorCode::Protocol, "expected DATA or END on channel {} from {}, got {}", id(), connection_->peer(),
         frameTypeName(message.type));
  co_return std::move(message.data);
}

const nlohmann::json& Channel::trailer() const { return state_->trailer; }

void Channel::recycle(std::vector<uint8_t>&& buffer) {
  // A few buffers of useful size are enough to feed the reader in a steady stream.
  constexpr size_t kMaxSpare = 16;
  auto& spare = connection_->spareBuffers_;
  if (spare.size() < kMaxSpare && buffer.capacity() >= 16 * 1024 &&
      buffer.capacity() <= connection_->state_.localLimits().maxFramePayload)
    spare.push_back(std::move(buffer));
}

bool Channel::finished() const { return !state_ || state_->failure || !connection_->state_.isOpen(state_->id); }

bool Channel::remoteEnded() const { return !state_ || connection_->state_.remoteEnded(state_->id); }

bool Channel::localEnded() const { return !state_ || state_->failure || connection_->state_.localEnded(state_->id); }

}  // namespace pgbr::protocol
