#include "protocol/protocol_state.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::protocol;

namespace {

FrameHeader frame(FrameType type, uint32_t channel, uint32_t length = 0) {
  return {.length = length, .type = type, .flags = 0, .channel = channel};
}

Limits small() {
  Limits l;
  l.maxChannels = 2;
  l.channelWindow = 100;
  l.connectionWindow = 150;
  return l;
}

// A server that has seen the client's HELLO announcing the same limits.
ProtocolState server() {
  ProtocolState s(Role::Server, small());
  CHECK(s.receive(frame(FrameType::Hello, 0, 10)));
  s.setPeerLimits(small());
  return s;
}

void checkRefused(ProtocolState& s, const FrameHeader& h, const char* text, ErrorCode code = ErrorCode::Protocol) {
  try {
    s.receive(h);
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == code);
    CHECK_MESSAGE(std::string(e.what()).find(text) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_CASE("frames before HELLO are refused, a second HELLO is refused") {
  ProtocolState s(Role::Server, small());
  checkRefused(s, frame(FrameType::Request, 1, 5), "before HELLO");
  CHECK(s.receive(frame(FrameType::Hello, 0, 5)));
  checkRefused(s, frame(FrameType::Hello, 0, 5), "second HELLO");
}

TEST_CASE("DATA on a channel never opened closes the connection") {
  auto s = server();
  checkRefused(s, frame(FrameType::Data, 7, 1), "never opened");
}

TEST_CASE("REQUEST ids must grow, REQUEST from the server is refused") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 3, 2)));
  checkRefused(s, frame(FrameType::Request, 3, 2), "not above the highest");
  checkRefused(s, frame(FrameType::Request, 2, 2), "not above the highest");
  ProtocolState client(Role::Client, small());
  CHECK(client.receive(frame(FrameType::Hello, 0, 2)));
  checkRefused(client, frame(FrameType::Request, 1, 2), "REQUEST frame from the server");
}

TEST_CASE("more channels than maxChannels is a Limit error") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  CHECK(s.receive(frame(FrameType::Request, 2, 2)));
  checkRefused(s, frame(FrameType::Request, 3, 2), "more than 2 channels", ErrorCode::Limit);
}

TEST_CASE("DATA beyond the channel's or the connection's credit is refused") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  CHECK(s.receive(frame(FrameType::Data, 1, 60)));
  checkRefused(s, frame(FrameType::Data, 1, 41), "exceeds its flow-control credit");
  CHECK(s.receive(frame(FrameType::Data, 1, 40)));
  CHECK(s.receive(frame(FrameType::Request, 2, 2)));
  // Channel 2 has 100 of its own but the connection only 50 left.
  checkRefused(s, frame(FrameType::Data, 2, 51), "connection's credit");
}

TEST_CASE("consumed data returns credit in quarter-window batches") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  CHECK(s.receive(frame(FrameType::Data, 1, 100)));
  auto r = s.consumed(1, 10);
  CHECK(r.channel == 0);
  CHECK(r.connection == 0);
  r = s.consumed(1, 20);
  CHECK(r.channel == 30);    // >= 100/4
  CHECK(r.connection == 0);  // 30 < 150/4 = 37
  r = s.consumed(1, 10);
  CHECK(r.connection == 40);
  CHECK(s.receive(frame(FrameType::Data, 1, 30)));
  checkRefused(s, frame(FrameType::Data, 1, 1), "flow-control credit");
}

TEST_CASE("END closes a half, DATA after END and a second END are refused") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  CHECK(s.receive(frame(FrameType::End, 1, 2)));
  CHECK(s.isOpen(1));
  CHECK(s.remoteEnded(1));
  checkRefused(s, frame(FrameType::Data, 1, 1), "DATA after END");
  checkRefused(s, frame(FrameType::End, 1, 2), "second END");
  s.sent(frame(FrameType::End, 1, 2));
  CHECK_FALSE(s.isOpen(1));
}

TEST_CASE("frames that cross our CANCEL are dropped but still use connection credit") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  s.sent(frame(FrameType::Cancel, 1));
  CHECK_FALSE(s.isOpen(1));
  CHECK_FALSE(s.receive(frame(FrameType::Data, 1, 100)));
  CHECK_FALSE(s.receive(frame(FrameType::End, 1, 2)));
  checkRefused(s, frame(FrameType::Data, 1, 51), "connection's credit");
}

TEST_CASE("RESPONSE only from the server, once, before END") {
  ProtocolState c(Role::Client, small());
  CHECK(c.receive(frame(FrameType::Hello, 0, 2)));
  c.setPeerLimits(small());
  REQUIRE(c.canOpen());
  auto id = c.openChannel();
  CHECK(c.receive(frame(FrameType::Response, id, 2)));
  checkRefused(c, frame(FrameType::Response, id, 2), "second RESPONSE");
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  checkRefused(s, frame(FrameType::Response, 1, 2), "RESPONSE frame from the client");
}

TEST_CASE("sending respects credit, WINDOW adds credit and may not overflow") {
  auto s = server();
  CHECK(s.receive(frame(FrameType::Request, 1, 2)));
  CHECK(s.sendCredit(1) == 100);
  s.sent(frame(FrameType::Data, 1, 100));
  CHECK(s.sendCredit(1) == 0);
  CHECK_THROWS_AS(s.sent(frame(FrameType::Data, 1, 1)), Error);
  s.addSendCredit(1, 20);
  CHECK(s.sendCredit(1) == 20);
  s.addSendCredit(0, 1000);
  CHECK_THROWS_AS(s.addSendCredit(1, kMaxWindow), Error);
  CHECK_THROWS_AS(s.addSendCredit(1, 0), Error);
  s.unsent(10);
}

TEST_CASE("the client waits for a free channel when the server's maxChannels are open") {
  ProtocolState c(Role::Client, small());
  CHECK_FALSE(c.canOpen());  // no HELLO yet
  CHECK(c.receive(frame(FrameType::Hello, 0, 2)));
  c.setPeerLimits(small());
  auto a = c.openChannel();
  c.openChannel();
  CHECK_FALSE(c.canOpen());
  c.sent(frame(FrameType::Cancel, a));
  CHECK(c.canOpen());
}
