#include "agent/network.h"

#include "common/error.h"
#include "common/log.h"

#include <asio/bind_executor.hpp>
#include <asio/post.hpp>

#include <csignal>

namespace pgbr::agent {

Network::Network()
    : strand_(asio::make_strand(io_)), work_(asio::make_work_guard(io_)), signals_(io_, SIGINT, SIGTERM, SIGHUP) {
  exitedFuture_ = exited_.get_future();
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (const std::exception& error) {
      // Handlers catch their own errors; anything reaching here is a bug worth a line in the log.
      logError("network thread stopped: {}", error.what());
    }
    exited_.set_value();
  });
}

Network::~Network() {
  std::promise<void> cancelled;
  auto signalsCancelled = cancelled.get_future();
  asio::post(strand_, [this, &cancelled] {
    std::error_code ignored;
    signals_.cancel(ignored);
    signalHandler_ = nullptr;
    cancelled.set_value();
  });
  signalsCancelled.wait();
  work_.reset();
  // Connections close on their own once their owners are gone; what still runs after a grace
  // period (a peer that never answers close_notify) is stopped, and its frames destroyed.
  if (exitedFuture_.wait_for(std::chrono::seconds(3)) != std::future_status::ready) io_.stop();
  thread_.join();
}

void Network::spawn(std::function<asio::awaitable<void>()> function, std::function<void(std::exception_ptr)> done) {
  asio::co_spawn(strand_, std::move(function), std::move(done));
}

void Network::post(std::function<void()> fn) { asio::post(strand_, std::move(fn)); }

void Network::onSignal(std::function<void(int)> handler) {
  std::promise<void> applied;
  auto done = applied.get_future();
  asio::post(strand_, [this, &applied, handler = std::move(handler)]() mutable {
    signalHandler_ = std::move(handler);
    if (signalHandler_ && !waitingForSignal_) waitForSignal();
    applied.set_value();
  });
  // Once this returns, the old handler is never called again (the caller may destroy what it uses).
  if (!onNetworkThread()) done.wait();
}

void Network::waitForSignal() {
  waitingForSignal_ = true;
  signals_.async_wait(asio::bind_executor(strand_, [this](std::error_code error, int signal) {
    waitingForSignal_ = false;
    if (error || !signalHandler_) return;
    signalHandler_(signal);
    if (signalHandler_ && !waitingForSignal_) waitForSignal();
  }));
}

void Network::requireOffNetworkThread() const {
  if (onNetworkThread()) fail(ErrorCode::Internal, "a blocking network call was made on the network thread");
}

}  // namespace pgbr::agent
