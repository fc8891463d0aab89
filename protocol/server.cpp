#include "protocol/server.h"

#include "common/log.h"
#include "common/text.h"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <list>
#include <map>
#include <set>

namespace pgbr::protocol {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
// How long cancelled handlers get to unwind before the server stops waiting for them.
constexpr auto kCancelWait = std::chrono::seconds(5);

}  // namespace

bool Session::allows(std::string_view stanza) const {
  return std::any_of(stanzas_.begin(), stanzas_.end(), [&](const std::string& s) { return s == "*" || s == stanza; });
}

void Session::authorise(std::string_view stanza) const {
  if (!allows(stanza))
    fail(ErrorCode::Auth,
         "client certificate CN '{}' is not authorised for stanza '{}' (tls-server-auth grants it: {})", commonName_,
         stanza, join(stanzas_, ", "));
}

// One accepted connection as the server tracks it. Created on the server strand; everything
// after that happens on the connection's strand `executor`.
struct Entry {
  explicit Entry(asio::any_io_executor ex) : executor(std::move(ex)), idle(executor) {}
  asio::any_io_executor executor;
  std::string peer;
  std::shared_ptr<Connection> connection;
  std::shared_ptr<Session> session;
  std::list<asio::cancellation_signal> handlers;  // one per running handler
  size_t running = 0;
  Signal idle;  // running dropped to 0
};

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& context, TlsServerSettings tlsSettings, ServerOptions serverOptions)
      : io(context),
        strand(asio::make_strand(context)),
        settings(std::move(tlsSettings)),
        options(std::move(serverOptions)),
        tls(TlsContext::server(settings)),
        acceptor(strand),
        changed(strand) {}

  asio::awaitable<void> acceptLoop();
  asio::awaitable<void> serve(std::shared_ptr<Entry> entry, asio::ip::tcp::socket socket);
  void spawnHandler(const std::shared_ptr<Entry>& entry, Channel channel, nlohmann::json request);
  asio::awaitable<void> runHandler(std::shared_ptr<Entry> entry, Channel channel, nlohmann::json request);
  asio::awaitable<void> stop(std::chrono::milliseconds grace);
  asio::awaitable<void> drain(std::shared_ptr<Entry> entry, Clock::time_point deadline);
  void report(const std::string& peer, const Error& error);

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  TlsServerSettings settings;
  ServerOptions options;
  std::shared_ptr<const TlsContext> tls;
  std::map<std::string, Handler, std::less<>> handlers;  // read-only once started
  asio::ip::tcp::acceptor acceptor;
  uint16_t port = 0;
  // Below: server strand only.
  std::set<std::shared_ptr<Entry>> entries;
  std::atomic<size_t> count{0};
  std::atomic<bool> stopping{false};  // set on the server strand, read by connections
  Signal changed;                     // an entry was removed
};

void Server::Impl::report(const std::string& peer, const Error& error) {
  if (options.onConnectionError) options.onConnectionError(peer, error);
}

asio::awaitable<void> Server::Impl::acceptLoop() {
  auto self = shared_from_this();
  for (;;) {
    auto connectionStrand = asio::make_strand(io);
    auto [ec, socket] = co_await acceptor.async_accept(connectionStrand, kTuple);
    if (stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      logWarn("cannot accept a connection on port {}: {}", port, ec.message());
      // Out of descriptors or similar: wait a little instead of spinning.
      asio::steady_timer pause(strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    asio::error_code ignored;
    auto remote = socket.remote_endpoint(ignored);
    std::string peer = fmt::format("client {}:{}", remote.address().to_string(), remote.port());
    if (entries.size() >= options.maxConnections) {
      Error refusal(ErrorCode::Limit,
                    fmt::format("refused {}: {} connections are open, the maximum", peer, options.maxConnections));
      logWarn("{}", refusal.what());
      socket.close(ignored);
      continue;
    }
    auto entry = std::make_shared<Entry>(connectionStrand);
    entry->peer = peer;
    entries.insert(entry);
    ++count;
    asio::co_spawn(connectionStrand, serve(entry, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Entry> entry, asio::ip::tcp::socket socket) {
  auto self = shared_from_this();
  auto unregister = [self, entry] {
    asio::post(self->strand, [self, entry] {
      self->entries.erase(entry);
      --self->count;
      self->changed.notify();
    });
  };
  if (stopping) {  // accepted just before stop(): refuse
    unregister();
    co_return;
  }
  auto stream = std::make_unique<TlsStream>(std::move(socket), tls, Role::Server, entry->peer);
  entry->connection = std::make_shared<Connection>(std::move(stream), Role::Server, options.limits, options.software);
  std::weak_ptr<Entry> weak = entry;
  auto authorise = [this, weak](const std::string& cn) -> std::optional<Error> {
    auto e = weak.lock();
    auto it = settings.auth.find(cn);
    if (!e || it == settings.auth.end())
      return Error(ErrorCode::Auth, fmt::format("client certificate CN '{}' is not authorised on this server "
                                                "(it is not in tls-server-auth)",
                                                cn));
    e->session = std::make_shared<Session>(cn, it->second, *e->connection);
    return std::nullopt;
  };
  auto onRequest = [this, weak](Channel channel, nlohmann::json request) {
    if (auto e = weak.lock()) spawnHandler(e, std::move(channel), std::move(request));
  };
  bool started = false;
  try {
    co_await entry->connection->start(std::move(authorise), std::move(onRequest));
    started = true;
    logDetail("{} connected as '{}' ({})", entry->peer, entry->session->commonName(), entry->connection->tlsVersion());
  } catch (const Error& error) {
    logInfo("refused {}: {}", entry->peer, error.what());
    report(entry->peer, error);
  }
  if (started) {
    co_await entry->connection->closed();
    const auto& failure = entry->connection->failure();
    if (failure && failure->code() != ErrorCode::Cancelled && failure->code() != ErrorCode::Connect)
      report(entry->peer, *failure);
  }
  unregister();
}

void Server::Impl::spawnHandler(const std::shared_ptr<Entry>& entry, Channel channel, nlohmann::json request) {
  auto slot = entry->handlers.emplace(entry->handlers.end());
  ++entry->running;
  auto executor = entry->executor;
  asio::co_spawn(executor, runHandler(entry, std::move(channel), std::move(request)),
                 asio::bind_cancellation_slot(slot->slot(), [entry, slot](std::exception_ptr) {
                   if (--entry->running == 0) entry->idle.notify();
                   // The signal is still in use while this handler runs: erase it afterwards.
                   asio::post(entry->executor, [entry, slot] { entry->handlers.erase(slot); });
                 }));
}

asio::awaitable<void> Server::Impl::runHandler(std::shared_ptr<Entry> entry, Channel channel, nlohmann::json request) {
  auto self = shared_from_this();
  std::optional<Error> failure;
  std::string op;
  if (auto it = request.find("op"); it != request.end() && it->is_string()) op = it->get<std::string>();
  try {
    auto handler = handlers.find(op);
    if (op.empty()) fail(ErrorCode::Protocol, "request on channel {} has no \"op\" string", channel.id());
    if (handler == handlers.end()) {
      std::vector<std::string> known;
      for (const auto& [name, h] : handlers) known.push_back(name);
      fail(ErrorCode::Protocol, "unknown request op '{}' (this server handles: {})", op, join(known, ", "));
    }
    co_await handler->second(*entry->session, channel, request);
    if (!channel.localEnded()) co_await channel.sendEnd();
  } catch (const Error& error) {
    failure = error;
  } catch (const asio::system_error& error) {
    failure =
        error.code() == asio::error::operation_aborted
            ? Error(ErrorCode::Cancelled, fmt::format("request '{}' was cancelled: the server is shutting down", op))
            : Error(ErrorCode::Unknown, fmt::format("request '{}': {}", op, error.what()));
  } catch (const std::exception& error) {
    failure = Error(ErrorCode::Internal, fmt::format("request '{}': {}", op, error.what()));
  }
  if (failure) {
    logDetail("{} ('{}') request '{}' on channel {} failed: {}", entry->peer,
              entry->session ? entry->session->commonName() : "", op, channel.id(), failure->what());
    if (!channel.finished()) channel.sendError(*failure);
  }
}

asio::awaitable<void> Server::Impl::drain(std::shared_ptr<Entry> entry, Clock::time_point deadline) {
  if (!entry->connection) co_return;  // serve() has not started; it sees `stopping` and ends
  auto& connection = *entry->connection;
  while (entry->running > 0 && Clock::now() < deadline) co_await entry->idle.waitUntil(deadline);
  if (entry->running > 0) {
    connection.close(Error(ErrorCode::Cancelled, "the server is shutting down: requests still running were cancelled"),
                     true);
    for (auto& signal : entry->handlers) signal.emit(asio::cancellation_type::terminal);
    auto hard = Clock::now() + kCancelWait;
    while (entry->running > 0 && Clock::now() < hard) co_await entry->idle.waitUntil(hard);
  } else {
    connection.close(Error(ErrorCode::Cancelled, "the server is shutting down"), false);
  }
  co_await connection.closed();
}

asio::awaitable<void> Server::Impl::stop(std::chrono::milliseconds grace) {
  auto self = shared_from_this();
  stopping = true;
  asio::error_code ignored;
  acceptor.close(ignored);
  auto deadline = Clock::now() + grace;
  std::vector<std::shared_ptr<Entry>> current(entries.begin(), entries.end());
  // Each step is built before it is awaited: GCC 12 may destroy temporaries of a co_await
  // expression twice.
  for (auto& entry : current) {
    auto goAway = [entry]() -> asio::awaitable<void> {
      if (entry->connection) entry->connection->goAway("the server is shutting down");
      co_return;
    };
    auto step = asio::co_spawn(entry->executor, std::move(goAway), asio::use_awaitable);
    co_await std::move(step);
  }
  for (auto& entry : current) {
    auto step = asio::co_spawn(entry->executor, drain(entry, deadline), asio::use_awaitable);
    co_await std::move(step);
  }
  // Each serve() unregisters itself once its connection has closed.
  while (!entries.empty()) co_await changed.wait();
  logInfo("server on port {} stopped", port);
}

Server::Server(asio::io_context& io, TlsServerSettings settings, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(settings), std::move(options))) {}

Server::~Server() {
  asio::error_code ignored;
  impl_->acceptor.close(ignored);
}

void Server::handle(std::string op, Handler handler) { impl_->handlers[std::move(op)] = std::move(handler); }

void Server::start() {
  auto& s = impl_->settings;
  asio::ip::tcp::resolver resolver(impl_->io);
  asio::error_code ec;
  auto endpoints = resolver.resolve(s.address, std::to_string(s.port), asio::ip::tcp::resolver::passive, ec);
  if (ec || endpoints.empty())
    fail(ErrorCode::Connect, "cannot resolve tls-server-address '{}': {}", s.address, ec ? ec.message() : "no address");
  asio::ip::tcp::endpoint endpoint = *endpoints.begin();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor.close(ignored);
    fail(ErrorCode::Connect, "cannot listen on {}:{} (tls-server-address, tls-server-port): {}", s.address, s.port,
         ec.message());
  }
  impl_->port = acceptor.local_endpoint().port();
  logInfo("listening on {}:{}", endpoint.address().to_string(), impl_->port);
  asio::co_spawn(impl_->strand, impl_->acceptLoop(), asio::detached);
}

uint16_t Server::port() const { return impl_->port; }

size_t Server::connectionCount() const { return impl_->count.load(); }

asio::awaitable<void> Server::stop(std::chrono::milliseconds grace) {
  auto step = asio::co_spawn(impl_->strand, impl_->stop(grace), asio::use_awaitable);
  co_await std::move(step);
}

}  // namespace pgbr::protocol
