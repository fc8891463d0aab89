// Mutual TLS and authorisation failures: each must give a clear error on both sides.
#include "protocol/tls.h"

#include "test/protocol/protocol_test_util.h"
#include "test/support/process.h"

using namespace pgbr;
using namespace pgbr::protocol;
using namespace pgbr::test;
using nlohmann::json;

namespace {

struct Outcome {
  std::optional<Error> client;
  std::vector<Error> server;
};

// Starts a server that authorises "agent" for stanza "main", lets `connect` try, and returns
// both sides' errors.
Outcome attempt(Pki& pki, std::function<asio::awaitable<void>(uint16_t port)> connect, bool serverReports = true) {
  asio::io_context io;
  Outcome outcome;
  ServerOptions options;
  options.onConnectionError = [&](const std::string&, const Error& error) { outcome.server.push_back(error); };
  Server server(io, pki.serverSettings({{"agent", {"main"}}, {"admin", {"*"}}}), options);
  server.handle("backup", [](Session& session, Channel& channel, const json& request) -> asio::awaitable<void> {
    session.authorise(request.at("stanza").get<std::string>());
    const json ok = {{"ok", true}};
    co_await channel.sendResponse(ok);
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    try {
      co_await connect(server.port());
    } catch (const Error& error) {
      outcome.client = error;
    }
    if (serverReports) {
      bool reported = co_await eventually([&] { return !outcome.server.empty(); }, std::chrono::seconds(30));
      CHECK(reported);
    }
    co_await server.stop(std::chrono::seconds(5));
  });
  return outcome;
}

// Connects as "agent" but presenting the given certificate.
std::function<asio::awaitable<void>(uint16_t)> connectWith(Pki& pki, CertFiles files) {
  return [&pki, files](uint16_t port) -> asio::awaitable<void> {
    auto settings = pki.clientSettings("agent", port);
    settings.certFile = files.cert;
    settings.keyFile = files.key;
    auto client = co_await Client::connect(settings);
  };
}

void checkError(const std::optional<Error>& error, ErrorCode code, const std::string& text) {
  REQUIRE(error);
  CHECK(error->code() == code);
  CHECK_MESSAGE(std::string(error->what()).find(text) != std::string::npos, error->what());
}

}  // namespace

TEST_CASE("a client without a certificate is refused, with a clear error on both sides") {
  Pki pki;
  auto outcome = attempt(pki, [&](uint16_t port) -> asio::awaitable<void> {
    auto settings = pki.clientSettings("agent", port);
    std::unique_ptr<SSL_CTX, TlsContext::Free> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
    SSL_CTX_load_verify_locations(ctx.get(), settings.caFile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    ClientOptions options;
    options.context = std::make_shared<const TlsContext>(std::move(ctx), settings.caFile);
    auto client = co_await Client::connect(settings, options);
  });
  checkError(outcome.client, ErrorCode::Tls, "server refused certificate");
  REQUIRE(outcome.server.size() == 1);
  checkError(outcome.server[0], ErrorCode::Tls, "presented no certificate");
}

TEST_CASE("a client certificate from another CA is refused, with a clear error on both sides") {
  Pki pki;
  TestCa other(pki.dir.path() / "other-ca", "another CA");
  auto outcome = attempt(pki, connectWith(pki, other.client("agent")));
  checkError(outcome.client, ErrorCode::Tls, "server refused certificate");
  checkError(outcome.client, ErrorCode::Tls, "unknown ca");
  REQUIRE(outcome.server.size() == 1);
  checkError(outcome.server[0], ErrorCode::Tls, "client certificate verify failed");
  checkError(outcome.server[0], ErrorCode::Tls, "unable to get local issuer certificate");
}

TEST_CASE("an expired client certificate is refused, with a clear error on both sides") {
  Pki pki;
  auto outcome = attempt(pki, connectWith(pki, pki.ca.expiredClient("agent")));
  checkError(outcome.client, ErrorCode::Tls, "certificate expired");
  REQUIRE(outcome.server.size() == 1);
  checkError(outcome.server[0], ErrorCode::Tls, "certificate has expired");
}

TEST_CASE("a CN not in tls-server-auth is refused right after the handshake, naming the CN") {
  Pki pki;
  auto outcome = attempt(pki, [&](uint16_t port) -> asio::awaitable<void> {
    auto settings = pki.clientSettings("intruder", port);
    auto client = co_await Client::connect(settings);
  });
  checkError(outcome.client, ErrorCode::Auth, "client certificate CN 'intruder' is not authorised");
  checkError(outcome.client, ErrorCode::Auth, "tls-server-auth");
  REQUIRE(outcome.server.size() == 1);
  checkError(outcome.server[0], ErrorCode::Auth, "'intruder'");
}

TEST_CASE("a stanza not granted to the CN is refused on that channel, naming CN and stanza") {
  Pki pki;
  bool granted = false;
  auto outcome = attempt(
      pki,
      [&](uint16_t port) -> asio::awaitable<void> {
        auto settings = pki.clientSettings("agent", port);
        auto client = co_await Client::connect(settings);
        const json ok = {{"op", "backup"}, {"stanza", "main"}};
        auto allowed = co_await client.openChannel(ok);
        auto response = co_await allowed.receiveResponse();
        granted = response.at("ok") == true;
        const json other = {{"op", "backup"}, {"stanza", "payroll"}};
        auto refused = co_await client.openChannel(other);
        co_await refused.receiveResponse();
      },
      false);
  CHECK(granted);
  checkError(outcome.client, ErrorCode::Auth, "CN 'agent' is not authorised for stanza 'payroll'");
  CHECK(outcome.server.empty());
}

TEST_CASE("a server certificate the client cannot verify is refused, with a clear error on both sides") {
  Pki pki;
  TestCa other(pki.dir.path() / "other-ca", "another CA");
  SUBCASE("signed by a CA the client does not trust") {
    auto outcome = attempt(pki, [&](uint16_t port) -> asio::awaitable<void> {
      auto settings = pki.clientSettings("agent", port);
      settings.caFile = other.certFile();
      auto client = co_await Client::connect(settings);
    });
    checkError(outcome.client, ErrorCode::Tls, "server certificate verify failed");
    REQUIRE(outcome.server.size() == 1);
    checkError(outcome.server[0], ErrorCode::Tls, "aborted the TLS handshake");
  }
  SUBCASE("not naming the host the client connects to") {
    pki.server = pki.ca.issue({.commonName = "elsewhere", .hosts = {"elsewhere.example"}, .serverAuth = true});
    auto outcome = attempt(pki, [&](uint16_t port) -> asio::awaitable<void> {
      auto settings = pki.clientSettings("agent", port);
      auto client = co_await Client::connect(settings);
    });
    checkError(outcome.client, ErrorCode::Tls, "server certificate verify failed");
    checkError(outcome.client, ErrorCode::Tls, "mismatch");
  }
}

TEST_CASE("TLS settings name the file that cannot be used") {
  Pki pki;
  auto settings = pki.serverSettings({});
  settings.certFile = (pki.dir.path() / "missing.crt").string();
  CHECK_THROWS_WITH_AS(TlsContext::server(settings), doctest::Contains("missing.crt' does not exist"), Error);
  settings = pki.serverSettings({});
  settings.keyFile = pki.ca.client("someone").key.string();
  CHECK_THROWS_WITH_AS(TlsContext::server(settings), doctest::Contains("cannot load TLS key file"), Error);
  settings = pki.serverSettings({});
  settings.caFile = settings.keyFile;
  CHECK_THROWS_WITH_AS(TlsContext::server(settings), doctest::Contains("cannot load TLS CA file"), Error);
}

TEST_CASE("certificates made by scripts/make-certs work for the server and a client") {
  TempDir dir("pgbr-make-certs");
  auto made = run({std::string(PGBR_TEST_SOURCE_DIR) + "/scripts/make-certs", dir.path().string(), "127.0.0.1", "db1"});
  REQUIRE_MESSAGE(made.exitCode == 0, made.err);
  asio::io_context io;
  TlsServerSettings serverSettings{.address = "127.0.0.1",
                                   .port = 0,
                                   .caFile = dir / "ca.crt",
                                   .certFile = dir / "server.crt",
                                   .keyFile = dir / "server.key",
                                   .auth = {{"db1", {"main"}}}};
  Server server(io, serverSettings);
  server.handle("whoami", [](Session& session, Channel& channel, const json&) -> asio::awaitable<void> {
    const json response = {{"cn", session.commonName()}};
    co_await channel.sendResponse(response);
  });
  server.start();
  runTest(io, [&]() -> asio::awaitable<void> {
    TlsClientSettings settings{.host = "127.0.0.1",
                               .port = server.port(),
                               .caFile = dir / "ca.crt",
                               .certFile = dir / "db1.crt",
                               .keyFile = dir / "db1.key"};
    auto client = co_await Client::connect(settings);
    const json request = {{"op", "whoami"}};
    auto channel = co_await client.openChannel(request);
    auto response = co_await channel.receiveResponse();
    CHECK(response.at("cn") == "db1");
    co_await client.close();
    co_await server.stop(std::chrono::seconds(5));
  });
}

TEST_CASE("TLS 1.2 works when allowed and is refused clearly when the server requires 1.3") {
  Pki pki;
  // A client that speaks at most TLS 1.2.
  auto connect12 = [&](uint16_t port) -> asio::awaitable<void> {
    auto settings = pki.clientSettings("agent", port);
    settings.minVersion = TlsVersion::Tls12;
    auto context = TlsContext::client(settings);
    SSL_CTX_set_max_proto_version(context->native(), TLS1_2_VERSION);
    ClientOptions options;
    options.context = context;
    auto client = co_await Client::connect(settings, options);
    CHECK(client.connection().tlsVersion() == "TLSv1.2");
    auto rtt = co_await client.ping();
    CHECK(rtt.count() > 0);
    co_await client.close();
  };
  SUBCASE("allowed") {
    asio::io_context io;
    auto settings = pki.serverSettings({{"agent", {"*"}}});
    settings.minVersion = TlsVersion::Tls12;
    Server server(io, settings);
    server.start();
    runTest(io, [&]() -> asio::awaitable<void> {
      co_await connect12(server.port());
      co_await server.stop(std::chrono::seconds(5));
    });
  }
  SUBCASE("refused") {
    auto outcome = attempt(pki, connect12);
    checkError(outcome.client, ErrorCode::Tls, "refused the TLS handshake");
    checkError(outcome.client, ErrorCode::Tls, "protocol version");
    REQUIRE(outcome.server.size() == 1);
    checkError(outcome.server[0], ErrorCode::Tls, "unsupported protocol");
  }
}
