// protocol_throughput: how fast DATA moves over one TLS connection on this machine. The server
// and the client each run on their own io_context thread in this process; the client uploads
// through one channel, then through many channels at once, and the tool prints MB/s and the
// CPU used (100% = one core). Not a test: run it by hand, e.g.
//   build/test-bin/protocol_throughput            (1 GiB through 1 channel, then 16)
//   build/test-bin/protocol_throughput 4096 64    (4 GiB through 1 channel, then 64)
#include "protocol/client.h"
#include "protocol/server.h"
#include "test/support/certs.h"
#include "test/support/temp_dir.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

using namespace pgbr;
using namespace pgbr::protocol;
using nlohmann::json;

namespace {

constexpr size_t kChunk = 1024 * 1024;

double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

asio::awaitable<void> uploadOne(Client& client, const std::vector<uint8_t>& buffer, uint64_t bytes) {
  const json request = {{"op", "sink"}};
  auto channel = co_await client.openChannel(request);
  for (uint64_t sent = 0; sent < bytes; sent += kChunk)
    co_await channel.sendData(std::span<const uint8_t>(buffer).first(std::min<uint64_t>(kChunk, bytes - sent)));
  co_await channel.sendEnd();
  auto response = co_await channel.receiveResponse();
  if (response.at("bytes") != bytes) fail(ErrorCode::Internal, "server received {} bytes", response.dump());
}

// Uploads `total` bytes split over `channels` channels at once; returns when all are done.
asio::awaitable<void> upload(Client& client, const std::vector<uint8_t>& buffer, uint64_t total, int channels) {
  auto executor = co_await asio::this_coro::executor;
  int done = 0;
  std::exception_ptr failure;
  for (int i = 0; i < channels; ++i)
    asio::co_spawn(executor, uploadOne(client, buffer, total / static_cast<uint64_t>(channels)),
                   [&](std::exception_ptr e) {
                     if (e) failure = e;
                     ++done;
                   });
  asio::steady_timer timer(executor);
  while (done < channels) {
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t megabytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  int many = argc > 2 ? std::atoi(argv[2]) : 16;
  uint64_t total = megabytes * 1024 * 1024;

  test::TempDir dir("pgbr-throughput");
  test::TestCa ca(dir.path());
  auto serverFiles = ca.server();
  auto clientFiles = ca.client("bench");

  asio::io_context serverIo;
  auto guard = asio::make_work_guard(serverIo);
  Server server(serverIo, {.address = "127.0.0.1",
                           .port = 0,
                           .caFile = ca.certFile(),
                           .certFile = serverFiles.cert,
                           .keyFile = serverFiles.key,
                           .auth = {{"bench", {"*"}}}});
  server.handle("sink", [](Session&, Channel& channel, const json&) -> asio::awaitable<void> {
    uint64_t bytes = 0;
    while (auto data = co_await channel.receiveData()) {
      bytes += data->size();
      channel.recycle(std::move(*data));
    }
    const json response = {{"bytes", bytes}};
    co_await channel.sendResponse(response);
  });
  server.start();
  std::thread serverThread([&] { serverIo.run(); });

  TlsClientSettings settings{.host = "127.0.0.1",
                             .port = server.port(),
                             .caFile = ca.certFile(),
                             .certFile = clientFiles.cert,
                             .keyFile = clientFiles.key};
  std::vector<uint8_t> buffer(kChunk);
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < buffer.size(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buffer[i] = static_cast<uint8_t>(x);
  }

  asio::io_context clientIo;
  int status = 0;
  asio::co_spawn(
      clientIo,
      [&]() -> asio::awaitable<void> {
        auto client = co_await Client::connect(settings);
        std::printf("%s over %s, %.0f MiB per run, 2 threads (server, client)\n",
                    client.connection().peerHello().software.c_str(), client.connection().tlsVersion().c_str(),
                    static_cast<double>(megabytes));
        for (int channels : {1, many}) {
          auto start = std::chrono::steady_clock::now();
          double cpuStart = cpuSeconds();
          co_await upload(client, buffer, total, channels);
          double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          double cpu = cpuSeconds() - cpuStart;
          std::printf("%3d channel%s: %7.0f MB/s  (%.2f s, CPU %.0f%% of one core)\n", channels,
                      channels == 1 ? " " : "s", static_cast<double>(total) / wall / 1e6, wall, 100 * cpu / wall);
        }
        co_await client.close();
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& error) {
            std::fprintf(stderr, "protocol_throughput: %s\n", error.what());
            status = 1;
          }
        }
      });
  clientIo.run();
  std::promise<void> stopped;
  asio::co_spawn(
      serverIo,
      [&]() -> asio::awaitable<void> {
        co_await server.stop(std::chrono::seconds(5));
        stopped.set_value();
      },
      asio::detached);
  stopped.get_future().wait();
  guard.reset();
  serverThread.join();
  return status;
}
