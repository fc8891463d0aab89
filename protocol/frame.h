// The wire frame: a 10-byte header (u32 payload length, u8 type, u8 flags, u32 channel, all
// big-endian) followed by the payload. This header encodes and checks headers and payloads
// in isolation (no channel state); docs/protocol.md is the specification.
//
// Everything here is plain value code without I/O: safe to call from any thread.
#pragma once

#include "protocol/limits.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace pgbr::protocol {

enum class FrameType : uint8_t {
  Hello = 1,     // channel 0, JSON: versions, software, capabilities, limits
  Request = 2,   // opens a channel (client only), JSON with "op"
  Response = 3,  // server's result for the request, JSON, at most once per channel
  Data = 4,      // binary, counts against flow-control credit
  End = 5,       // closes the sender's half of a channel, JSON trailer
  Error = 6,     // JSON {code, message}; on a channel ends it, on channel 0 ends the connection
  Window = 7,    // u32 credit increment for a channel, or for the connection on channel 0
  Cancel = 8,    // empty; ends the channel for both sides
  Ping = 9,      // channel 0, u64 opaque
  Pong = 10,     // channel 0, the u64 of the PING it answers
  GoAway = 11,   // channel 0, JSON {lastChannel, message}: no new channels will be accepted
};

// Which end of a connection: the client opens channels, the server answers them.
enum class Role { Client, Server };

constexpr size_t kFrameHeaderSize = 10;
constexpr uint32_t kControlChannel = 0;

struct FrameHeader {
  uint32_t length = 0;  // payload bytes
  FrameType type = FrameType::Hello;
  uint8_t flags = 0;
  uint32_t channel = 0;
};

// "DATA", "WINDOW", ... for log lines and errors; "type 42" for a number that is no type.
std::string_view frameTypeName(FrameType type);
std::string_view frameTypeName(uint8_t type);

std::array<uint8_t, kFrameHeaderSize> encodeHeader(const FrameHeader& header);

// Decodes and checks what a header alone can tell: a known type, zero flags, the right kind
// of channel (control types on 0, channel types elsewhere), the fixed payload size of WINDOW,
// CANCEL, PING and PONG, a non-empty DATA payload and the payload limit (maxFramePayload, or
// maxJsonSize for JSON types). Throws Error(Protocol) or Error(Limit) naming the violation.
FrameHeader decodeHeader(std::span<const uint8_t, kFrameHeaderSize> bytes, const Limits& limits);

// True for the types whose payload is a JSON object.
bool isJsonFrame(FrameType type);

// Parses a JSON payload: at most maxJsonSize bytes, nesting at most maxJsonDepth, a JSON
// object. Throws Error(Protocol) for bad JSON or a non-object, Error(Limit) for size/depth.
nlohmann::json parseJsonPayload(std::span<const uint8_t> payload, const Limits& limits);
// Nesting depth of a JSON text ([ and { outside strings), without parsing it; stops counting
// once the depth exceeds `stopAbove` so hostile input costs O(n) at most.
uint32_t jsonNestingDepth(std::span<const uint8_t> text, uint32_t stopAbove);

// Fixed-size payloads.
std::array<uint8_t, 4> encodeU32(uint32_t value);
std::array<uint8_t, 8> encodeU64(uint64_t value);
uint32_t decodeU32(std::span<const uint8_t> payload);  // payload.size() must be 4
uint64_t decodeU64(std::span<const uint8_t> payload);  // payload.size() must be 8

// A whole frame with an owned payload: for control frames, JSON messages and tests.
struct Frame {
  FrameHeader header;
  std::vector<uint8_t> payload;
};

// Builds a frame, filling in the length.
Frame makeFrame(FrameType type, uint32_t channel, std::vector<uint8_t> payload);
Frame makeJsonFrame(FrameType type, uint32_t channel, const nlohmann::json& body);
// Header followed by payload, as on the wire.
std::vector<uint8_t> serialize(const Frame& frame);

// Splits a byte stream into frames (used by the fuzz target and tests; the connection reads
// headers and payloads straight from TLS instead). Feed bytes with append(); next() returns
// a complete frame or nullopt when more bytes are needed; throws like decodeHeader.
class FrameDecoder {
 public:
  explicit FrameDecoder(const Limits& limits) : limits_(limits) {}
  void append(std::span<const uint8_t> bytes);
  std::optional<Frame> next();
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  Limits limits_;
  std::vector<uint8_t> buffer_;
  size_t offset_ = 0;
};

}  // namespace pgbr::protocol
