// The agent's side: connects to the repository server over mutual TLS, exchanges HELLO, then
// opens channels (one per request) on the one connection.
//
// Threading: connect() runs the connection on the executor of the coroutine that calls it
// (a strand if the io_context has several threads); every later call on the Client, the
// connection and its channels must run there too. Lifetime: destroying the Client closes the
// connection (channels still held fail with Error(Cancelled)).
#pragma once

#include "protocol/channel.h"
#include "protocol/connection.h"
#include "protocol/limits.h"
#include "protocol/tls.h"

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace pgbr::protocol {

struct ClientOptions {
  Limits limits;
  std::string software = "pgbr-agent " PGBR_VERSION;
  // A context built once with TlsContext::client(); built from the settings when empty.
  std::shared_ptr<const TlsContext> context;
};

class Client {
 public:
  // Resolves and connects to settings.host:settings.port (within limits.handshakeTimeout),
  // verifies the server certificate against the CA and the host name, presents the client
  // certificate and exchanges HELLO. Throws Error(Connect) (resolve, refused, reset),
  // Error(Tls) ("server certificate verify failed: …", "server refused certificate: …"),
  // Error(Auth) (CN not authorised), Error(Timeout) or Error(Protocol).
  static asio::awaitable<Client> connect(TlsClientSettings settings, ClientOptions options);
  // With default ClientOptions. (Coroutines here take no default arguments: GCC 12 destroys
  // default-argument temporaries of a co_await expression twice.)
  static asio::awaitable<Client> connect(TlsClientSettings settings);

  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // A REQUEST on a new channel; see Connection::openChannel().
  asio::awaitable<Channel> openChannel(const nlohmann::json& request) { return connection_->openChannel(request); }
  // A call-style request: REQUEST then END, and the RESPONSE once the server's END has
  // arrived. Throws the server's ERROR like Channel::receive().
  asio::awaitable<nlohmann::json> call(const nlohmann::json& request);
  // Round-trip time of a PING.
  asio::awaitable<std::chrono::nanoseconds> ping() { return connection_->ping(); }
  Connection& connection() const { return *connection_; }

  // Closes the connection (channels still open fail with Error(Cancelled)) and waits until
  // its coroutines have ended.
  asio::awaitable<void> close();

 private:
  explicit Client(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}
  std::shared_ptr<Connection> connection_;
};

}  // namespace pgbr::protocol
