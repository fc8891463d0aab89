// The request handlers through a real TLS connection: a RepoService on a protocol::Server in this
// process, protocol::Client on the other end.
#include "repo-server/service.h"

#include "common/filter/bytes.h"
#include "common/storage/fault_storage.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

#include <openssl/evp.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;
using protocol::Client;

namespace {

SecretKey keyFromBase64(const std::string& text) {
  std::vector<uint8_t> bytes(text.size());
  int n =
      EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  REQUIRE(n >= 32);
  return SecretKey(std::span(bytes).first(32));
}

// The keyring an agent builds from repo.keys.
std::shared_ptr<const Keyring> agentKeyring(const json& keys) {
  std::map<uint32_t, SecretKey> data;
  for (const auto& [id, key] : keys.at("dataKeys").items())
    data.emplace(static_cast<uint32_t>(std::stoul(id)), keyFromBase64(key.get<std::string>()));
  return std::make_shared<const Keyring>(keyFromBase64(keys.at("chunkIdKey")), std::move(data),
                                         std::map<uint32_t, SecretKey>{}, keys.at("currentKeyId").get<uint32_t>());
}

const std::string kStanza = "main";
const std::string kFull = "full";

asio::awaitable<json> createStanza(Client& client, const std::string& stanza) {
  const json request = stanzaCreateRequest(clusterIdentity(stanza));
  co_return co_await call(client, request);
}

asio::awaitable<json> putChunks(Client& client, const std::vector<SealedChunk>& chunks) {
  std::vector<uint8_t> records;
  for (const auto& chunk : chunks) appendChunkRecord(records, chunk.id, chunk.envelope);
  // Split at odd places: records may span DATA frames.
  std::vector<std::vector<uint8_t>> pieces;
  for (size_t at = 0; at < records.size(); at += 7777)
    pieces.emplace_back(records.begin() + static_cast<ptrdiff_t>(at),
                        records.begin() + static_cast<ptrdiff_t>(std::min(records.size(), at + 7777)));
  const json request{{"op", "chunks.put"}, {"stanza", kStanza}};
  co_return co_await upload(client, request, pieces);
}

asio::awaitable<std::vector<size_t>> missingChunks(Client& client, const std::vector<SealedChunk>& chunks) {
  json ids = json::array();
  for (const auto& chunk : chunks) ids.push_back(chunk.id.hex());
  const json request{{"op", "chunks.missing"}, {"stanza", "main"}, {"ids", ids}};
  json response = co_await call(client, request);
  co_return response.at("missing").get<std::vector<size_t>>();
}

// Pushes segment n (made for the test) through wal.push.
asio::awaitable<json> pushSegment(Client& client, const std::shared_ptr<const Keyring>& keys, uint64_t n,
                                  uint64_t systemId, uint8_t fill) {
  const std::string name = segmentName(n);
  const auto segment = makeSegment(name, systemId, fill);
  co_return co_await pushWalRequest(client, keys, kStanza, name, segment);
}

// Runs body with a client (CN agent) that has created stanza main; closes it afterwards.
void withStanza(ServiceHarness& harness, std::function<asio::awaitable<void>(Client&)> body) {
  harness.run([&]() -> asio::awaitable<void> {
    const auto settings = harness.clientSettings();
    auto client = co_await Client::connect(settings);
    std::exception_ptr failure;
    try {
      co_await createStanza(client, kStanza);
      co_await body(client);
    } catch (...) {
      failure = std::current_exception();
    }
    co_await client.close();
    if (failure) std::rethrow_exception(failure);
  });
}

// A backup on an open channel: RESPONSE, entries, END; returns the server's END trailer.
asio::awaitable<json> runBackup(Client& client, const std::string& type, const std::vector<ManifestEntry>& entries,
                                const json& end) {
  const json request{{"op", "backup"}, {"stanza", "main"}, {"type", type}, {"startTime", 1'764'042'199}};
  auto channel = co_await client.openChannel(request);
  json response = co_await channel.receiveResponse();
  CHECK(response.contains("label"));
  auto lines = pgbr::test::bytesOf(entryLines(entries));
  co_await channel.sendData(lines);
  co_await channel.sendEnd(end);
  auto more = co_await channel.receiveData();
  CHECK_FALSE(more.has_value());
  co_return channel.trailer();
}

}  // namespace

TEST_CASE("a full backup end to end: keys, stanza, chunks, WAL, commit, manifest and info") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  harness.run([&]() -> asio::awaitable<void> {
    const auto settings = harness.clientSettings();
    auto client = co_await Client::connect(settings);
    json created = co_await createStanza(client, kStanza);
    CHECK(created["created"] == true);
    CHECK(created["identity"]["systemId"] == std::to_string(kSystemId));
    json again = co_await createStanza(client, kStanza);
    CHECK(again["created"] == false);

    const json keysRequest{{"op", "repo.keys"}, {"stanza", "main"}};
    json keysResponse = co_await call(client, keysRequest);
    CHECK(keysResponse["cipher"] == "aes-256-gcm");
    CHECK(keysResponse["chunkSize"] == 64 * 1024);
    CHECK_FALSE(keysResponse.contains("masterKey"));
    auto keys = agentKeyring(keysResponse);
    CHECK(keys->chunkIdKey() == harness.keys()->chunkIdKey());

    // The agent seals with the handed-out keys; the server accepts what they produce.
    std::vector<SealedChunk> chunks;
    for (uint64_t i = 0; i < 40; ++i) chunks.push_back(sealChunk(keys, chunkPlaintext(i)));
    CHECK((co_await missingChunks(client, chunks)).size() == 40);
    json put = co_await putChunks(client, chunks);
    CHECK(put["stored"] == 40);
    CHECK(put["duplicates"] == 0);
    json putAgain = co_await putChunks(client, chunks);
    CHECK(putAgain["stored"] == 0);
    CHECK(putAgain["duplicates"] == 40);
    CHECK((co_await missingChunks(client, chunks)).empty());

    for (uint64_t n = 16; n <= 17; ++n) {
      json pushed = co_await pushSegment(client, keys, n, kSystemId, 1);
      CHECK(pushed["result"] == "stored");
    }
    std::vector<SealedChunk> first(chunks.begin(), chunks.begin() + 30), second(chunks.begin() + 30, chunks.end());
    ManifestEntry base;
    base.type = EntryType::Directory;
    base.path = "base";
    base.mode = 0700;
    const std::vector<ManifestEntry> entries{base, fileEntry("base/1", first), fileEntry("base/2", second)};
    const json end = backupEnd(16, 17);
    json committed = co_await runBackup(client, kFull, entries, end);
    CHECK(committed["label"] == "20251125-034319F");
    CHECK(committed["files"] == 2);
    CHECK(committed["size"] == 40 * 20'000);

    const json manifestRequest{{"op", "manifest.get"}, {"stanza", "main"}, {"label", "latest"}};
    Download manifest = co_await download(client, manifestRequest);
    CHECK(manifest.response["header"]["label"] == "20251125-034319F");
    CHECK(manifest.response["header"]["walStart"] == segmentName(16));
    pgbr::SpanSource source(manifest.data);
    ManifestReader reader(source, "downloaded manifest");
    CHECK(reader.header().fileCount == 2);
    CHECK(reader.next() == entries[0]);
    CHECK(reader.next() == entries[1]);
    CHECK(reader.next() == entries[2]);
    CHECK_FALSE(reader.next());

    // Restore side: every chunk comes back and opens to its id.
    json ids = json::array();
    for (const auto& chunk : chunks) ids.push_back(chunk.id.hex());
    const json getRequest{{"op", "chunks.get"}, {"stanza", "main"}, {"ids", ids}};
    Download got = co_await download(client, getRequest);
    ChunkDecoder decoder(keys);
    std::span<const uint8_t> rest(got.data);
    for (const auto& chunk : chunks) {
      REQUIRE(rest.size() > 37);
      uint32_t length = getU32(rest, 0);
      CHECK(ChunkId(rest.subspan(4).first<32>()) == chunk.id);
      CHECK(rest[36] == 1);
      auto plain = decoder.decode(rest.subspan(37, length - 33), chunk.id);
      CHECK(std::vector<uint8_t>(plain.begin(), plain.end()) == chunk.plaintext);
      rest = rest.subspan(4 + length);
    }
    CHECK(rest.empty());

    const json infoRequest{{"op", "info"}};
    json info = co_await call(client, infoRequest);
    REQUIRE(info["stanzas"].size() == 1);
    CHECK(info["stanzas"][0]["name"] == "main");
    CHECK(info["stanzas"][0]["backups"].size() == 1);
    CHECK(info["stanzas"][0]["archive"]["min"] == segmentName(16));
    CHECK(info["stanzas"][0]["archive"]["max"] == segmentName(17));

    // An incremental names the full as its prior.
    const json incrRequest{{"op", "backup"}, {"stanza", "main"}, {"type", "incr"}, {"startTime", 1'764'045'000}};
    auto channel = co_await client.openChannel(incrRequest);
    json response = co_await channel.receiveResponse();
    CHECK(response["type"] == "incr");
    CHECK(response["prior"]["label"] == "20251125-034319F");
    channel.cancel();
    co_await client.close();
  });
  CHECK(storage.exists("stanzas/main/backups/20251125-034319F.manifest"));
}

TEST_CASE("chunks.put refuses a chunk whose id does not match its content, and stores nothing") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  withStanza(harness, [&](Client& client) -> asio::awaitable<void> {
    auto honest = sealChunk(harness.keys(), chunkPlaintext(1));
    auto other = sealChunk(harness.keys(), chunkPlaintext(2));
    // The envelope of one chunk offered under another chunk's id (a poisoning attempt).
    const std::vector<SealedChunk> poisoned{{honest.id, other.envelope, other.plaintext}};
    auto putPoisoned = [&]() -> asio::awaitable<void> { co_await putChunks(client, poisoned); };
    auto error = co_await errorOf(putPoisoned);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::Corrupt);
    CHECK(std::string(error->what()).find(honest.id.hex()) != std::string::npos);
    const std::vector<SealedChunk> both{honest, other};
    CHECK((co_await missingChunks(client, both)).size() == 2);
    // A damaged envelope is refused the same way.
    std::vector<SealedChunk> damaged{honest};
    damaged[0].envelope[60] ^= 0x40;
    auto putDamaged = [&]() -> asio::awaitable<void> { co_await putChunks(client, damaged); };
    auto damagedError = co_await errorOf(putDamaged);
    REQUIRE(damagedError);
    CHECK(damagedError->code() == ErrorCode::Corrupt);
  });
  harness.repo().chunks().flush();
  CHECK(storage.list("packs", true).empty());
  CHECK(storage.list("index", true).empty());
}

TEST_CASE("wal.push of a segment from another cluster is refused naming both system identifiers") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  withStanza(harness, [&](Client& client) -> asio::awaitable<void> {
    std::string name = segmentName(3);
    auto foreign = makeSegment(name, kOtherSystemId);
    auto push = [&]() -> asio::awaitable<void> {
      co_await pushWalRequest(client, harness.keys(), kStanza, name, foreign);
    };
    auto error = co_await errorOf(push);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::PgMismatch);
    CHECK(std::string(error->what()).find(std::to_string(kSystemId)) != std::string::npos);
    CHECK(std::string(error->what()).find(std::to_string(kOtherSystemId)) != std::string::npos);
    const json listRequest{{"op", "wal.list"}, {"stanza", "main"}};
    json listed = co_await call(client, listRequest);
    CHECK(listed["files"].empty());
  });
}

TEST_CASE("a duplicate identical wal.push succeeds, a different one fails naming the file, wal.get returns it") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  withStanza(harness, [&](Client& client) -> asio::awaitable<void> {
    std::string name = segmentName(5);
    auto segment = makeSegment(name, kSystemId, 1);
    json stored = co_await pushWalRequest(client, harness.keys(), kStanza, name, segment);
    CHECK(stored["result"] == "stored");
    json duplicate = co_await pushWalRequest(client, harness.keys(), kStanza, name, segment);
    CHECK(duplicate["result"] == "duplicate");
    auto different = makeSegment(name, kSystemId, 2);
    auto push = [&]() -> asio::awaitable<void> {
      co_await pushWalRequest(client, harness.keys(), kStanza, name, different);
    };
    auto error = co_await errorOf(push);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::ArchiveMismatch);
    CHECK(std::string(error->what()).find(name) != std::string::npos);

    const json getRequest{{"op", "wal.get"}, {"stanza", "main"}, {"name", name}};
    Download got = co_await download(client, getRequest);
    CHECK(got.response["size"] == kSegmentSize);
    CHECK(got.response["tag"] == walTag(*harness.keys(), segment));
    RecordReader records(std::make_unique<SpanSource>(got.data), harness.keys(), KeyPurpose::Data, "wal.get");
    CHECK(readAll(records) == segment);

    const json missingRequest{{"op", "wal.get"}, {"stanza", "main"}, {"name", segmentName(6)}};
    auto get = [&]() -> asio::awaitable<void> { co_await download(client, missingRequest); };
    auto missing = co_await errorOf(get);
    REQUIRE(missing);
    CHECK(missing->code() == ErrorCode::ArchiveMissing);
  });
}

TEST_CASE("a second backup of a stanza gets backup-in-progress until the first client disconnects") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  harness.run([&]() -> asio::awaitable<void> {
    const auto settings = harness.clientSettings();
    auto first = co_await Client::connect(settings);
    auto second = co_await Client::connect(settings);
    co_await createStanza(first, kStanza);
    const json request{{"op", "backup"}, {"stanza", "main"}, {"type", "full"}};
    auto holding = co_await first.openChannel(request);
    json response = co_await holding.receiveResponse();
    CHECK(response["type"] == "full");

    auto open = [&]() -> asio::awaitable<void> {
      auto channel = co_await second.openChannel(request);
      co_await channel.receiveResponse();
      channel.cancel();
    };
    auto attempt = [&]() -> asio::awaitable<std::optional<Error>> { co_return co_await errorOf(open); };
    auto busy = co_await attempt();
    REQUIRE(busy);
    CHECK(busy->code() == ErrorCode::BackupInProgress);
    CHECK(std::string(busy->what()).find("CN 'agent'") != std::string::npos);

    // The first agent dies: its connection goes, and the lock with it.
    co_await first.close();
    std::optional<Error> result = busy;
    for (int i = 0; i < 600 && result; ++i) {
      co_await pgbr::test::sleepFor(std::chrono::milliseconds(50));
      result = co_await attempt();
      if (result && result->code() != ErrorCode::BackupInProgress) break;
    }
    CHECK_FALSE(result);
    co_await second.close();
  });
  CHECK(storage.list("stanzas/main/backups").empty());
}

TEST_CASE("a stanza the client certificate is not granted is refused for every request") {
  MemoryStorage storage;
  ServiceHarness harness(storage, testOptions(), {{"agent", {"main"}}, {"other", {"billing"}}});
  harness.run([&]() -> asio::awaitable<void> {
    const auto agentSettings = harness.clientSettings("agent");
    auto agent = co_await Client::connect(agentSettings);
    co_await createStanza(agent, kStanza);
    co_await agent.close();
    const auto otherSettings = harness.clientSettings("other");
    auto other = co_await Client::connect(otherSettings);
    for (const char* op : {"repo.keys", "stanza.get", "wal.list", "backup", "manifest.get", "info", "chunks.missing"}) {
      // (No CAPTURE here: doctest's context is per thread, and a coroutine may move between threads.)
      const json request{{"op", op}, {"stanza", "main"}, {"label", "latest"}, {"ids", json::array()}};
      auto request1 = [&]() -> asio::awaitable<void> { co_await call(other, request); };
      auto error = co_await errorOf(request1);
      REQUIRE_MESSAGE(error, op);
      CHECK_MESSAGE(error->code() == ErrorCode::Auth, op);
      CHECK_MESSAGE(std::string(error->what()).find("'other'") != std::string::npos, op);
    }
    auto create = [&]() -> asio::awaitable<void> { co_await createStanza(other, kStanza); };
    auto createError = co_await errorOf(create);
    REQUIRE(createError);
    CHECK(createError->code() == ErrorCode::Auth);
    // info without a stanza lists only what the CN may see.
    const json infoRequest{{"op", "info"}};
    json info = co_await call(other, infoRequest);
    CHECK(info["stanzas"].empty());
    co_await other.close();
  });
}

TEST_CASE("a backup whose WAL does not arrive within archive-timeout fails and commits nothing") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  withStanza(harness, [&](Client& client) -> asio::awaitable<void> {
    const std::vector<SealedChunk> chunk{sealChunk(harness.keys(), chunkPlaintext(1))};
    co_await putChunks(client, chunk);
    co_await pushSegment(client, harness.keys(), 16, kSystemId, 1);
    const std::vector<ManifestEntry> entries{fileEntry("base/1", chunk)};
    const json end = backupEnd(16, 17, 0.5);
    auto backup = [&]() -> asio::awaitable<void> { co_await runBackup(client, kFull, entries, end); };
    auto error = co_await errorOf(backup);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::ArchiveTimeout);
    CHECK(std::string(error->what()).find(segmentName(17)) != std::string::npos);
  });
  CHECK(storage.list("stanzas/main/backups").empty());
}

TEST_CASE("a committing backup waits for WAL pushed while it waits") {
  MemoryStorage storage;
  ServiceHarness harness(storage);
  harness.run([&]() -> asio::awaitable<void> {
    const auto settings = harness.clientSettings();
    auto client = co_await Client::connect(settings);
    auto archiver = co_await Client::connect(settings);
    co_await createStanza(client, kStanza);
    const std::vector<SealedChunk> chunk{sealChunk(harness.keys(), chunkPlaintext(1))};
    co_await putChunks(client, chunk);
    co_await pushSegment(client, harness.keys(), 16, kSystemId, 1);
    const std::vector<ManifestEntry> entries{fileEntry("base/1", chunk)};
    const json end = backupEnd(16, 17, 120);
    const json request{{"op", "backup"}, {"stanza", "main"}, {"type", "full"}};
    auto channel = co_await client.openChannel(request);
    co_await channel.receiveResponse();
    auto lines = pgbr::test::bytesOf(entryLines(entries));
    co_await channel.sendData(lines);
    co_await channel.sendEnd(end);
    co_await pgbr::test::sleepFor(std::chrono::milliseconds(300));
    CHECK(storage.list("stanzas/main/backups").empty());  // still waiting for segment 17
    co_await pushSegment(archiver, harness.keys(), 17, kSystemId, 1);
    auto more = co_await channel.receiveData();
    CHECK_FALSE(more.has_value());
    CHECK(channel.trailer()["files"] == 1);
    co_await archiver.close();
    co_await client.close();
  });
  CHECK(storage.list("stanzas/main/backups").size() == 1);
}

TEST_CASE("a full filesystem during a chunk upload fails cleanly with nothing committed") {
  MemoryStorage memory;
  { Repository repo(memory, testOptions()); }
  // Room for the stanza and little more: the first pack that fills cannot be written.
  FaultStorage full(memory, FaultPlan{.byteBudget = 100'000});
  auto options = testOptions();
  options.chunkStore.packSize = 256 * 1024;
  ServiceHarness harness(full, options);
  withStanza(harness, [&](Client& client) -> asio::awaitable<void> {
    std::vector<SealedChunk> chunks;
    for (uint64_t i = 0; i < 40; ++i) chunks.push_back(sealChunk(harness.keys(), chunkPlaintext(i)));
    auto put = [&]() -> asio::awaitable<void> { co_await putChunks(client, chunks); };
    auto error = co_await errorOf(put);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::FileWrite);
    CHECK(std::string(error->what()).find("filesystem is full") != std::string::npos);
    // The agent tries to commit anyway: the chunks of the failed pack are not there.
    const std::vector<ManifestEntry> entries{fileEntry("base/1", chunks)};
    const json end = backupEnd(16, 16);
    auto backup = [&]() -> asio::awaitable<void> { co_await runBackup(client, kFull, entries, end); };
    auto commitError = co_await errorOf(backup);
    REQUIRE(commitError);
  });
  CHECK(memory.list("stanzas/main/backups").empty());
  CHECK(memory.list("packs", true).empty());
  // The repository still opens and serves.
  Repository reopened(memory, testOptions());
  CHECK(reopened.stanzas().get("main").systemId == kSystemId);
}
