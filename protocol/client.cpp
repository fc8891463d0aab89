#include "protocol/client.h"

#include "common/log.h"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace pgbr::protocol {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

Error closedByClient() { return Error(ErrorCode::Cancelled, "the client closed the connection"); }

}  // namespace

asio::awaitable<Client> Client::connect(TlsClientSettings settings) {
  ClientOptions options;
  co_return co_await connect(std::move(settings), std::move(options));
}

asio::awaitable<Client> Client::connect(TlsClientSettings settings, ClientOptions options) {
  using namespace asio::experimental::awaitable_operators;
  auto context = options.context ? options.context : TlsContext::client(settings);
  auto executor = co_await asio::this_coro::executor;
  std::string where = fmt::format("{}:{}", settings.host, settings.port);

  asio::ip::tcp::resolver resolver(executor);
  // (Arguments are named: GCC 12 may destroy temporaries of a co_await expression twice.)
  const std::string service = std::to_string(settings.port);
  auto [resolveError, endpoints] = co_await resolver.async_resolve(settings.host, service, kTuple);
  if (resolveError)
    fail(ErrorCode::Connect, "cannot resolve repository host '{}': {}", settings.host, resolveError.message());

  asio::ip::tcp::socket socket(executor);
  asio::steady_timer timer(executor, options.limits.handshakeTimeout);
  auto result = co_await (asio::async_connect(socket, endpoints, kTuple) || timer.async_wait(kTuple));
  if (result.index() == 1)
    fail(ErrorCode::Timeout, "connecting to {} did not finish within {} ms", where,
         static_cast<long long>(options.limits.handshakeTimeout.count()));
  if (auto [connectError, endpoint] = std::get<0>(result); connectError)
    fail(ErrorCode::Connect, "cannot connect to {}: {} (is pgbr-repo server running there?)", where,
         connectError.message());

  auto tls = std::make_unique<TlsStream>(std::move(socket), context, Role::Client, "server " + where, settings.host);
  auto connection = std::make_shared<Connection>(std::move(tls), Role::Client, options.limits, options.software);
  Connection::Authorise noAuthorisation;
  Connection::RequestHandler noRequests;
  co_await connection->start(std::move(noAuthorisation), std::move(noRequests));
  logDetail("connected to {} ({}, {})", where, connection->tlsVersion(), connection->peerHello().software);
  co_return Client(std::move(connection));
}

asio::awaitable<nlohmann::json> Client::call(const nlohmann::json& request) {
  auto channel = co_await connection_->openChannel(request);
  co_await channel.sendEnd();
  auto response = co_await channel.receiveResponse();
  auto end = co_await channel.receive();
  if (end.type != FrameType::End)
    fail(ErrorCode::Protocol, "{} sent {} after the RESPONSE to call '{}' (expected END)", connection_->peer(),
         frameTypeName(end.type), request.value("op", ""));
  co_return response;
}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (connection_) connection_->close(closedByClient());
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Client::~Client() {
  if (connection_) connection_->close(closedByClient());
}

asio::awaitable<void> Client::close() {
  connection_->close(closedByClient());
  co_await connection_->closed();
}

}  // namespace pgbr::protocol
