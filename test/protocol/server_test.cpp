// The server under hostile and misbehaving peers, at its connection limit, and shutting down.
#include "protocol/server.h"

#include "test/protocol/protocol_test_util.h"

#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <random>

using namespace pgbr;
using namespace pgbr::protocol;
using namespace pgbr::test;
using nlohmann::json;

namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

void addEcho(Server& server) {
  server.handle("echo", [](Session&, Channel& channel, const json& request) -> asio::awaitable<void> {
    co_await channel.sendResponse(request);
  });
}

asio::awaitable<bool> goodRequest(Pki& pki, uint16_t port) {
  const auto settings = pki.clientSettings("agent", port);
  auto client = co_await Client::connect(settings);
  const json request = {{"op", "echo"}, {"n", 7}};
  auto response = co_await client.call(request);
  co_await client.close();
  co_return response.at("n") == 7;
}

asio::awaitable<asio::ip::tcp::socket> rawConnect(uint16_t port) {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  co_await socket.async_connect(endpoint, asio::use_awaitable);
  co_return socket;
}

// Reads until the server closes the connection (or it fails).
asio::awaitable<void> waitForClose(asio::ip::tcp::socket& socket) {
  std::array<uint8_t, 4096> buffer{};
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), kTuple);
    if (ec) co_return;
  }
}

// A hostile peer of one of four kinds: random bytes, silent (half-open), a TLS record
// header trickled byte by byte, or an immediate close.
asio::awaitable<void> hostile(uint16_t port, int kind, uint64_t seed) {
  auto socket = co_await rawConnect(port);
  if (kind == 0) {
    std::vector<uint8_t> noise(1 + seed % 3000);
    fillRandom(noise, seed);
    co_await asio::async_write(socket, asio::buffer(noise), kTuple);
    co_await waitForClose(socket);
  } else if (kind == 1) {
    co_await waitForClose(socket);
  } else if (kind == 2) {
    const uint8_t header[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    for (uint8_t byte : header) {
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(&byte, 1), kTuple);
      if (ec) co_return;
      co_await sleepFor(std::chrono::milliseconds(150));
    }
    co_await waitForClose(socket);
  }
}

// A TLS peer that speaks frames directly, to send what a well-behaved Connection never would.
struct RawPeer {
  std::unique_ptr<TlsStream> tls;

  static asio::awaitable<RawPeer> connect(Pki& pki, uint16_t port) {
    auto settings = pki.clientSettings("agent", port);
    auto context = TlsContext::client(settings);
    auto socket = co_await rawConnect(port);
    RawPeer peer{std::make_unique<TlsStream>(std::move(socket), context, Role::Client, "server", "127.0.0.1")};
    co_await peer.tls->handshake();
    Hello hello;
    const auto helloFrame = makeJsonFrame(FrameType::Hello, 0, encodeHello(hello));
    co_await peer.send(helloFrame);
    auto first = co_await peer.receive();
    CHECK(first.header.type == FrameType::Hello);
    co_return peer;
  }
  asio::awaitable<void> send(const Frame& frame) {
    tls->write(serialize(frame));
    co_await tls->flush();
  }
  asio::awaitable<Frame> receive() {
    std::array<uint8_t, kFrameHeaderSize> header{};
    co_await tls->read(header);
    Limits limits;
    Frame frame{decodeHeader(header, limits), {}};
    frame.payload.resize(frame.header.length);
    co_await tls->read(frame.payload);
    co_return frame;
  }
};

}  // namespace

TEST_CASE("1000 hostile connections do not take the server down and a good client is still served") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  // Short enough for a quick test, long enough for the good client on a loaded machine.
  options.limits.handshakeTimeout = std::chrono::milliseconds(3000);
  size_t reported = 0;
  options.onConnectionError = [&](const std::string&, const Error&) { ++reported; };
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  addEcho(server);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    constexpr int kTotal = 1000, kWave = 250;
    int finished = 0;
    bool servedDuringAttack = false;
    for (int wave = 0; wave < kTotal / kWave; ++wave) {
      for (int i = 0; i < kWave; ++i) {
        int n = wave * kWave + i;
        asio::co_spawn(executor, hostile(server.port(), n % 4, static_cast<uint64_t>(n)),
                       [&](std::exception_ptr) { ++finished; });
      }
      if (wave == 1) servedDuringAttack = co_await goodRequest(pki, server.port());
      bool waveDone = co_await eventually([&] { return finished == (wave + 1) * kWave; });
      REQUIRE(waveDone);
    }
    CHECK(servedDuringAttack);
    bool drained = co_await eventually([&] { return server.connectionCount() == 0 && reported == kTotal; });
    CHECK(drained);
    CHECK(reported == kTotal);
    bool served = co_await goodRequest(pki, server.port());
    CHECK(served);
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("a peer that breaks the protocol gets ERROR(protocol) and is closed, others are served") {
  asio::io_context io;
  Pki pki;
  std::vector<Error> errors;
  ServerOptions options;
  options.onConnectionError = [&](const std::string&, const Error& error) { errors.push_back(error); };
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  addEcho(server);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    auto peer = co_await RawPeer::connect(pki, server.port());
    const auto bad = makeFrame(FrameType::Data, 9, {1, 2, 3});
    co_await peer.send(bad);
    auto error = co_await peer.receive();
    CHECK(error.header.type == FrameType::Error);
    CHECK(error.header.channel == 0);
    auto body = parseJsonPayload(error.payload, Limits{});
    CHECK(body.at("code") == static_cast<int>(ErrorCode::Protocol));
    CHECK(body.at("message").get<std::string>().find("never opened") != std::string::npos);
    bool closed = false;
    try {
      co_await peer.receive();
    } catch (const Error&) {
      closed = true;
    }
    CHECK(closed);
    bool served = co_await goodRequest(pki, server.port());
    CHECK(served);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code() == ErrorCode::Protocol);
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("a peer that goes silent is closed after the idle time-out with ERROR(timeout)") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  options.limits.idleTimeout = std::chrono::milliseconds(300);
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    auto peer = co_await RawPeer::connect(pki, server.port());
    Frame frame;
    // The server pings us (a third of our 60 s idle time-out has not passed, so it may not);
    // we never answer and never send anything.
    do frame = co_await peer.receive();
    while (frame.header.type == FrameType::Ping);
    CHECK(frame.header.type == FrameType::Error);
    auto body = parseJsonPayload(frame.payload, Limits{});
    CHECK(body.at("code") == static_cast<int>(ErrorCode::Timeout));
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("connections beyond maxConnections are refused, the ones open keep working") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  options.maxConnections = 2;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  addEcho(server);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto a = co_await Client::connect(settings);
    auto b = co_await Client::connect(settings);
    std::optional<Error> refused;
    try {
      auto c = co_await Client::connect(settings);
    } catch (const Error& e) {
      refused = e;
    }
    REQUIRE(refused);
    CHECK(std::string(refused->what()).find("closed the connection during the TLS handshake") != std::string::npos);
    auto rtt = co_await b.ping();
    CHECK(rtt.count() > 0);
    co_await a.close();
    co_await b.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("graceful shutdown lets a request in flight finish and refuses new work") {
  asio::io_context io;
  Pki pki;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}));
  asio::steady_timer release(io, std::chrono::steady_clock::time_point::max());
  bool handlerStarted = false;
  server.handle("slow", [&](Session&, Channel& channel, const json&) -> asio::awaitable<void> {
    handlerStarted = true;
    co_await release.async_wait(kTuple);
    std::vector<uint8_t> data(100000, 7);
    co_await channel.sendData(data);
    const json trailer = {{"bytes", data.size()}};
    co_await channel.sendEnd(trailer);
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings);
    const json request = {{"op", "slow"}};
    auto channel = co_await client.openChannel(request);
    bool started = co_await eventually([&] { return handlerStarted; });
    REQUIRE(started);
    bool stopped = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          co_await server.stop(std::chrono::seconds(60));
          stopped = true;
        },
        asio::detached);
    bool goAway = co_await eventually([&] { return client.connection().goAwayReceived(); });
    CHECK(goAway);
    std::optional<Error> newChannel;
    try {
      co_await client.openChannel(request);
    } catch (const Error& e) {
      newChannel = e;
    }
    REQUIRE(newChannel);
    CHECK(newChannel->code() == ErrorCode::Cancelled);
    std::optional<Error> newConnection;
    try {
      auto other = co_await Client::connect(settings);
    } catch (const Error& e) {
      newConnection = e;
    }
    REQUIRE(newConnection);
    CHECK(newConnection->code() == ErrorCode::Connect);
    CHECK_FALSE(stopped);
    release.cancel();
    uint64_t received = 0;
    while (auto data = co_await channel.receiveData()) received += data->size();
    CHECK(received == 100000);
    CHECK(channel.trailer().at("bytes") == 100000);
    bool done = co_await eventually([&] { return stopped; });
    CHECK(done);
  });
}

TEST_CASE("graceful shutdown cancels a request that outlives the grace period, cleanly on both sides") {
  asio::io_context io;
  Pki pki;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}));
  bool handlerCancelled = false;
  server.handle("forever", [&](Session&, Channel& channel, const json&) -> asio::awaitable<void> {
    const json response = {{"started", true}};
    co_await channel.sendResponse(response);
    asio::steady_timer never(co_await asio::this_coro::executor, std::chrono::hours(1));
    try {
      co_await never.async_wait(asio::use_awaitable);
    } catch (const std::system_error&) {
      handlerCancelled = true;
      throw;
    }
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings);
    const json request = {{"op", "forever"}};
    auto channel = co_await client.openChannel(request);
    auto response = co_await channel.receiveResponse();
    CHECK(response.at("started") == true);
    co_await server.stop(std::chrono::milliseconds(200));
    CHECK(handlerCancelled);
    std::optional<Error> failure;
    try {
      co_await channel.receive();
    } catch (const Error& e) {
      failure = e;
    }
    REQUIRE(failure);
    CHECK(failure->code() == ErrorCode::Cancelled);
    CHECK(std::string(failure->what()).find("shutting down") != std::string::npos);
  });
}
