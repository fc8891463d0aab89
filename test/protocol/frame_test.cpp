#include "protocol/frame.h"

#include "common/error.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace pgbr;
using namespace pgbr::protocol;

namespace {

std::span<const uint8_t, kFrameHeaderSize> headerOf(const std::vector<uint8_t>& bytes) {
  return std::span<const uint8_t, kFrameHeaderSize>(bytes.data(), kFrameHeaderSize);
}

std::vector<uint8_t> rawHeader(uint32_t length, uint8_t type, uint8_t flags, uint32_t channel) {
  FrameHeader h{.length = length, .type = FrameType::Hello, .flags = flags, .channel = channel};
  auto bytes = encodeHeader(h);
  bytes[4] = type;
  return {bytes.begin(), bytes.end()};
}

std::span<const uint8_t> bytesOf(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

TEST_CASE("frame header round trip is big-endian and 10 bytes") {
  FrameHeader h{.length = 0x01020304, .type = FrameType::Data, .flags = 0, .channel = 0x0a0b0c0d};
  auto bytes = encodeHeader(h);
  CHECK(std::vector<uint8_t>(bytes.begin(), bytes.end()) ==
        std::vector<uint8_t>{0x01, 0x02, 0x03, 0x04, 0x04, 0x00, 0x0a, 0x0b, 0x0c, 0x0d});
  Limits limits;
  limits.maxFramePayload = 0x02000000;
  auto back = decodeHeader(bytes, limits);
  CHECK(back.length == h.length);
  CHECK(back.type == FrameType::Data);
  CHECK(back.channel == h.channel);
}

TEST_CASE("every frame type round trips through the decoder") {
  Limits limits;
  std::vector<Frame> frames{
      makeJsonFrame(FrameType::Hello, 0, {{"versions", {1}}}),
      makeJsonFrame(FrameType::Request, 1, {{"op", "x"}}),
      makeJsonFrame(FrameType::Response, 1, {{"ok", true}}),
      makeFrame(FrameType::Data, 1, {1, 2, 3}),
      makeJsonFrame(FrameType::End, 1, nlohmann::json::object()),
      makeJsonFrame(FrameType::Error, 1, {{"code", 40}, {"message", "m"}}),
      makeFrame(FrameType::Window, 1, {0, 0, 1, 0}),
      makeFrame(FrameType::Cancel, 1, {}),
      makeFrame(FrameType::Ping, 0, {1, 2, 3, 4, 5, 6, 7, 8}),
      makeFrame(FrameType::Pong, 0, {1, 2, 3, 4, 5, 6, 7, 8}),
      makeJsonFrame(FrameType::GoAway, 0, {{"lastChannel", 1}, {"message", "bye"}}),
  };
  FrameDecoder decoder(limits);
  for (const auto& f : frames) {
    auto bytes = serialize(f);
    // Byte by byte: a partial frame yields nothing until it is complete.
    for (size_t i = 0; i < bytes.size(); ++i) {
      CHECK_FALSE(decoder.next());
      decoder.append(std::span<const uint8_t>(&bytes[i], 1));
    }
    auto got = decoder.next();
    REQUIRE(got);
    CHECK(got->header.type == f.header.type);
    CHECK(got->header.channel == f.header.channel);
    CHECK(got->payload == f.payload);
    if (isJsonFrame(f.header.type)) CHECK(parseJsonPayload(got->payload, limits).is_object());
  }
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("u32 and u64 payloads round trip") {
  auto a = encodeU32(0xdeadbeef);
  CHECK(decodeU32(a) == 0xdeadbeef);
  auto b = encodeU64(0x0123456789abcdefull);
  CHECK(decodeU64(b) == 0x0123456789abcdefull);
}

TEST_CASE("unknown frame types are rejected") {
  Limits limits;
  for (uint8_t type : {uint8_t{0}, uint8_t{12}, uint8_t{255}}) {
    auto bytes = rawHeader(0, type, 0, 1);
    CHECK_THROWS_WITH_AS(decodeHeader(headerOf(bytes), limits), doctest::Contains("unknown frame type"), Error);
  }
}

TEST_CASE("non-zero flags are rejected") {
  auto bytes = rawHeader(0, static_cast<uint8_t>(FrameType::Cancel), 0x80, 1);
  CHECK_THROWS_WITH_AS(decodeHeader(headerOf(bytes), Limits{}), doctest::Contains("unknown flags"), Error);
}

TEST_CASE("frame types on the wrong kind of channel are rejected") {
  Limits limits;
  for (auto type : {FrameType::Request, FrameType::Response, FrameType::Data, FrameType::End, FrameType::Cancel}) {
    auto bytes = rawHeader(type == FrameType::Cancel ? 0 : 2, static_cast<uint8_t>(type), 0, 0);
    CHECK_THROWS_WITH_AS(decodeHeader(headerOf(bytes), limits), doctest::Contains("control channel 0"), Error);
  }
  for (auto type : {FrameType::Hello, FrameType::Ping, FrameType::Pong, FrameType::GoAway}) {
    auto bytes =
        rawHeader(type == FrameType::Hello || type == FrameType::GoAway ? 2 : 8, static_cast<uint8_t>(type), 0, 5);
    CHECK_THROWS_WITH_AS(decodeHeader(headerOf(bytes), limits), doctest::Contains("allowed only on channel 0"), Error);
  }
}

TEST_CASE("fixed-size payloads must have their size, DATA must not be empty") {
  Limits limits;
  auto window = rawHeader(3, static_cast<uint8_t>(FrameType::Window), 0, 1);
  CHECK_THROWS_WITH_AS(decodeHeader(headerOf(window), limits), doctest::Contains("must be 4"), Error);
  auto cancel = rawHeader(1, static_cast<uint8_t>(FrameType::Cancel), 0, 1);
  CHECK_THROWS_WITH_AS(decodeHeader(headerOf(cancel), limits), doctest::Contains("must be 0"), Error);
  auto ping = rawHeader(9, static_cast<uint8_t>(FrameType::Ping), 0, 0);
  CHECK_THROWS_WITH_AS(decodeHeader(headerOf(ping), limits), doctest::Contains("must be 8"), Error);
  auto data = rawHeader(0, static_cast<uint8_t>(FrameType::Data), 0, 1);
  CHECK_THROWS_WITH_AS(decodeHeader(headerOf(data), limits), doctest::Contains("empty DATA"), Error);
}

TEST_CASE("oversized frames are rejected with a Limit error before their payload is read") {
  Limits limits;
  limits.maxFramePayload = 1000;
  limits.maxJsonSize = 100;
  auto data = rawHeader(1001, static_cast<uint8_t>(FrameType::Data), 0, 1);
  try {
    decodeHeader(headerOf(data), limits);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Limit);
    CHECK(std::string(e.what()).find("above the limit of 1000 bytes") != std::string::npos);
  }
  auto json = rawHeader(101, static_cast<uint8_t>(FrameType::Request), 0, 1);
  CHECK_THROWS_AS(decodeHeader(headerOf(json), limits), Error);
  // A 4 GiB length claim is refused too.
  auto huge = rawHeader(0xffffffff, static_cast<uint8_t>(FrameType::Data), 0, 1);
  CHECK_THROWS_AS(decodeHeader(headerOf(huge), limits), Error);
}

TEST_CASE("truncated frames yield nothing from the decoder") {
  Limits limits;
  auto bytes = serialize(makeJsonFrame(FrameType::Request, 1, {{"op", "info"}}));
  FrameDecoder decoder(limits);
  decoder.append(std::span<const uint8_t>(bytes).first(bytes.size() - 1));
  CHECK_FALSE(decoder.next());
  CHECK(decoder.buffered() == bytes.size() - 1);
}

TEST_CASE("bad JSON payloads are rejected") {
  Limits limits;
  for (std::string text : {"", "{", "{\"a\":}", "[1,2]", "\"just a string\"", "{\"a\":1}x", "{\"bad\":\"\xff\"}"}) {
    CAPTURE(text);
    try {
      parseJsonPayload(bytesOf(text), limits);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Protocol);
    }
  }
  CHECK(parseJsonPayload(bytesOf("{\"op\":\"x\",\"n\":[1,{\"y\":null}]}"), limits)["op"] == "x");
}

TEST_CASE("JSON nesting deeper than the limit is rejected without parsing") {
  Limits limits;
  limits.maxJsonDepth = 8;
  std::string ok = "{\"a\":" + std::string(6, '[') + std::string(6, ']') + "}";
  std::string deep = "{\"a\":" + std::string(8, '[') + std::string(8, ']') + "}";
  CHECK_NOTHROW(parseJsonPayload(bytesOf(ok), limits));
  try {
    parseJsonPayload(bytesOf(deep), limits);
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Limit);
  }
  // Brackets inside strings do not count, escaped quotes do not end strings.
  std::string quoted = "{\"a\":\"[[[[[[[[[[\\\"[[[[[[[[\"}";
  CHECK_NOTHROW(parseJsonPayload(bytesOf(quoted), limits));
  // A million opening brackets cost one pass.
  std::string hostile(1'000'000, '[');
  limits.maxJsonSize = 2'000'000;
  CHECK_THROWS_AS(parseJsonPayload(bytesOf(hostile), limits), Error);
}

TEST_CASE("JSON larger than maxJsonSize is rejected") {
  Limits limits;
  limits.maxJsonSize = 16;
  CHECK_THROWS_AS(parseJsonPayload(bytesOf("{\"a\":\"0123456789abcdef\"}"), limits), Error);
}
