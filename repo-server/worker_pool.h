// The server's worker threads, for everything that blocks or burns CPU (verifying chunks,
// sealing packs, fsync, reading the repository), and the two ways a network coroutine hands
// work to them without blocking its strand:
//   - WorkerPool::run(job): one job, awaited; the coroutine resumes on its own executor;
//   - JobQueue<R>: several jobs in flight at once, results taken in the order they started,
//     so one request keeps every worker busy while memory stays bounded by the queue depth.
//
// Threading: WorkerPool is thread-safe. A JobQueue belongs to one coroutine and is used only on
// that coroutine's executor (a connection strand). Lifetime: jobs given to JobQueue::start()
// must own what they touch (capture by value), apart from objects that outlive the pool (the
// repository), because a cancelled coroutine may leave before its jobs end; run() never returns
// before its job has ended, so its job may refer to the caller's locals. join() the pool before
// destroying the io_context its callers run on.
#pragma once

#include "protocol/signal.h"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

namespace pgbr::repo {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t threads() const { return threads_; }
  asio::thread_pool::executor_type executor() { return pool_.get_executor(); }
  // Waits for every job already queued, then stops the threads.
  void join() { pool_.join(); }

  // Runs fn on a worker and returns (or rethrows) its result on the caller's executor.
  template <typename F>
  asio::awaitable<std::invoke_result_t<F&>> run(F fn) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      auto task = [fn = std::move(fn)]() mutable -> asio::awaitable<void> {
        fn();
        co_return;
      };
      // Built before it is awaited: GCC 12 may destroy temporaries of a co_await expression twice.
      auto step = asio::co_spawn(pool_.get_executor(), std::move(task), asio::use_awaitable);
      co_await std::move(step);
    } else {
      auto task = [fn = std::move(fn)]() mutable -> asio::awaitable<R> { co_return fn(); };
      auto step = asio::co_spawn(pool_.get_executor(), std::move(task), asio::use_awaitable);
      co_return co_await std::move(step);
    }
  }

 private:
  size_t threads_;
  asio::thread_pool pool_;
};

// Jobs of one coroutine running on the pool, at most `depth` of them not yet taken with next().
// R must be default-constructible and movable.
template <typename R>
class JobQueue {
 public:
  JobQueue(WorkerPool& pool, asio::any_io_executor executor, size_t depth)
      : pool_(pool), executor_(executor), depth_(depth < 1 ? 1 : depth), state_(std::make_shared<State>(executor)) {}

  // Jobs started and not yet taken.
  size_t size() const { return state_->slots.size(); }
  bool empty() const { return state_->slots.empty(); }
  // True when the caller should take a result before starting another job.
  bool full() const { return state_->slots.size() >= depth_; }

  void start(std::function<R()> job) {
    auto slot = std::make_shared<Slot>();
    state_->slots.push_back(slot);
    auto task = [job = std::move(job)]() -> asio::awaitable<R> { co_return job(); };
    asio::co_spawn(pool_.executor(), std::move(task),
                   asio::bind_executor(executor_, [state = state_, slot](std::exception_ptr error, R value) {
                     slot->done = true;
                     if (error)
                       slot->error = error;
                     else
                       slot->value = std::move(value);
                     state->signal.notify();
                   }));
  }

  // The result of the oldest job, once it has ended; rethrows its exception.
  asio::awaitable<R> next() {
    if (state_->slots.empty()) fail(ErrorCode::Internal, "JobQueue::next() without a job");
    auto slot = state_->slots.front();
    while (!slot->done) co_await state_->signal.wait();
    state_->slots.pop_front();
    if (slot->error) std::rethrow_exception(slot->error);
    co_return std::move(*slot->value);
  }

  // Waits until every started job has ended, discarding results and errors (after a failure,
  // before the caller reports it).
  asio::awaitable<void> drain() {
    while (!state_->slots.empty()) {
      auto slot = state_->slots.front();
      while (!slot->done) co_await state_->signal.wait();
      state_->slots.pop_front();
    }
  }

 private:
  struct Slot {
    bool done = false;
    std::optional<R> value;
    std::exception_ptr error;
  };
  struct State {
    explicit State(const asio::any_io_executor& executor) : signal(executor) {}
    std::deque<std::shared_ptr<Slot>> slots;
    protocol::Signal signal;
  };

  WorkerPool& pool_;
  asio::any_io_executor executor_;
  size_t depth_;
  std::shared_ptr<State> state_;
};

}  // namespace pgbr::repo
