#include "protocol/frame.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

namespace pgbr::protocol {
namespace {

constexpr uint8_t kMaxType = static_cast<uint8_t>(FrameType::GoAway);

bool isControlOnly(FrameType type) {
  return type == FrameType::Hello || type == FrameType::Ping || type == FrameType::Pong || type == FrameType::GoAway;
}

// Frame types allowed on channel 0 besides the control-only ones.
bool allowedOnControl(FrameType type) {
  return isControlOnly(type) || type == FrameType::Window || type == FrameType::Error;
}

void put32(uint8_t* out, uint32_t value) {
  out[0] = static_cast<uint8_t>(value >> 24);
  out[1] = static_cast<uint8_t>(value >> 16);
  out[2] = static_cast<uint8_t>(value >> 8);
  out[3] = static_cast<uint8_t>(value);
}

uint32_t get32(const uint8_t* in) {
  return (uint32_t{in[0]} << 24) | (uint32_t{in[1]} << 16) | (uint32_t{in[2]} << 8) | uint32_t{in[3]};
}

}  // namespace

std::string_view frameTypeName(FrameType type) { return frameTypeName(static_cast<uint8_t>(type)); }

std::string_view frameTypeName(uint8_t type) {
  static constexpr std::string_view kNames[] = {"",      "HELLO",  "REQUEST", "RESPONSE", "DATA", "END",
                                                "ERROR", "WINDOW", "CANCEL",  "PING",     "PONG", "GOAWAY"};
  if (type >= 1 && type <= kMaxType) return kNames[type];
  return "unknown type";
}

std::array<uint8_t, kFrameHeaderSize> encodeHeader(const FrameHeader& header) {
  std::array<uint8_t, kFrameHeaderSize> out{};
  put32(out.data(), header.length);
  out[4] = static_cast<uint8_t>(header.type);
  out[5] = header.flags;
  put32(out.data() + 6, header.channel);
  return out;
}

bool isJsonFrame(FrameType type) {
  switch (type) {
    case FrameType::Hello:
    case FrameType::Request:
    case FrameType::Response:
    case FrameType::End:
    case FrameType::Error:
    case FrameType::GoAway:
      return true;
    default:
      return false;
  }
}

FrameHeader decodeHeader(std::span<const uint8_t, kFrameHeaderSize> bytes, const Limits& limits) {
  FrameHeader header;
  header.length = get32(bytes.data());
  uint8_t type = bytes[4];
  header.flags = bytes[5];
  header.channel = get32(bytes.data() + 6);
  if (type < 1 || type > kMaxType)
    fail(ErrorCode::Protocol, "unknown frame type {} on channel {}", type, header.channel);
  header.type = static_cast<FrameType>(type);
  auto name = frameTypeName(type);
  if (header.flags != 0) fail(ErrorCode::Protocol, "{} frame with unknown flags 0x{:02x}", name, header.flags);
  if (header.channel == kControlChannel && !allowedOnControl(header.type))
    fail(ErrorCode::Protocol, "{} frame on the control channel 0", name);
  if (header.channel != kControlChannel && isControlOnly(header.type))
    fail(ErrorCode::Protocol, "{} frame on channel {} (allowed only on channel 0)", name, header.channel);
  std::optional<uint32_t> fixed;
  switch (header.type) {
    case FrameType::Window:
      fixed = 4;
      break;
    case FrameType::Cancel:
      fixed = 0;
      break;
    case FrameType::Ping:
    case FrameType::Pong:
      fixed = 8;
      break;
    default:
      break;
  }
  if (fixed && header.length != *fixed)
    fail(ErrorCode::Protocol, "{} frame on channel {} has a {}-byte payload (must be {})", name, header.channel,
         header.length, *fixed);
  if (header.type == FrameType::Data && header.length == 0)
    fail(ErrorCode::Protocol, "empty DATA frame on channel {}", header.channel);
  uint32_t max = isJsonFrame(header.type) ? limits.maxJsonSize : limits.maxFramePayload;
  if (header.length > max)
    fail(ErrorCode::Limit, "{} frame on channel {} has a {}-byte payload, above the limit of {} bytes", name,
         header.channel, header.length, max);
  return header;
}

uint32_t jsonNestingDepth(std::span<const uint8_t> text, uint32_t stopAbove) {
  uint32_t depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (uint8_t c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > stopAbove) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parseJsonPayload(std::span<const uint8_t> payload, const Limits& limits) {
  if (payload.size() > limits.maxJsonSize)
    fail(ErrorCode::Limit, "JSON message of {} bytes is above the limit of {} bytes", payload.size(),
         limits.maxJsonSize);
  if (jsonNestingDepth(payload, limits.maxJsonDepth) > limits.maxJsonDepth)
    fail(ErrorCode::Limit, "JSON message nests deeper than the limit of {} levels", limits.maxJsonDepth);
  auto json = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (json.is_discarded()) fail(ErrorCode::Protocol, "message is not valid JSON");
  if (!json.is_object()) fail(ErrorCode::Protocol, "message is JSON but not an object");
  return json;
}

std::array<uint8_t, 4> encodeU32(uint32_t value) {
  std::array<uint8_t, 4> out{};
  put32(out.data(), value);
  return out;
}

std::array<uint8_t, 8> encodeU64(uint64_t value) {
  std::array<uint8_t, 8> out{};
  put32(out.data(), static_cast<uint32_t>(value >> 32));
  put32(out.data() + 4, static_cast<uint32_t>(value));
  return out;
}

uint32_t decodeU32(std::span<const uint8_t> payload) { return get32(payload.data()); }

uint64_t decodeU64(std::span<const uint8_t> payload) {
  return (uint64_t{get32(payload.data())} << 32) | get32(payload.data() + 4);
}

Frame makeFrame(FrameType type, uint32_t channel, std::vector<uint8_t> payload) {
  Frame frame;
  frame.header = {.length = static_cast<uint32_t>(payload.size()), .type = type, .flags = 0, .channel = channel};
  frame.payload = std::move(payload);
  return frame;
}

Frame makeJsonFrame(FrameType type, uint32_t channel, const nlohmann::json& body) {
  auto text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return makeFrame(type, channel, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> serialize(const Frame& frame) {
  auto header = encodeHeader(frame.header);
  std::vector<uint8_t> out(kFrameHeaderSize + frame.payload.size());
  std::copy(header.begin(), header.end(), out.begin());
  std::copy(frame.payload.begin(), frame.payload.end(), out.begin() + kFrameHeaderSize);
  return out;
}

void FrameDecoder::append(std::span<const uint8_t> bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Frame> FrameDecoder::next() {
  if (buffered() < kFrameHeaderSize) return std::nullopt;
  auto header =
      decodeHeader(std::span<const uint8_t, kFrameHeaderSize>(buffer_.data() + offset_, kFrameHeaderSize), limits_);
  if (buffered() < kFrameHeaderSize + header.length) return std::nullopt;
  auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(offset_ + kFrameHeaderSize);
  Frame frame{header, std::vector<uint8_t>(begin, begin + header.length)};
  offset_ += kFrameHeaderSize + header.length;
  return frame;
}

}  // namespace pgbr::protocol
