#include "repo-server/server_command.h"

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"
#include "protocol/server.h"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstring>
#include <thread>

namespace pgbr::repo {

ServerConfig serverConfig(const Config& config) {
  ServerConfig settings;
  settings.storage = repoStorageSettings(config);
  auto& tls = settings.tls;
  tls.address = config.str("tls-server-address");
  tls.port = static_cast<uint16_t>(config.integer("tls-server-port"));
  tls.caFile = config.str("tls-server-ca-file");
  tls.certFile = config.str("tls-server-cert-file");
  tls.keyFile = config.str("tls-server-key-file");
  for (const auto& [commonName, stanzas] : config.map("tls-server-auth")) tls.auth[commonName] = split(stanzas, ',');
  tls.minVersion =
      config.choice("tls-min-version") == "1.2" ? protocol::TlsVersion::Tls12 : protocol::TlsVersion::Tls13;
  settings.limits.idleTimeout = config.duration("io-timeout");

  settings.repoPath = settings.storage.localPath();
  auto cipher = parseCipher(config.choice("repo-cipher-type"));
  settings.repository.cipher = cipher.value_or(Cipher::None);
  if (settings.repository.cipher == Cipher::Aes256Gcm) settings.repository.passphrase = config.str("repo-cipher-pass");

  settings.workers = static_cast<size_t>(config.integer("process-max"));
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  settings.networkThreads = std::min<size_t>(cpus, 4);
  // Spooled manifest entries go to anonymous files on the repository's disk (never to a tmpfs in
  // memory); they never appear in it and vanish with the process.
  settings.service.backup.spoolDirectory = settings.repoPath;
  return settings;
}

int runServer(const ServerConfig& settings) {
  RepoStorage storage(settings.storage);
  auto repository = std::make_unique<Repository>(storage.storage(), settings.repository);
  logInfo("serving repository '{}' (id {}, cipher {})", storage.describe(), repository->info().id,
          cipherName(repository->info().cipher));
  storage.start();
  WorkerPool pool(settings.workers);
  asio::io_context io;
  protocol::ServerOptions options;
  options.limits = settings.limits;
  protocol::Server server(io, settings.tls, options);
  RepoService service(*repository, pool, settings.service);
  service.registerOn(server);
  server.start();

  std::exception_ptr failure;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int signal) {
    if (ec) return;
    logInfo("received {}: stopping (requests in flight get {} s to finish)", signal == SIGTERM ? "SIGTERM" : "SIGINT",
            settings.shutdownGrace.count() / 1000.0);
    auto shutdown = [&]() -> asio::awaitable<void> {
      co_await server.stop(settings.shutdownGrace);
      auto flush = pool.run([&] { repository->chunks().flush(); });
      co_await std::move(flush);
    };
    asio::co_spawn(io, std::move(shutdown), [&](std::exception_ptr error) {
      failure = error;
      io.stop();
    });
  });

  std::vector<std::thread> threads;
  for (size_t i = 1; i < settings.networkThreads; ++i) threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  // Jobs still running finish before anything they use goes away.
  pool.join();
  if (failure) std::rethrow_exception(failure);
  logInfo("server stopped");
  return 0;
}

}  // namespace pgbr::repo
