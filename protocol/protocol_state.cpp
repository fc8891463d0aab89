#include "protocol/protocol_state.h"

#include "common/error.h"

#include <algorithm>

namespace pgbr::protocol {

ProtocolState::Channel* ProtocolState::find(uint32_t id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : &it->second;
}

void ProtocolState::setPeerLimits(const Limits& peer) {
  peer_ = peer;
  connSendCredit_ = peer.connectionWindow;
}

bool ProtocolState::receive(const FrameHeader& header) {
  auto name = frameTypeName(header.type);
  if (!helloReceived_ && header.type != FrameType::Hello && header.type != FrameType::Error)
    fail(ErrorCode::Protocol, "{} frame before HELLO", name);
  if (header.channel == kControlChannel) {
    receiveControl(header);
    return true;
  }
  uint32_t id = header.channel;
  if (header.type == FrameType::Request) {
    if (role_ == Role::Client) fail(ErrorCode::Protocol, "REQUEST frame from the server on channel {}", id);
    if (id <= highest_)
      fail(ErrorCode::Protocol, "REQUEST on channel {}, not above the highest channel opened so far ({})", id,
           highest_);
    if (channels_.size() >= local_.maxChannels)
      fail(ErrorCode::Limit, "REQUEST on channel {} would open more than {} channels at once", id, local_.maxChannels);
    highest_ = id;
    channels_.emplace(id, Channel{.sendCredit = peer_.channelWindow, .recvCredit = local_.channelWindow});
    return true;
  }
  if (id > highest_) fail(ErrorCode::Protocol, "{} frame on channel {}, which was never opened", name, id);
  Channel* channel = find(id);
  if (!channel) {
    // A frame that crossed our CANCEL or ERROR. Its DATA still used connection credit.
    if (header.type == FrameType::Data) {
      if (header.length > connRecvCredit_)
        fail(ErrorCode::Protocol, "DATA frame of {} bytes on closed channel {} exceeds the connection's credit ({})",
             header.length, id, connRecvCredit_);
      connRecvCredit_ -= header.length;
    }
    return false;
  }
  switch (header.type) {
    case FrameType::Response:
      if (role_ == Role::Server) fail(ErrorCode::Protocol, "RESPONSE frame from the client on channel {}", id);
      if (channel->response) fail(ErrorCode::Protocol, "second RESPONSE on channel {}", id);
      if (channel->remoteEnded) fail(ErrorCode::Protocol, "RESPONSE after END on channel {}", id);
      channel->response = true;
      break;
    case FrameType::Data:
      if (channel->remoteEnded) fail(ErrorCode::Protocol, "DATA after END on channel {}", id);
      if (header.length > channel->recvCredit)
        fail(ErrorCode::Protocol, "DATA frame of {} bytes on channel {} exceeds its flow-control credit ({})",
             header.length, id, channel->recvCredit);
      if (header.length > connRecvCredit_)
        fail(ErrorCode::Protocol, "DATA frame of {} bytes on channel {} exceeds the connection's credit ({})",
             header.length, id, connRecvCredit_);
      channel->recvCredit -= header.length;
      connRecvCredit_ -= header.length;
      break;
    case FrameType::End:
      if (channel->remoteEnded) fail(ErrorCode::Protocol, "second END on channel {}", id);
      closeHalf(id, *channel, false);
      break;
    case FrameType::Error:
    case FrameType::Cancel:
      channels_.erase(id);
      break;
    case FrameType::Window:
      break;  // the increment is applied by addSendCredit()
    default:
      fail(ErrorCode::Protocol, "{} frame on channel {}", name, id);
  }
  return true;
}

void ProtocolState::receiveControl(const FrameHeader& header) {
  switch (header.type) {
    case FrameType::Hello:
      if (helloReceived_) fail(ErrorCode::Protocol, "second HELLO");
      helloReceived_ = true;
      break;
    case FrameType::Window:
    case FrameType::Ping:
    case FrameType::Pong:
    case FrameType::GoAway:
    case FrameType::Error:
      break;
    default:
      fail(ErrorCode::Protocol, "{} frame on the control channel 0", frameTypeName(header.type));
  }
}

void ProtocolState::closeHalf(uint32_t id, Channel& channel, bool local) {
  (local ? channel.localEnded : channel.remoteEnded) = true;
  if (channel.localEnded && channel.remoteEnded) channels_.erase(id);
}

bool ProtocolState::canOpen() const {
  return helloReceived_ && channels_.size() < peer_.maxChannels && highest_ < UINT32_MAX;
}

uint32_t ProtocolState::openChannel() {
  if (role_ != Role::Client) fail(ErrorCode::Internal, "only the client opens channels");
  if (!canOpen()) fail(ErrorCode::Internal, "openChannel() without a free channel");
  uint32_t id = ++highest_;
  channels_.emplace(id, Channel{.sendCredit = peer_.channelWindow, .recvCredit = local_.channelWindow});
  return id;
}

void ProtocolState::sent(const FrameHeader& header) {
  if (header.channel == kControlChannel) return;
  uint32_t id = header.channel;
  Channel* channel = find(id);
  if (!channel) fail(ErrorCode::Internal, "{} frame queued on closed channel {}", frameTypeName(header.type), id);
  auto name = frameTypeName(header.type);
  if (channel->localEnded && header.type != FrameType::Window && header.type != FrameType::Cancel &&
      header.type != FrameType::Error)
    fail(ErrorCode::Internal, "{} frame queued on channel {} after its END", name, id);
  switch (header.type) {
    case FrameType::Response:
      if (role_ != Role::Server || channel->response)
        fail(ErrorCode::Internal, "RESPONSE not allowed here on channel {}", id);
      channel->response = true;
      break;
    case FrameType::Data:
      if (header.length > sendCredit(id))
        fail(ErrorCode::Internal, "DATA frame of {} bytes on channel {} beyond credit", header.length, id);
      channel->sendCredit -= header.length;
      connSendCredit_ -= header.length;
      break;
    case FrameType::End:
      closeHalf(id, *channel, true);
      break;
    case FrameType::Error:
    case FrameType::Cancel:
      channels_.erase(id);
      break;
    default:
      break;
  }
}

void ProtocolState::addSendCredit(uint32_t id, uint32_t increment) {
  if (increment == 0) fail(ErrorCode::Protocol, "WINDOW frame with a zero increment on channel {}", id);
  int64_t* credit = &connSendCredit_;
  if (id != kControlChannel) {
    Channel* channel = find(id);
    if (!channel) return;  // crossed our CANCEL or END
    credit = &channel->sendCredit;
  }
  if (*credit + increment > kMaxWindow)
    fail(ErrorCode::Protocol, "WINDOW increment of {} on channel {} raises the credit above {}", increment, id,
         kMaxWindow);
  *credit += increment;
}

void ProtocolState::unsent(uint32_t bytes) { connSendCredit_ += bytes; }

uint32_t ProtocolState::sendCredit(uint32_t id) const {
  auto it = channels_.find(id);
  if (it == channels_.end()) return 0;
  return static_cast<uint32_t>(std::max<int64_t>(0, std::min(it->second.sendCredit, connSendCredit_)));
}

ProtocolState::CreditReturn ProtocolState::consumed(uint32_t id, uint32_t bytes) {
  CreditReturn out;
  connPendingReturn_ += bytes;
  if (connPendingReturn_ >= local_.connectionWindow / 4) {
    out.connection = connPendingReturn_;
    connRecvCredit_ += connPendingReturn_;
    connPendingReturn_ = 0;
  }
  if (Channel* channel = find(id); channel && !channel->remoteEnded) {
    channel->pendingReturn += bytes;
    if (channel->pendingReturn >= local_.channelWindow / 4) {
      out.channel = channel->pendingReturn;
      channel->recvCredit += channel->pendingReturn;
      channel->pendingReturn = 0;
    }
  }
  return out;
}

bool ProtocolState::localEnded(uint32_t id) const {
  auto it = channels_.find(id);
  return it == channels_.end() || it->second.localEnded;
}

bool ProtocolState::remoteEnded(uint32_t id) const {
  auto it = channels_.find(id);
  return it == channels_.end() || it->second.remoteEnded;
}

}  // namespace pgbr::protocol
