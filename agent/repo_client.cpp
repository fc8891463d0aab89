#include "agent/repo_client.h"

#include "common/log.h"

#include <asio/use_awaitable.hpp>

namespace pgbr::agent {

using nlohmann::json;

RepoSettings repoSettings(const Config& config) {
  RepoSettings settings;
  settings.tls.host = config.str("repo-host", 1);
  settings.tls.port = static_cast<uint16_t>(config.integer("repo-host-port", 1));
  settings.tls.caFile = config.str("repo-host-ca-file", 1);
  settings.tls.certFile = config.str("repo-host-cert-file", 1);
  settings.tls.keyFile = config.str("repo-host-key-file", 1);
  settings.tls.minVersion =
      config.choice("tls-min-version") == "1.2" ? protocol::TlsVersion::Tls12 : protocol::TlsVersion::Tls13;
  settings.limits.idleTimeout = config.duration("io-timeout");
  settings.protocolTimeout = config.duration("protocol-timeout");
  return settings;
}

// ---------------------------------------------------------------------------------------------
// RepoChannel

RepoChannel::RepoChannel(RepoClient& client, std::shared_ptr<protocol::Channel> channel)
    : client_(&client), channel_(std::move(channel)) {}

RepoChannel::~RepoChannel() {
  if (!channel_) return;
  // The channel belongs to the strand: destroy it there (which cancels it if it is not over).
  client_->network().post([channel = std::move(channel_)]() mutable { channel.reset(); });
}

void RepoChannel::sendData(std::span<const uint8_t> data) {
  client_->run("sending data",
               [channel = channel_, data]() -> asio::awaitable<void> { co_await channel->sendData(data); });
}

void RepoChannel::sendEnd(const json& trailer) {
  client_->run("ending a request",
               [channel = channel_, trailer]() -> asio::awaitable<void> { co_await channel->sendEnd(trailer); });
}

json RepoChannel::receiveResponse() {
  return client_->run("waiting for a response", [channel = channel_]() -> asio::awaitable<json> {
    co_return co_await channel->receiveResponse();
  });
}

std::optional<std::vector<uint8_t>> RepoChannel::receiveData() {
  auto [data, trailer] =
      client_->run("waiting for data",
                   [channel = channel_]() -> asio::awaitable<std::pair<std::optional<std::vector<uint8_t>>, json>> {
                     auto received = co_await channel->receiveData();
                     json end = received ? json() : channel->trailer();
                     co_return std::pair{std::move(received), std::move(end)};
                   });
  if (!data) trailer_ = std::move(trailer);
  return std::move(data);
}

void RepoChannel::cancel() {
  client_->run("cancelling a request", [channel = channel_]() -> asio::awaitable<void> {
    channel->cancel();
    co_return;
  });
}

// ---------------------------------------------------------------------------------------------
// RepoClient

RepoClient::RepoClient(Network& network, RepoSettings settings) : network_(network), settings_(std::move(settings)) {
  where_ = fmt::format("{}:{}", settings_.tls.host, settings_.tls.port);
  protocol::ClientOptions options;
  options.limits = settings_.limits;
  options.context = protocol::TlsContext::client(settings_.tls);
  serverSoftware_ = run("connecting", [this, options]() -> asio::awaitable<std::string> {
    client_.emplace(co_await protocol::Client::connect(settings_.tls, options));
    co_return client_->connection().peerHello().software;
  });
  logDetail("connected to repository server {} ({})", where_, serverSoftware_);
}

RepoClient::~RepoClient() {
  try {
    network_.run([this]() -> asio::awaitable<void> {
      if (client_) {
        co_await client_->close();
        client_.reset();
      }
    });
  } catch (const std::exception& error) {
    logDebug("closing the connection to {}: {}", where_, error.what());
  }
}

std::chrono::nanoseconds RepoClient::ping() {
  return run("ping", [this]() -> asio::awaitable<std::chrono::nanoseconds> { co_return co_await client_->ping(); });
}

json RepoClient::call(const json& request) {
  std::string op = request.value("op", "request");
  return run(op, [this, request]() -> asio::awaitable<json> {
    auto channel = co_await client_->openChannel(request);
    co_await channel.sendEnd();
    json response = co_await channel.receiveResponse();
    while (co_await channel.receiveData()) {
    }
    co_return response;
  });
}

RepoChannel RepoClient::open(const json& request) {
  std::string op = request.value("op", "request");
  auto channel = run(op, [this, request]() -> asio::awaitable<std::shared_ptr<protocol::Channel>> {
    co_return std::make_shared<protocol::Channel>(co_await client_->openChannel(request));
  });
  return RepoChannel(*this, std::move(channel));
}

std::pair<RepoChannel, json> RepoClient::download(const json& request) {
  std::string op = request.value("op", "request");
  auto [channel, response] =
      run(op, [this, request]() -> asio::awaitable<std::pair<std::shared_ptr<protocol::Channel>, json>> {
        auto opened = std::make_shared<protocol::Channel>(co_await client_->openChannel(request));
        co_await opened->sendEnd();
        json answer = co_await opened->receiveResponse();
        co_return std::pair{std::move(opened), std::move(answer)};
      });
  return {RepoChannel(*this, std::move(channel)), std::move(response)};
}

void RepoClient::uploadAsync(json request, std::vector<uint8_t> data,
                             std::function<void(std::exception_ptr, json)> done) {
  auto response = std::make_shared<json>();
  network_.spawn(
      [this, request = std::move(request), data = std::move(data), response]() -> asio::awaitable<void> {
        auto channel = co_await client_->openChannel(request);
        co_await channel.sendData(data);
        co_await channel.sendEnd();
        *response = co_await channel.receiveResponse();
        while (co_await channel.receiveData()) {
        }
      },
      [response, done = std::move(done)](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const Error& e) {
            error = std::make_exception_ptr(withoutChannel(e));
          } catch (...) {
          }
        }
        done(error, std::move(*response));
      });
}

void RepoClient::abort(const Error& reason) {
  network_.post([this, reason] {
    if (client_) client_->connection().close(reason);
  });
}

Error RepoClient::timedOut(std::string_view what) const {
  return Error(ErrorCode::Timeout,
               fmt::format("no answer from repository server {} within protocol-timeout ({} s) while {}; raise "
                           "protocol-timeout if the server is busy",
                           where_, settings_.protocolTimeout.count() / 1000.0, what));
}

Error RepoClient::withoutChannel(const Error& error) {
  std::string_view message = error.what();
  auto at = message.find(" ended channel ");
  if (at != std::string_view::npos) {
    auto colon = message.find(": ", at);
    if (colon != std::string_view::npos) return Error(error.code(), std::string(message.substr(colon + 2)));
  }
  return error;
}

}  // namespace pgbr::agent
