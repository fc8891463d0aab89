// Helpers for repository-server tests: a stanza's cluster, WAL segments and chunks sealed the
// way an agent seals them, fast repository options, and — for handler tests — a RepoService on
// a real TLS server in this process with coroutine helpers for the request styles.
//
// GCC 12 destroys some temporaries of a co_await expression twice: pass everything to the
// coroutine helpers as named variables (requests, strings, lambdas), never as temporaries.
#pragma once

#include "common/error.h"
#include "common/filter/chunk.h"
#include "common/filter/record_stream.h"
#include "common/pg/wal_name.h"
#include "common/storage/memory_storage.h"
#include "common/storage/posix_storage.h"
#include "common/text.h"
#include "protocol/client.h"
#include "protocol/server.h"
#include "repo-server/repository.h"
#include "repo-server/service.h"
#include "repo-server/wal_archive.h"
#include "test/common/storage/storage_test_util.h"
#include "test/protocol/protocol_test_util.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::repo::test {

using nlohmann::json;

constexpr uint64_t kSystemId = 7311234567890123456ull;
constexpr uint64_t kOtherSystemId = 7300000000000000001ull;
constexpr uint32_t kSegmentSize = 1u << 20;  // initdb --wal-segsize=1: small segments for tests
constexpr std::string_view kPassphrase = "correct horse battery staple";

// The storages repository tests run on (TEST_CASE_TEMPLATE over both): in memory, and posix
// in a temporary directory.
struct InMemory {
  MemoryStorage storage;
};
struct OnDisk {
  pgbr::test::TempDir dir{"pgbr-repo"};
  PosixStorage storage{dir.path().string()};
};

inline RepositoryOptions testOptions(bool encrypted = true) {
  RepositoryOptions options;
  options.cipher = encrypted ? Cipher::Aes256Gcm : Cipher::None;
  if (encrypted) options.passphrase = std::string(kPassphrase);
  options.kdf = PassphraseKdfParams{PassphraseKdf::Scrypt, 1024, 8, 1};
  options.chunkSize = 64 * 1024;
  return options;
}

inline StanzaIdentity clusterIdentity(const std::string& stanza = "main", uint64_t systemId = kSystemId) {
  StanzaIdentity identity;
  identity.stanza = stanza;
  identity.systemId = systemId;
  identity.pgVersion = 15;
  identity.catalogVersion = 202209061;
  identity.controlVersion = 1300;
  identity.walSegmentSize = kSegmentSize;
  return identity;
}

// A WAL segment named `name` of PostgreSQL 15: the long page header, then bytes from `fill`.
inline std::vector<uint8_t> makeSegment(const std::string& name, uint64_t systemId = kSystemId, uint8_t fill = 1) {
  auto segment = pg::WalSegment::parse(name.substr(0, 24), kSegmentSize);
  REQUIRE(segment);
  std::vector<uint8_t> bytes(kSegmentSize);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(fill + i / 8192);
  auto put = [&](size_t at, auto value) { std::memcpy(bytes.data() + at, &value, sizeof value); };
  put(0, uint16_t{0xD110});  // PostgreSQL 15's page magic
  put(2, uint16_t{pg::kXlpLongHeader});
  put(4, uint32_t{segment->timeline});
  put(8, uint64_t{segment->startLsn(kSegmentSize).value()});
  put(24, systemId);
  put(32, kSegmentSize);
  put(36, uint32_t{8192});
  return bytes;
}

inline std::string segmentName(uint64_t number, uint32_t timeline = 1) {
  return pg::WalSegment{timeline, number}.fileName(kSegmentSize);
}

// The record stream an agent sends for a WAL file (data key, 64 KiB records).
inline std::vector<uint8_t> sealRecords(const std::shared_ptr<const Keyring>& keys,
                                        std::span<const uint8_t> plaintext) {
  auto sink = std::make_unique<VectorSink>();
  VectorSink& out = *sink;
  PipelineSpec spec;
  spec.chunkSize = 64 * 1024;
  RecordWriter writer(std::move(sink), keys, KeyPurpose::Data, spec);
  writer.write(plaintext);
  writer.finish();
  return out.take();
}

// Pushes a WAL file through the archive directly (no network), in pieces of `piece` bytes.
inline WalPush::Result pushWal(Repository& repo, const StanzaIdentity& identity, const std::string& name,
                               std::span<const uint8_t> plaintext, size_t piece = 100'000) {
  auto stream = sealRecords(repo.keys(), plaintext);
  auto push = repo.wal().beginPush(identity, name, plaintext.size(), walTag(*repo.keys(), plaintext));
  for (size_t at = 0; at < stream.size(); at += piece)
    push->write(std::span<const uint8_t>(stream).subspan(at, std::min(piece, stream.size() - at)));
  return push->finish();
}

struct SealedChunk {
  ChunkId id;
  std::vector<uint8_t> envelope;
  std::vector<uint8_t> plaintext;
};

inline SealedChunk sealChunk(const std::shared_ptr<const Keyring>& keys, std::vector<uint8_t> plaintext) {
  PipelineSpec spec;
  spec.chunkSize = 64 * 1024;
  ChunkEncoder encoder(keys, spec);
  auto encoded = encoder.encode(plaintext);
  return {encoded.id, {encoded.envelope.begin(), encoded.envelope.end()}, std::move(plaintext)};
}

inline std::vector<uint8_t> chunkPlaintext(uint64_t seed, size_t size = 20'000) {
  std::vector<uint8_t> bytes(size);
  pgbr::test::fillRandom(bytes, seed);
  return bytes;
}

// A chunks.put record: u32 length | id | envelope.
inline void appendChunkRecord(std::vector<uint8_t>& out, const ChunkId& id, std::span<const uint8_t> envelope) {
  uint32_t length = static_cast<uint32_t>(ChunkId::kSize + envelope.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(length >> shift));
  out.insert(out.end(), id.bytes().begin(), id.bytes().end());
  out.insert(out.end(), envelope.begin(), envelope.end());
}

// A file entry of a manifest with these chunks.
inline ManifestEntry fileEntry(const std::string& path, const std::vector<SealedChunk>& chunks) {
  ManifestEntry entry;
  entry.type = EntryType::File;
  entry.path = path;
  entry.mode = 0600;
  entry.mtime = 1'700'000'000;
  entry.user = entry.group = "postgres";
  FileChecksum checksum;
  for (const auto& chunk : chunks) {
    entry.chunks.push_back(chunk.id);
    entry.size += chunk.plaintext.size();
    checksum.add(chunk.id);
  }
  entry.checksum = toHex(checksum.finish(entry.size));
  return entry;
}

inline std::string entryLines(const std::vector<ManifestEntry>& entries) {
  std::string text;
  for (const auto& entry : entries) text += entry.toJson().dump() + "\n";
  return text;
}

// The END an agent sends for a backup from segment `first` to `last` of timeline 1.
inline json backupEnd(uint64_t first, uint64_t last, double archiveTimeout = 60, uint64_t systemId = kSystemId) {
  pg::Lsn start(first * kSegmentSize + 0x28), stop(last * kSegmentSize + 0x100);
  json header{{"startLsn", start.toString()},
              {"stopLsn", stop.toString()},
              {"timeline", 1},
              {"backupLabel", "START WAL LOCATION: " + start.toString()},
              {"tablespaceMap", ""},
              {"startTime", 1'700'000'000},
              {"stopTime", 1'700'000'100},
              {"pgVersion", 15},
              {"systemId", std::to_string(systemId)},
              {"agentHost", "db1"},
              {"agentVersion", "0.1.0"}};
  return {{"header", header}, {"archiveTimeout", archiveTimeout}};
}

// The pgbr::Error that action throws; fails the test when it throws none.
inline Error thrown(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected an error, but none was thrown");
  return Error(ErrorCode::Unknown, "");
}

// ---- Handler tests: a RepoService on a TLS server in this process --------------------------

class ServiceHarness {
 public:
  explicit ServiceHarness(Storage& storage, RepositoryOptions options = testOptions(),
                          std::map<std::string, std::vector<std::string>> auth = {{"agent", {"*"}}}, size_t workers = 2)
      : repo_(std::make_unique<Repository>(storage, options)), pool_(workers) {
    ServiceSettings settings;
    settings.backup.spoolDirectory = spool_.path().string();
    settings.walPollInterval = std::chrono::milliseconds(100);
    server_ = std::make_unique<protocol::Server>(io_, pki_.serverSettings(std::move(auth)));
    service_ = std::make_unique<RepoService>(*repo_, pool_, settings);
    service_->registerOn(*server_);
    server_->start();
  }
  ~ServiceHarness() { pool_.join(); }

  Repository& repo() { return *repo_; }
  const std::shared_ptr<const Keyring>& keys() const { return repo_->keys(); }
  protocol::TlsClientSettings clientSettings(const std::string& cn = "agent") {
    return pki_.clientSettings(cn, server_->port());
  }

  // Runs body on two network threads, then stops the server (also when body throws).
  void run(std::function<asio::awaitable<void>()> body) {
    auto wrapped = [this, body = std::move(body)]() -> asio::awaitable<void> {
      std::exception_ptr failure;
      try {
        co_await body();
      } catch (...) {
        failure = std::current_exception();
      }
      co_await server_->stop(std::chrono::seconds(5));
      if (failure) std::rethrow_exception(failure);
    };
    pgbr::test::runTest(io_, std::move(wrapped), 2, std::chrono::seconds(300));
  }

 private:
  pgbr::test::Pki pki_;
  pgbr::test::TempDir spool_{"pgbr-spool"};
  std::unique_ptr<Repository> repo_;
  WorkerPool pool_;
  asio::io_context io_;
  std::unique_ptr<protocol::Server> server_;
  std::unique_ptr<RepoService> service_;
};

// REQUEST → RESPONSE (and the server's END).
inline asio::awaitable<json> call(protocol::Client& client, const json& request) {
  auto channel = co_await client.openChannel(request);
  json response = co_await channel.receiveResponse();
  auto end = co_await channel.receiveData();
  CHECK_FALSE(end.has_value());
  co_return response;
}

// REQUEST, DATA pieces, END → RESPONSE.
inline asio::awaitable<json> upload(protocol::Client& client, const json& request,
                                    const std::vector<std::vector<uint8_t>>& pieces) {
  auto channel = co_await client.openChannel(request);
  for (const auto& piece : pieces) co_await channel.sendData(piece);
  co_await channel.sendEnd();
  json response = co_await channel.receiveResponse();
  auto end = co_await channel.receiveData();
  CHECK_FALSE(end.has_value());
  co_return response;
}

struct Download {
  json response;
  std::vector<uint8_t> data;
  json trailer;
};

inline asio::awaitable<Download> download(protocol::Client& client, const json& request) {
  auto channel = co_await client.openChannel(request);
  Download result;
  result.response = co_await channel.receiveResponse();
  while (auto piece = co_await channel.receiveData())
    result.data.insert(result.data.end(), piece->begin(), piece->end());
  result.trailer = channel.trailer();
  co_return result;
}

// The Error an awaitable step throws, or nullopt when it succeeds. Pass the step as a named
// lambda: a temporary would sit in the caller's co_await expression.
template <typename Step>
asio::awaitable<std::optional<Error>> errorOf(const Step& step) {
  std::optional<Error> error;
  try {
    co_await step();
  } catch (const Error& e) {
    error = e;
  }
  co_return error;
}

inline asio::awaitable<json> pushWalRequest(protocol::Client& client, const std::shared_ptr<const Keyring>& keys,
                                            const std::string& stanza, const std::string& name,
                                            const std::vector<uint8_t>& plaintext) {
  const json request{{"op", "wal.push"},
                     {"stanza", stanza},
                     {"name", name},
                     {"size", plaintext.size()},
                     {"tag", walTag(*keys, plaintext)}};
  auto stream = sealRecords(keys, plaintext);
  std::vector<std::vector<uint8_t>> pieces;
  for (size_t at = 0; at < stream.size(); at += 300'000)
    pieces.emplace_back(stream.begin() + static_cast<ptrdiff_t>(at),
                        stream.begin() + static_cast<ptrdiff_t>(std::min(stream.size(), at + 300'000)));
  co_return co_await upload(client, request, pieces);
}

inline json stanzaCreateRequest(const StanzaIdentity& identity) {
  return {{"op", "stanza.create"},
          {"stanza", identity.stanza},
          {"systemId", std::to_string(identity.systemId)},
          {"pgVersion", identity.pgVersion},
          {"catalogVersion", identity.catalogVersion},
          {"controlVersion", identity.controlVersion},
          {"walSegmentSize", identity.walSegmentSize}};
}

}  // namespace pgbr::repo::test

TYPE_TO_STRING(pgbr::repo::test::InMemory);
TYPE_TO_STRING(pgbr::repo::test::OnDisk);
