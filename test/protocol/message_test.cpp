#include "protocol/message.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::protocol;

TEST_CASE("HELLO round trips with its limits") {
  Hello hello;
  hello.software = "pgbr-agent 0.1.0";
  hello.capabilities = {"x"};
  hello.limits.maxChannels = 7;
  hello.limits.idleTimeout = std::chrono::milliseconds(1234);
  auto back = decodeHello(encodeHello(hello));
  CHECK(back.versions == hello.versions);
  CHECK(back.software == hello.software);
  CHECK(back.capabilities == hello.capabilities);
  CHECK(back.limits.maxChannels == 7);
  CHECK(back.limits.idleTimeout.count() == 1234);
  CHECK(back.limits.channelWindow == hello.limits.channelWindow);
}

TEST_CASE("HELLO with missing fields or limits out of range is refused") {
  auto good = encodeHello(Hello{});
  auto missing = good;
  missing.erase("versions");
  CHECK_THROWS_WITH_AS(decodeHello(missing), doctest::Contains("no 'versions'"), Error);
  auto wrongType = good;
  wrongType["software"] = 5;
  CHECK_THROWS_WITH_AS(decodeHello(wrongType), doctest::Contains("wrong type"), Error);
  auto tiny = good;
  tiny["limits"]["maxFramePayload"] = 10;
  CHECK_THROWS_WITH_AS(decodeHello(tiny), doctest::Contains("outside the accepted range"), Error);
  auto huge = good;
  huge["limits"]["channelWindow"] = 1ull << 40;
  CHECK_THROWS_AS(decodeHello(huge), Error);
}

TEST_CASE("version negotiation picks the highest common version or fails clearly") {
  Hello a, b;
  a.versions = {1, 2, 3};
  b.versions = {2, 3, 4};
  CHECK(negotiateVersion(a, b) == 3);
  b.versions = {9};
  b.software = "pgbr 9";
  CHECK_THROWS_WITH_AS(negotiateVersion(a, b), doctest::Contains("no common protocol version"), Error);
}

TEST_CASE("ERROR bodies carry pgbr error codes") {
  auto body = encodeError(Error(ErrorCode::Auth, "no"));
  CHECK(body["code"] == 42);
  auto e = decodeError(body, "server");
  CHECK(e.code() == ErrorCode::Auth);
  CHECK(std::string(e.what()) == "server: no");
  CHECK(decodeError({{"code", 12345}, {"message", "?"}}, "x").code() == ErrorCode::Unknown);
  CHECK_THROWS_AS(decodeError({{"code", "x"}}, "x"), Error);
}

TEST_CASE("GOAWAY round trips") {
  auto g = decodeGoAway(encodeGoAway({.lastChannel = 9, .message = "bye"}));
  CHECK(g.lastChannel == 9);
  CHECK(g.message == "bye");
}
