// pgbr-repo as a program: started by test::RepoFixture, spoken to over real TLS, stopped, killed
// and restarted (ctest label "integration").
#include "repo-server/repository.h"
#include "test/repo-server/repo_client.h"
#include "test/support/process.h"
#include "test/support/repo_fixture.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;
using pgbr::test::RepoFixture;
using pgbr::test::RepoFixtureOptions;
using protocol::Client;

namespace {

const std::string kStanza = "main";

protocol::TlsClientSettings clientSettings(RepoFixture& fixture, const std::string& cn = "agent") {
  auto files = fixture.client(cn);
  return {.host = fixture.host(),
          .port = static_cast<uint16_t>(fixture.port()),
          .caFile = fixture.caFile(),
          .certFile = files.cert,
          .keyFile = files.key};
}

// Runs body with a client connected to the fixture's server.
void withClient(RepoFixture& fixture, std::function<asio::awaitable<void>(Client&)> body) {
  asio::io_context io;
  const auto settings = clientSettings(fixture);
  pgbr::test::runTest(
      io,
      [&]() -> asio::awaitable<void> {
        auto client = co_await Client::connect(settings);
        std::exception_ptr failure;
        try {
          co_await body(client);
        } catch (...) {
          failure = std::current_exception();
        }
        co_await client.close();
        if (failure) std::rethrow_exception(failure);
      },
      1, std::chrono::seconds(300));
}

pgbr::test::RunResult runRepo(const std::vector<std::string>& args) {
  std::vector<std::string> argv{(pgbr::test::binDir() / "pgbr-repo").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  pgbr::test::RunOptions options;
  options.timeout = std::chrono::seconds(120);
  return pgbr::test::run(argv, options);
}

// The keys an agent gets from repo.keys, as a keyring.
asio::awaitable<std::shared_ptr<const Keyring>> fetchKeys(Client& client) {
  const json request{{"op", "repo.keys"}, {"stanza", kStanza}};
  json keys = co_await call(client, request);
  auto decode = [](const std::string& text) {
    std::vector<uint8_t> bytes(text.size());
    int n = EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    REQUIRE(n >= 32);
    return SecretKey(std::span(bytes).first(32));
  };
  std::map<uint32_t, SecretKey> data;
  for (const auto& [id, key] : keys.at("dataKeys").items())
    data.emplace(static_cast<uint32_t>(std::stoul(id)), decode(key.get<std::string>()));
  co_return std::make_shared<const Keyring>(decode(keys.at("chunkIdKey")), std::move(data),
                                            std::map<uint32_t, SecretKey>{}, keys.at("currentKeyId").get<uint32_t>());
}

asio::awaitable<void> createStanza(Client& client) {
  const json request = stanzaCreateRequest(clusterIdentity(kStanza));
  co_await call(client, request);
}

// Stores `count` chunks and returns them.
asio::awaitable<std::vector<SealedChunk>> storeChunks(Client& client, const std::shared_ptr<const Keyring>& keys,
                                                      uint64_t seed, int count) {
  std::vector<SealedChunk> chunks;
  std::vector<uint8_t> records;
  for (int i = 0; i < count; ++i) {
    chunks.push_back(sealChunk(keys, chunkPlaintext(seed + static_cast<uint64_t>(i))));
    appendChunkRecord(records, chunks.back().id, chunks.back().envelope);
  }
  const json request{{"op", "chunks.put"}, {"stanza", kStanza}};
  const std::vector<std::vector<uint8_t>> pieces{records};
  json response = co_await upload(client, request, pieces);
  CHECK(response["stored"] == count);
  co_return chunks;
}

asio::awaitable<void> pushSegments(Client& client, const std::shared_ptr<const Keyring>& keys, uint64_t first,
                                   uint64_t last) {
  for (uint64_t n = first; n <= last; ++n) {
    const std::string name = segmentName(n);
    const auto segment = makeSegment(name);
    co_await pushWalRequest(client, keys, kStanza, name, segment);
  }
}

}  // namespace

TEST_CASE("pgbr-repo server serves over TLS and stops cleanly on SIGTERM, never logging the passphrase") {
  RepoFixture fixture;
  withClient(fixture, [&](Client& client) -> asio::awaitable<void> {
    co_await createStanza(client);
    const json request{{"op", "stanza.get"}, {"stanza", kStanza}};
    json identity = co_await call(client, request);
    CHECK(identity["identity"]["systemId"] == std::to_string(kSystemId));
  });
  CHECK(fixture.stop() == 0);
  std::string log = pgbr::test::readFile(fixture.logFile());
  CHECK(log.find("server command begin") != std::string::npos);
  CHECK(log.find("<redacted>") != std::string::npos);
  CHECK(log.find(fixture.options().passphrase) == std::string::npos);
  CHECK(fixture.output().find(fixture.options().passphrase) == std::string::npos);
  CHECK(std::filesystem::exists(fixture.repoPath() / "stanzas" / "main" / "identity" / "0001.json"));
}

TEST_CASE("pgbr-repo refuses to start with a wrong passphrase or cipher, or on a repository in use") {
  RepoFixture fixture;
  // A second server on the same repository (another port) is refused while the first runs.
  auto config = fixture.serverConfig().string();
  auto second = runRepo({"--config=" + config, "--tls-server-port=1", "server"});
  CHECK(second.exitCode == static_cast<int>(ErrorCode::FileOpen));
  CHECK(second.err.find("in use by another pgbr-repo server") != std::string::npos);
  fixture.stop();

  fixture.nextOptions().passphrase = "not the passphrase";
  CHECK_THROWS_WITH_AS(fixture.start(), doctest::Contains("the passphrase is wrong"), std::runtime_error);
  auto wrong = runRepo({"--config=" + config, "server"});
  CHECK(wrong.exitCode == static_cast<int>(ErrorCode::Crypto));
  CHECK(wrong.err.find("passphrase is wrong") != std::string::npos);
  CHECK(wrong.err.find("not the passphrase") == std::string::npos);

  auto plain = runRepo({"--config=" + config, "--repo1-cipher-type=none", "server"});
  CHECK(plain.exitCode == static_cast<int>(ErrorCode::OptionInvalidValue));
  CHECK(plain.err.find("created with cipher aes-256-gcm") != std::string::npos);
}

TEST_CASE("pgbr-repo help and version print and exit 0; a bad option exits with its error code") {
  auto version = runRepo({"version"});
  CHECK(version.exitCode == 0);
  CHECK(version.out.starts_with("pgbr-repo "));
  auto help = runRepo({"help", "server"});
  CHECK(help.exitCode == 0);
  CHECK(help.out.find("tls-server-auth") != std::string::npos);
  auto bad = runRepo({"--no-config", "--bogus-option=1", "server"});
  CHECK(bad.exitCode == static_cast<int>(ErrorCode::OptionInvalid));
  CHECK(bad.err.find("bogus-option") != std::string::npos);
}

TEST_CASE("a server killed mid-backup leaves no manifest, and the restarted server serves the next backup") {
  RepoFixture fixture;
  std::vector<SealedChunk> early;
  // A backup in progress: lock held, chunks sent, entries sent, no END yet.
  withClient(fixture, [&](Client& client) -> asio::awaitable<void> {
    co_await createStanza(client);
    auto keys = co_await fetchKeys(client);
    early = co_await storeChunks(client, keys, 1, 10);
    const json request{{"op", "backup"}, {"stanza", kStanza}, {"type", "full"}};
    auto channel = co_await client.openChannel(request);
    co_await channel.receiveResponse();
    const std::vector<ManifestEntry> entries{fileEntry("base/1", early)};
    auto lines = pgbr::test::bytesOf(entryLines(entries));
    co_await channel.sendData(lines);
    co_await pgbr::test::sleepFor(std::chrono::milliseconds(200));
    fixture.kill();  // while the channel is open
    auto failure = [&]() -> asio::awaitable<void> {
      const json end = backupEnd(16, 17);
      co_await channel.sendEnd(end);
      co_await channel.receiveData();
    };
    CHECK(co_await errorOf(failure));
    channel.cancel();
  });
  CHECK_FALSE(fixture.running());
  auto backups = fixture.repoPath() / "stanzas" / "main" / "backups";
  CHECK((!std::filesystem::exists(backups) || std::filesystem::is_empty(backups)));

  fixture.start();
  withClient(fixture, [&](Client& client) -> asio::awaitable<void> {
    auto keys = co_await fetchKeys(client);
    // Chunks of the open pack died with the server: the agent sends what the repository lacks.
    json ids = json::array();
    for (const auto& chunk : early) ids.push_back(chunk.id.hex());
    const json missingRequest{{"op", "chunks.missing"}, {"stanza", kStanza}, {"ids", ids}};
    json missing = co_await call(client, missingRequest);
    CHECK(missing["missing"].size() == early.size());
    auto chunks = co_await storeChunks(client, keys, 1, 10);
    co_await pushSegments(client, keys, 16, 17);
    const json request{{"op", "backup"}, {"stanza", kStanza}, {"type", "incr"}};
    auto channel = co_await client.openChannel(request);
    json response = co_await channel.receiveResponse();
    CHECK(response["type"] == "full");  // nothing was committed to base an incremental on
    const std::vector<ManifestEntry> entries{fileEntry("base/1", chunks)};
    auto lines = pgbr::test::bytesOf(entryLines(entries));
    co_await channel.sendData(lines);
    const json end = backupEnd(16, 17);
    co_await channel.sendEnd(end);
    auto more = co_await channel.receiveData();
    CHECK_FALSE(more);
    CHECK(channel.trailer()["label"] == response["label"]);
  });
  CHECK(fixture.stop() == 0);
  CHECK(std::distance(std::filesystem::directory_iterator(backups), std::filesystem::directory_iterator()) == 1);
  // The restarted server cleaned up and a later one opens the repository as it is.
  auto repo = Repository::openPosix(fixture.repoPath().string(), [&] {
    RepositoryOptions options;
    options.cipher = Cipher::Aes256Gcm;
    options.passphrase = fixture.options().passphrase;
    return options;
  }());
  CHECK(repo->manifests().labels("main").size() == 1);
}
