// The rules of one connection without any I/O: which channels are open and which halves
// have ended, the flow-control credit in both directions, and the order of frames. The
// Connection consults it for every frame it receives (a violation throws and the connection
// is closed) and records every frame it sends; the fuzz target drives it directly.
//
// Not thread-safe: one instance belongs to one connection and is used on its strand.
#pragma once

#include "protocol/frame.h"
#include "protocol/limits.h"

#include <cstdint>
#include <unordered_map>

namespace pgbr::protocol {

class ProtocolState {
 public:
  ProtocolState(Role role, const Limits& local) : role_(role), local_(local), connRecvCredit_(local.connectionWindow) {}

  Role role() const { return role_; }
  const Limits& localLimits() const { return local_; }
  // The limits the peer announced in HELLO (our defaults until then).
  const Limits& peerLimits() const { return peer_; }
  bool helloReceived() const { return helloReceived_; }

  // Checks an inbound frame whose header decodeHeader() accepted and updates the state.
  // Returns false for a frame on a channel that is already closed (a late frame after our
  // CANCEL or ERROR): the caller drops it, and for DATA returns the connection credit with
  // consumed(). Throws Error(Protocol) or Error(Limit) when the frame breaks a rule.
  bool receive(const FrameHeader& header);
  // Applies the increment of a WINDOW frame receive() accepted (channel 0: the connection).
  // Throws Error(Protocol) for a zero increment or credit above kMaxWindow.
  void addSendCredit(uint32_t channel, uint32_t increment);
  // Records the peer's HELLO limits; call after receive() accepted the HELLO frame.
  void setPeerLimits(const Limits& peer);

  // Client: the id for a new channel; the caller must first check canOpen().
  bool canOpen() const;
  uint32_t openChannel();
  // Records an outbound frame when it is queued. Sending DATA beyond sendCredit(), or any
  // frame on a channel whose half is closed, throws Error(Internal) (a caller's bug).
  void sent(const FrameHeader& header);
  // A queued DATA frame that will never be written (its channel was cancelled first):
  // gives its connection credit back.
  void unsent(uint32_t bytes);
  // Bytes of DATA that may be sent now on a channel: min(channel credit, connection credit).
  uint32_t sendCredit(uint32_t channel) const;

  // The consumer took `bytes` of DATA from `channel` (which may be closed by now). Returns
  // the credit to give back with WINDOW frames (0: nothing to send yet). Credit is returned
  // in batches of a quarter window so WINDOW frames stay rare.
  struct CreditReturn {
    uint32_t channel = 0;
    uint32_t connection = 0;
  };
  CreditReturn consumed(uint32_t channel, uint32_t bytes);

  bool isOpen(uint32_t channel) const { return channels_.contains(channel); }
  bool localEnded(uint32_t channel) const;   // also true for a closed channel
  bool remoteEnded(uint32_t channel) const;  // also true for a closed channel
  size_t openChannels() const { return channels_.size(); }
  uint32_t highestChannel() const { return highest_; }

 private:
  struct Channel {
    bool localEnded = false;
    bool remoteEnded = false;
    bool response = false;       // RESPONSE sent (server) or received (client)
    int64_t sendCredit = 0;      // granted by the peer, not yet used
    int64_t recvCredit = 0;      // granted to the peer, not yet used
    uint32_t pendingReturn = 0;  // consumed, not yet returned with WINDOW
  };

  void receiveControl(const FrameHeader& header);
  void closeHalf(uint32_t id, Channel& channel, bool local);
  Channel* find(uint32_t id);

  Role role_;
  Limits local_;
  Limits peer_;
  bool helloReceived_ = false;
  uint32_t highest_ = 0;  // highest channel id opened so far
  std::unordered_map<uint32_t, Channel> channels_;
  int64_t connSendCredit_ = 0;
  int64_t connRecvCredit_;
  uint32_t connPendingReturn_ = 0;
};

}  // namespace pgbr::protocol
