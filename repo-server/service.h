// The request handlers of pgbr-repo, one per op of docs/operations.md: repo.keys, stanza.create,
// stanza.get, wal.push, wal.get, wal.list, backup, chunks.missing, chunks.put, chunks.patch,
// chunks.get, blockmaps.get, manifest.get, info and verify. Every handler that touches a stanza
// first checks that the client's certificate is authorised for it. Handlers run on their
// connection's strand and hand every blocking or CPU-heavy step (verification, fsync, pack
// sealing, reads) to the WorkerPool, so the network threads never wait on the disk.
//
// Threading: the handlers may run on any number of connections at once. Lifetime: the
// Repository and the WorkerPool must outlive the Server the service is registered on, and the
// pool must be joined before the io_context is destroyed.
#pragma once

#include "protocol/server.h"
#include "repo-server/backup_session.h"
#include "repo-server/repository.h"
#include "repo-server/worker_pool.h"

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

namespace pgbr::repo {

// Limits of one request.
inline constexpr size_t kMaxIdsPerRequest = 4096;  // chunks.missing, chunks.get
inline constexpr size_t kMaxWalListFiles = 10000;  // a response stays well below the 1 MiB JSON limit

struct ServiceSettings {
  BackupSettings backup;
  // How often a committing backup looks for its WAL in the archive, at most.
  std::chrono::milliseconds walPollInterval{1000};
  // Bytes of chunks one chunks.put or chunks.get hands a worker at a time.
  size_t batchBytes = 1024 * 1024;
};

class RepoService {
 public:
  RepoService(Repository& repo, WorkerPool& pool, ServiceSettings settings);

  // Registers every handler; call before Server::start().
  void registerOn(protocol::Server& server);

  using Session = protocol::Session;
  using Channel = protocol::Channel;
  using Json = nlohmann::json;

  asio::awaitable<void> repoKeys(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> stanzaCreate(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> stanzaGet(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> walPush(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> walGet(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> walList(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> backup(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> chunksMissing(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> chunksPut(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> chunksPatch(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> chunksGet(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> blockmapsGet(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> manifestGet(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> info(Session& session, Channel& channel, const Json& request);
  asio::awaitable<void> verify(Session& session, Channel& channel, const Json& request);

 private:
  // Jobs a request keeps in flight on the pool.
  size_t depth() const { return pool_.threads() * 2; }
  asio::awaitable<void> sleep(std::chrono::milliseconds duration);
  // The body of a backup: the entries, the chunk check and the wait for the WAL.
  asio::awaitable<void> receiveAndCheck(Channel& channel, BackupSession& running);
  // Reads source to its end on the workers and sends it as DATA; returns the bytes sent.
  asio::awaitable<uint64_t> sendAll(Channel& channel, ByteSource& source);

  Repository& repo_;
  WorkerPool& pool_;
  ServiceSettings settings_;
};

}  // namespace pgbr::repo
