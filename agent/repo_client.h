// The agent's connection to pgbr-repo as blocking calls: RepoClient connects over mutual TLS
// (repo1-host, repo1-host-port, repo1-host-ca-file, -cert-file, -key-file) and runs the request
// styles of docs/operations.md — call, upload, download, and the long-lived backup channel —
// from any thread but the network thread, each waiting at most protocol-timeout.
//
// Threading: RepoClient and RepoChannel methods may be called from several threads at once
// (each call is a coroutine on the network strand); one RepoChannel is used by one thread at a
// time. Lifetime: a RepoClient must outlive its channels and be destroyed before its Network.
// A server's ERROR arrives as pgbr::Error with the server's code and message.
#pragma once

#include "agent/network.h"
#include "common/config/config.h"
#include "common/error.h"
#include "protocol/client.h"
#include "protocol/tls.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pgbr::agent {

struct RepoSettings {
  protocol::TlsClientSettings tls;
  protocol::Limits limits;
  std::chrono::milliseconds protocolTimeout{1830 * 1000};
};

// From repo1-host, repo1-host-port, repo1-host-ca-file/-cert-file/-key-file, tls-min-version,
// io-timeout (the connection's idle time-out) and protocol-timeout.
RepoSettings repoSettings(const Config& config);

class RepoClient;

// One request's channel. Destroying it before both sides ended cancels the request.
class RepoChannel {
 public:
  RepoChannel(RepoClient& client, std::shared_ptr<protocol::Channel> channel);
  RepoChannel(RepoChannel&&) noexcept = default;
  RepoChannel& operator=(RepoChannel&&) = delete;
  ~RepoChannel();

  void sendData(std::span<const uint8_t> data);
  void sendEnd(const nlohmann::json& trailer = nlohmann::json::object());
  nlohmann::json receiveResponse();
  // The next DATA payload, or nullopt at the server's END (whose trailer is then trailer()).
  std::optional<std::vector<uint8_t>> receiveData();
  const nlohmann::json& trailer() const { return trailer_; }
  // Ends the request for both sides; later calls throw Cancelled.
  void cancel();

 private:
  RepoClient* client_;
  std::shared_ptr<protocol::Channel> channel_;
  nlohmann::json trailer_ = nlohmann::json::object();
};

class RepoClient {
 public:
  // Connects and exchanges HELLO; throws Connect, Tls, Auth, Timeout or Protocol errors that
  // name the server.
  RepoClient(Network& network, RepoSettings settings);
  // Closes the connection (requests still open are cancelled).
  ~RepoClient();
  RepoClient(const RepoClient&) = delete;
  RepoClient& operator=(const RepoClient&) = delete;

  Network& network() const { return network_; }
  // "db-backup:8432"
  const std::string& where() const { return where_; }
  // The server's HELLO software string: "pgbr-repo 0.1.0".
  const std::string& serverSoftware() const { return serverSoftware_; }
  std::chrono::milliseconds protocolTimeout() const { return settings_.protocolTimeout; }

  std::chrono::nanoseconds ping();
  // A call: REQUEST, then RESPONSE and END. Returns the RESPONSE.
  nlohmann::json call(const nlohmann::json& request);
  // Opens a channel with the REQUEST; the caller drives the rest (uploads and the backup channel).
  RepoChannel open(const nlohmann::json& request);
  // A download: REQUEST and END at once (the server may finish before an END sent later would
  // arrive, and cancel the channel), then the RESPONSE; the caller reads the DATA.
  std::pair<RepoChannel, nlohmann::json> download(const nlohmann::json& request);
  // An upload that does not block: REQUEST, DATA (data), END, then RESPONSE and END, on the
  // network thread; done(error or null, RESPONSE) is called there when it is over.
  void uploadAsync(nlohmann::json request, std::vector<uint8_t> data,
                   std::function<void(std::exception_ptr, nlohmann::json)> done);
  // Closes the connection: every call in flight, and every later one, throws reason.
  void abort(const Error& reason);

  // Runs a coroutine on the network strand, waiting at most protocol-timeout (then the
  // connection is closed with a Timeout error naming `what`), and turns a server's ERROR into an
  // Error with the server's own message.
  template <typename Function>
  auto run(std::string_view what, Function function) -> typename std::invoke_result_t<Function>::value_type {
    auto future = network_.start(std::move(function));
    waitFor(future, what);
    try {
      return future.get();
    } catch (const Error& error) {
      throw withoutChannel(error);
    }
  }

 private:
  template <typename Future>
  void waitFor(Future& future, std::string_view what) {
    if (future.wait_for(settings_.protocolTimeout) == std::future_status::ready) return;
    abort(timedOut(what));
    future.wait();
  }
  Error timedOut(std::string_view what) const;
  // "server h:p ended channel 7: <message>" -> "<message>": the server's words are what a user
  // needs; the channel number is noise.
  static Error withoutChannel(const Error& error);

  Network& network_;
  RepoSettings settings_;
  std::string where_;
  std::string serverSoftware_;
  std::optional<protocol::Client> client_;  // used on the network strand only
};

}  // namespace pgbr::agent
