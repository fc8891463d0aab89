// A wake-up for coroutines that run on one strand: waiters re-check their condition after
// every wake-up, so a notify() that finds no waiter is harmless. Built on a timer that never
// expires by itself; notify() cancels its waits.
//
// Not thread-safe: notify() and wait() must run on the executor the Signal was made with.
#pragma once

#include "common/error.h"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace pgbr::protocol {

class Signal {
 public:
  explicit Signal(const asio::any_io_executor& executor)
      : timer_(executor, std::chrono::steady_clock::time_point::max()) {}

  void notify() { timer_.cancel(); }

  // Returns after notify(); throws Error(Cancelled) if the waiting coroutine was cancelled.
  asio::awaitable<void> wait() {
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_await throwIfCancelled();
  }

  // As wait(), also returning at `deadline`. Only for a Signal with a single waiter.
  asio::awaitable<void> waitUntil(std::chrono::steady_clock::time_point deadline) {
    timer_.expires_at(deadline);
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await throwIfCancelled();
  }

  static asio::awaitable<void> throwIfCancelled() {
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) fail(ErrorCode::Cancelled, "the operation was cancelled");
  }

 private:
  asio::steady_timer timer_;
};

}  // namespace pgbr::protocol
