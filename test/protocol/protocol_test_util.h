// Helpers for protocol tests: a throw-away PKI with server and client certificates, settings
// that point at it, and a runner that drives a coroutine on an io_context to completion.
#pragma once

#include "protocol/client.h"
#include "protocol/server.h"
#include "protocol/tls.h"
#include "test/support/certs.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/evp.h>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace pgbr::test {

struct Pki {
  TempDir dir{"pgbr-protocol"};
  TestCa ca{dir.path() / "ca"};
  CertFiles server = ca.server();
  std::map<std::string, CertFiles> clients;

  protocol::TlsServerSettings serverSettings(std::map<std::string, std::vector<std::string>> auth) const {
    return {.address = "127.0.0.1",
            .port = 0,
            .caFile = ca.certFile(),
            .certFile = server.cert,
            .keyFile = server.key,
            .auth = std::move(auth)};
  }
  protocol::TlsClientSettings clientSettings(const std::string& cn, uint16_t port) {
    if (!clients.contains(cn)) clients.emplace(cn, ca.client(cn));
    const auto& files = clients.at(cn);
    return {.host = "127.0.0.1", .port = port, .caFile = ca.certFile(), .certFile = files.cert, .keyFile = files.key};
  }
};

// Runs `body` on `executor` and the io_context (on `threads` threads) until the body has
// finished and no work is left; rethrows the body's exception. A body that does not finish
// within `limit` fails the test instead of hanging it.
inline void runTest(asio::io_context& io, std::function<asio::awaitable<void>()> body, int threads = 1,
                    std::chrono::seconds limit = std::chrono::seconds(100)) {
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(asio::make_strand(io), std::move(body), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
  });
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&] { io.run_for(limit); });
  io.run_for(limit);
  for (auto& t : extra) t.join();
  REQUIRE_MESSAGE(finished, "the test coroutine did not finish in time");
  if (failure) std::rethrow_exception(failure);
}

inline asio::awaitable<void> sleepFor(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Polls `condition` every few milliseconds until it holds; false after `limit`.
inline asio::awaitable<bool> eventually(std::function<bool()> condition,
                                        std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleepFor(std::chrono::milliseconds(5));
  }
  co_return true;
}

// Deterministic pseudo-random bytes (xorshift), so both sides can make or check the same data.
inline void fillRandom(std::span<uint8_t> out, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(out.data() + i, &x, 8);
  }
  for (; i < out.size(); ++i) out[i] = static_cast<uint8_t>(x >> (i % 8 * 8));
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const uint8_t> data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string hex() {
    unsigned char digest[32];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_, digest, &length);
    std::string out;
    for (unsigned i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace pgbr::test
