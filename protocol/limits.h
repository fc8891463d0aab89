// The limits one side of a connection enforces on what it receives, and announces to its peer
// in HELLO so the peer can stay within them. Plain data; copy freely.
#pragma once

#include <chrono>
#include <cstdint>

namespace pgbr::protocol {

struct Limits {
  // Largest frame payload accepted. DATA frames are split to the peer's value.
  uint32_t maxFramePayload = 1024 * 1024;
  // Largest JSON payload (REQUEST, RESPONSE, END, ERROR, HELLO, GOAWAY) and its nesting depth.
  uint32_t maxJsonSize = 1024 * 1024;
  uint32_t maxJsonDepth = 64;
  // Channels open at once on one connection; a REQUEST beyond it closes the connection.
  uint32_t maxChannels = 256;
  // Flow-control credit granted to the peer for DATA: per channel, and for the sum over all
  // channels. Received data not yet consumed never exceeds connectionWindow.
  uint32_t channelWindow = 4 * 1024 * 1024;
  uint32_t connectionWindow = 32 * 1024 * 1024;
  // TLS handshake plus HELLO exchange must finish within this.
  std::chrono::milliseconds handshakeTimeout{10'000};
  // A connection on which nothing arrives for this long is closed; each side sends PING
  // after a third of the peer's idle time-out without sending anything.
  std::chrono::milliseconds idleTimeout{60'000};
  // Control frames (WINDOW, PONG, CANCEL) queued for sending but not yet written; a peer
  // that makes us queue more (a PING flood while not reading) has its connection closed.
  uint32_t maxQueuedControlFrames = 4096;
};

// Never accepted from a peer's HELLO, whatever it announces: bounds what we allocate for it.
constexpr uint32_t kMinFramePayload = 16 * 1024;
constexpr uint32_t kMaxFramePayload = 16 * 1024 * 1024;
// Credit is kept below 2^31 so that sums never overflow (as in HTTP/2).
constexpr uint32_t kMaxWindow = 0x7fffffff;
// Limit applied to the first frame (HELLO) before the peer's limits are known.
constexpr uint32_t kMaxHelloSize = 64 * 1024;

}  // namespace pgbr::protocol
