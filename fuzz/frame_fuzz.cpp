// libFuzzer target for everything a peer's bytes reach before a handler sees them: the frame
// decoder, the JSON message parser with its size and depth limits, HELLO/ERROR/GOAWAY
// decoding and the per-connection protocol rules (channels, halves, credit). The first byte
// picks the role; the rest is the byte stream from the peer. Any pgbr::Error is the
// connection being closed, which is fine; crashes, leaks and undefined behaviour are not.
#include "common/error.h"
#include "protocol/frame.h"
#include "protocol/message.h"
#include "protocol/protocol_state.h"

#include <cstddef>
#include <cstdint>
#include <span>

using namespace pgbr;
using namespace pgbr::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Role role = data[0] & 1 ? Role::Client : Role::Server;
  Limits limits;
  limits.maxFramePayload = kMinFramePayload;
  limits.maxJsonSize = 4096;
  limits.maxJsonDepth = 16;
  limits.maxChannels = 8;
  limits.channelWindow = 64 * 1024;
  limits.connectionWindow = 128 * 1024;
  ProtocolState state(role, limits);
  if (role == Role::Client) {
    // Give the client channels for the server's frames to land on.
    Hello hello;
    state.receive({.length = 2, .type = FrameType::Hello, .flags = 0, .channel = 0});
    state.setPeerLimits(hello.limits);
    while (state.canOpen() && state.openChannels() < 4) state.openChannel();
  }
  FrameDecoder decoder(limits);
  auto input = std::span<const uint8_t>(data + 1, size - 1);
  try {
    // Feed in two pieces so frames that straddle appends are exercised.
    size_t half = input.size() / 2;
    decoder.append(input.first(half));
    for (int round = 0; round < 2; ++round) {
      while (auto frame = decoder.next()) {
        const auto& h = frame->header;
        bool deliver = state.receive(h);
        if (isJsonFrame(h.type)) {
          auto body = parseJsonPayload(frame->payload, limits);
          if (h.type == FrameType::Hello) state.setPeerLimits(decodeHello(body).limits);
          if (h.type == FrameType::Error) (void)decodeError(body, "peer");
          if (h.type == FrameType::GoAway) (void)decodeGoAway(body);
        } else if (h.type == FrameType::Window) {
          state.addSendCredit(h.channel, decodeU32(frame->payload));
        } else if (h.type == FrameType::Ping || h.type == FrameType::Pong) {
          (void)decodeU64(frame->payload);
        }
        if (h.type == FrameType::Data) state.consumed(h.channel, deliver ? h.length : h.length);
        if (deliver && h.channel != 0 && state.isOpen(h.channel) && state.sendCredit(h.channel) > 0) {
          // Answer like a server or client would: some DATA, then END once the peer ended.
          uint32_t n = std::min<uint32_t>(state.sendCredit(h.channel), 100);
          state.sent({.length = n, .type = FrameType::Data, .flags = 0, .channel = h.channel});
          if (state.remoteEnded(h.channel) && !state.localEnded(h.channel))
            state.sent({.length = 2, .type = FrameType::End, .flags = 0, .channel = h.channel});
        }
      }
      if (round == 0) decoder.append(input.subspan(half));
    }
  } catch (const Error&) {
    // The connection would be closed with this reason.
  }
  return 0;
}
