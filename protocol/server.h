// The repository server's side: listens over mutual TLS, authorises each client certificate's
// CN against tls-server-auth, and runs one handler coroutine per request, chosen by the
// request's "op" string from a handler table.
//
// Request styles a handler implements (see docs/protocol.md):
//   - call:     read the REQUEST, send a RESPONSE, return (END is sent for it);
//   - upload:   RESPONSE (optional), then receiveData() until END, then RESPONSE/END;
//   - download: RESPONSE, sendData() as often as needed, sendEnd(trailer).
// A handler that throws pgbr::Error ends its channel with ERROR carrying that code and
// message; an unknown op gets ERROR(protocol) on that channel only.
//
// Threading: the Server's own state lives on a strand of the io_context; each connection,
// and every handler of that connection, runs on its own strand, so handlers of one connection
// never run at the same time while connections proceed in parallel on several threads.
// Lifetime: call stop() before destroying the Server (or destroy it after the io_context has
// stopped); handlers must not keep references to the Session or Channel after returning.
#pragma once

#include "common/error.h"
#include "protocol/channel.h"
#include "protocol/connection.h"
#include "protocol/limits.h"
#include "protocol/tls.h"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::protocol {

// What a handler knows about its client: the certificate's CN and the stanzas that CN is
// authorised for. Lives as long as the connection; used on the connection's strand.
class Session {
 public:
  Session(std::string commonName, std::vector<std::string> stanzas, Connection& connection)
      : commonName_(std::move(commonName)), stanzas_(std::move(stanzas)), connection_(connection) {}

  const std::string& commonName() const { return commonName_; }
  // As configured in tls-server-auth; "*" stands for every stanza.
  const std::vector<std::string>& stanzas() const { return stanzas_; }
  bool allows(std::string_view stanza) const;
  // Throws Error(Auth) naming the CN and the stanza unless allows(stanza). Every handler
  // that touches a stanza calls this first.
  void authorise(std::string_view stanza) const;
  Connection& connection() const { return connection_; }
  const std::string& peer() const { return connection_.peer(); }

 private:
  std::string commonName_;
  std::vector<std::string> stanzas_;
  Connection& connection_;
};

struct ServerOptions {
  Limits limits;
  // Connections beyond this are closed right after accept (and logged).
  size_t maxConnections = 1024;
  std::string software = "pgbr-repo " PGBR_VERSION;
  // Told about every connection that failed or was refused (TLS, auth, protocol, time-out),
  // with the peer's address; called on that connection's strand.
  std::function<void(const std::string& peer, const Error& error)> onConnectionError;
};

class Server {
 public:
  using Handler =
      std::function<asio::awaitable<void>(Session& session, Channel& channel, const nlohmann::json& request)>;

  // Loads the TLS files now: throws Error(Tls) naming a file that cannot be used.
  Server(asio::io_context& io, TlsServerSettings settings, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers the handler for requests whose "op" is `op`; call before start().
  void handle(std::string op, Handler handler);
  // Binds and listens (throws Error(Connect) naming the address and port), then accepts on
  // the io_context.
  void start();
  // The port listened on (useful with port 0).
  uint16_t port() const;
  size_t connectionCount() const;

  // Graceful shutdown: stops accepting (new connections are refused), sends GOAWAY on every
  // connection, lets requests in flight finish until `grace` has passed, then cancels the
  // rest (their clients get ERROR(cancelled)) and closes every connection. May be awaited
  // from any executor.
  asio::awaitable<void> stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pgbr::protocol
