// The agent's one network thread: an io_context run by a thread of its own, with a strand on
// which the repository connection and all its channels live. Commands are plain blocking code on
// other threads (the main thread, the worker pool): they hand coroutines to the strand and wait
// for their results, so disk and CPU work never runs on the network thread and the network
// never waits for a disk.
//
// Ownership: a Network owns the io_context and its thread; destroy it after everything that
// uses it (the RepoClient closes its connection first). Threading: run() and spawn() may be
// called from any thread except the network thread itself.
#pragma once

// A standard header before Asio's: Asio picks aligned_alloc or operator new for its handler
// memory by whether libstdc++'s configuration is visible yet, and every file must pick the same
// (AddressSanitizer reports the mix as alloc-dealloc-mismatch).
#include <cstddef>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/strand.hpp>
#include <asio/use_future.hpp>

#include <exception>
#include <functional>
#include <future>
#include <thread>
#include <type_traits>

namespace pgbr::agent {

class Network {
 public:
  using Executor = asio::strand<asio::io_context::executor_type>;

  // Starts the network thread.
  Network();
  // Stops taking signals, lets the io_context run out of work (a short grace), then stops it and
  // joins the thread.
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const Executor& executor() const { return strand_; }
  bool onNetworkThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Runs the coroutine `function()` on the strand and blocks until it has finished; returns its
  // value or rethrows its exception. Calling it on the network thread is a bug (Internal).
  template <typename Function>
  auto run(Function function) -> typename std::invoke_result_t<Function>::value_type {
    requireOffNetworkThread();
    return asio::co_spawn(strand_, std::move(function), asio::use_future).get();
  }

  // The same without blocking: starts the coroutine and returns a future of its result.
  template <typename Function>
  auto start(Function function) -> std::future<typename std::invoke_result_t<Function>::value_type> {
    return asio::co_spawn(strand_, std::move(function), asio::use_future);
  }

  // Starts the coroutine and calls done(exception or null) on the strand when it ends.
  void spawn(std::function<asio::awaitable<void>()> function, std::function<void(std::exception_ptr)> done);

  // Runs fn on the strand soon; never blocks.
  void post(std::function<void()> fn);

  // Calls handler on the strand for SIGINT, SIGTERM and SIGHUP, once per signal, until the
  // Network is destroyed. Replaces an earlier handler; an empty one stops the calls. Returns once
  // the change is in effect.
  void onSignal(std::function<void(int)> handler);

 private:
  void requireOffNetworkThread() const;
  void waitForSignal();

  asio::io_context io_;
  Executor strand_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::signal_set signals_;
  std::function<void(int)> signalHandler_;  // used on the strand only
  bool waitingForSignal_ = false;           // used on the strand only
  std::promise<void> exited_;
  std::future<void> exitedFuture_;
  std::thread thread_;
};

}  // namespace pgbr::agent
