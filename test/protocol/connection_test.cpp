#include "protocol/connection.h"

#include "test/protocol/protocol_test_util.h"

#include <asio/detached.hpp>

#include <atomic>
#include <mutex>

using namespace pgbr;
using namespace pgbr::protocol;
using namespace pgbr::test;
using nlohmann::json;

namespace {

constexpr size_t kChunk = 256 * 1024;

// Handlers used by several tests: "upload" hashes what it receives, "download" sends `size`
// bytes made from `seed` with the hash in the END trailer.
void addTransferHandlers(Server& server) {
  server.handle("upload", [](Session&, Channel& channel, const json&) -> asio::awaitable<void> {
    Sha256 sha;
    uint64_t bytes = 0;
    while (auto data = co_await channel.receiveData()) {
      sha.update(*data);
      bytes += data->size();
      channel.recycle(std::move(*data));
    }
    const json response = {{"sha256", sha.hex()}, {"bytes", bytes}};
    co_await channel.sendResponse(response);
  });
  server.handle("download", [](Session&, Channel& channel, const json& request) -> asio::awaitable<void> {
    uint64_t size = request.at("size"), seed = request.at("seed");
    const json response = {{"size", size}};
    co_await channel.sendResponse(response);
    std::vector<uint8_t> chunk(kChunk);
    Sha256 sha;
    for (uint64_t offset = 0, i = 0; offset < size; offset += kChunk, ++i) {
      auto part = std::span<uint8_t>(chunk).first(std::min<uint64_t>(kChunk, size - offset));
      fillRandom(part, seed * 100000 + i);
      sha.update(part);
      co_await channel.sendData(part);
    }
    const json trailer = {{"sha256", sha.hex()}};
    co_await channel.sendEnd(trailer);
  });
}

asio::awaitable<std::string> upload(Channel& channel, uint64_t size, uint64_t seed, uint64_t cancelAfter = 0) {
  std::vector<uint8_t> chunk(kChunk);
  Sha256 sha;
  for (uint64_t offset = 0, i = 0; offset < size; offset += kChunk, ++i) {
    if (cancelAfter && offset >= cancelAfter) {
      channel.cancel();
      co_return "cancelled";
    }
    auto part = std::span<uint8_t>(chunk).first(std::min<uint64_t>(kChunk, size - offset));
    fillRandom(part, seed * 100000 + i);
    sha.update(part);
    co_await channel.sendData(part);
  }
  co_await channel.sendEnd();
  auto response = co_await channel.receiveResponse();
  CHECK(response.at("bytes") == size);
  auto end = co_await channel.receiveData();  // the server's END
  CHECK(!end);
  auto mine = sha.hex();
  co_return response.at("sha256") == mine ? mine : "mismatch";
}

asio::awaitable<std::string> download(Channel& channel, uint64_t size, uint64_t cancelAfter = 0) {
  auto response = co_await channel.receiveResponse();
  CHECK(response.at("size") == size);
  Sha256 sha;
  uint64_t received = 0;
  while (auto data = co_await channel.receiveData()) {
    sha.update(*data);
    received += data->size();
    if (cancelAfter && received >= cancelAfter) {
      channel.cancel();
      bool threw = false;
      try {
        co_await channel.receive();
      } catch (const Error&) {
        threw = true;
      }
      CHECK(threw);
      co_return "cancelled";
    }
  }
  CHECK(received == size);
  auto mine = sha.hex();
  co_return channel.trailer().at("sha256") == mine ? mine : "mismatch";
}

}  // namespace

TEST_CASE("100 channels on one connection each move 8 MiB intact, cancelling two leaves the others unaffected") {
  asio::io_context io;
  Pki pki;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}));
  addTransferHandlers(server);
  server.start();
  constexpr int kChannels = 100;
  constexpr uint64_t kSize = 8 * 1024 * 1024;
  runTest(
      io,
      [&]() -> asio::awaitable<void> {
        const auto settings = pki.clientSettings("agent", server.port());
        auto client = co_await Client::connect(settings);
        auto executor = co_await asio::this_coro::executor;
        std::vector<std::string> results(kChannels);
        int done = 0;
        for (int i = 0; i < kChannels; ++i) {
          asio::co_spawn(
              executor,
              [&, i]() -> asio::awaitable<void> {
                bool up = i % 2 == 0;
                uint64_t cancelAfter = (i == 14 || i == 15) ? 3 * kChunk : 0;
                const json request =
                    up ? json{{"op", "upload"}} : json{{"op", "download"}, {"size", kSize}, {"seed", i}};
                auto channel = co_await client.openChannel(request);
                std::string result;
                if (up)
                  result = co_await upload(channel, kSize, i, cancelAfter);
                else
                  result = co_await download(channel, kSize, cancelAfter);
                results[i] = result;
              },
              [&, i](std::exception_ptr e) {
                if (e) {
                  try {
                    std::rethrow_exception(e);
                  } catch (const std::exception& error) {
                    results[i] = std::string("error: ") + error.what();
                  }
                }
                ++done;
              });
        }
        bool allDone = co_await eventually([&] { return done == kChannels; }, std::chrono::seconds(90));
        CHECK(allDone);
        for (int i = 0; i < kChannels; ++i) {
          CAPTURE(i);
          if (i == 14 || i == 15)
            CHECK(results[i] == "cancelled");
          else
            CHECK(results[i].size() == 64);
        }
        auto stats = client.connection().stats();
        CHECK(stats.openChannels == 0);
        CHECK(stats.receiveBufferedBytes == 0);
        CHECK(stats.dataBytesReceived >= 49 * kSize);
        co_await client.close();
        co_await server.stop(std::chrono::seconds(5));
      },
      2);
}

TEST_CASE("a reader that stops reading bounds the sender's buffered bytes by the window") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  options.limits.channelWindow = 256 * 1024;
  options.limits.connectionWindow = 1024 * 1024;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  Connection* serverConnection = nullptr;
  asio::steady_timer release(io, std::chrono::steady_clock::time_point::max());
  server.handle("stall", [&](Session& session, Channel& channel, const json&) -> asio::awaitable<void> {
    serverConnection = &session.connection();
    co_await release.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    uint64_t bytes = 0;
    while (auto data = co_await channel.receiveData()) bytes += data->size();
    const json response = {{"bytes", bytes}};
    co_await channel.sendResponse(response);
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings);
    const json request = {{"op", "stall"}};
    auto channel = co_await client.openChannel(request);
    constexpr size_t kPiece = 64 * 1024;
    constexpr size_t kTotal = 4 * 1024 * 1024;
    size_t accepted = 0;
    bool sent = false;
    std::vector<uint8_t> piece(kPiece, 0x5a);
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          for (size_t total = 0; total < kTotal; total += kPiece) {
            co_await channel.sendData(piece);
            accepted += kPiece;
          }
          co_await channel.sendEnd();
          sent = true;
        },
        asio::detached);
    bool full = co_await eventually(
        [&] { return serverConnection && serverConnection->stats().receiveBufferedBytes == 256 * 1024; });
    CHECK(full);
    // Give the sender every chance to overrun the window; it must not.
    co_await sleepFor(std::chrono::milliseconds(300));
    CHECK(serverConnection->stats().receiveBufferedBytes == 256 * 1024);
    CHECK(accepted <= 256 * 1024);
    CHECK(client.connection().stats().sendBufferedBytes <= kPiece);
    CHECK_FALSE(sent);
    release.cancel();
    bool allSent = co_await eventually([&] { return sent; });
    CHECK(allSent);
    auto response = co_await channel.receiveResponse();
    CHECK(response.at("bytes") == kTotal);
    co_await client.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("an unknown op or a failing handler ends only that channel, with the handler's error code") {
  asio::io_context io;
  Pki pki;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}));
  addTransferHandlers(server);
  server.handle("missing", [](Session&, Channel&, const json&) -> asio::awaitable<void> {
    fail(ErrorCode::StanzaMissing, "stanza 'main' does not exist");
    co_return;
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings);
    const json unknownRequest = {{"op", "nope"}};
    auto unknown = co_await client.openChannel(unknownRequest);
    try {
      co_await unknown.receiveResponse();
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Protocol);
      CHECK(std::string(e.what()).find("unknown request op 'nope'") != std::string::npos);
    }
    const json missingRequest = {{"op", "missing"}};
    auto missing = co_await client.openChannel(missingRequest);
    try {
      co_await missing.receiveResponse();
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::StanzaMissing);
      CHECK(std::string(e.what()).find("stanza 'main' does not exist") != std::string::npos);
    }
    const json goodRequest = {{"op", "download"}, {"size", 1000}, {"seed", 1}};
    auto good = co_await client.openChannel(goodRequest);
    std::string hash = co_await download(good, 1000);
    CHECK(hash.size() == 64);
    auto rtt = co_await client.ping();
    CHECK(rtt.count() > 0);
    co_await client.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("PINGs keep an idle connection alive past the idle time-out") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  // Generous: keep-alive PINGs go out every third of this, even on a loaded machine.
  options.limits.idleTimeout = std::chrono::milliseconds(1500);
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  addTransferHandlers(server);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    ClientOptions clientOptions;
    clientOptions.limits.idleTimeout = std::chrono::milliseconds(1500);
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings, clientOptions);
    co_await sleepFor(std::chrono::milliseconds(5000));
    CHECK(client.connection().isOpen());
    const json request = {{"op", "download"}, {"size", 10}, {"seed", 2}};
    auto channel = co_await client.openChannel(request);
    std::string hash = co_await download(channel, 10);
    CHECK(hash.size() == 64);
    co_await client.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("a JSON message above the peer's limit is refused before it is sent") {
  asio::io_context io;
  Pki pki;
  ServerOptions options;
  options.limits.maxJsonSize = 16 * 1024;
  Server server(io, pki.serverSettings({{"agent", {"*"}}}), options);
  addTransferHandlers(server);
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    const auto settings = pki.clientSettings("agent", server.port());
    auto client = co_await Client::connect(settings);
    try {
      const json oversized = {{"op", "upload"}, {"pad", std::string(20000, 'x')}};
      co_await client.openChannel(oversized);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Limit);
    }
    CHECK(client.connection().isOpen());
    co_await client.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}
