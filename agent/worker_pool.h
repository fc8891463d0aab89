// The disk and CPU side of a backup or a restore: process-max threads (an asio::thread_pool) that
// drain a WorkQueue, each through a worker object of its own (hashers, codecs and batch buffers
// are per thread). A worker has process(job) and flush(); it is flushed whenever the queue is
// momentarily empty — so no job waits in a half-full batch while the producer waits for room — and
// once more at the end. The first failure anywhere (a worker, or the producer through fail()) is
// kept, stops the queue and runs the onStop hook; join() waits for the threads and rethrow()
// raises that first failure.
//
// Thread-safe; the pool must outlive nothing it started: join() before it is destroyed (the
// destructor joins too).
#pragma once

// A standard header before Asio's: Asio picks aligned_alloc or operator new for its handler
// memory by whether libstdc++'s configuration is visible yet, and every file must pick the same
// (AddressSanitizer reports the mix as alloc-dealloc-mismatch).
#include <cstddef>

#include "agent/work_queue.h"

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>

namespace pgbr::agent {

// The first of several failures; later ones are consequences of it.
class FirstError {
 public:
  // Returns true for the first failure.
  bool set(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (error_) return false;
    error_ = std::move(error);
    return true;
  }
  void rethrowIfSet() {
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

template <typename Job>
class WorkerPool {
 public:
  WorkerPool(unsigned threads, WorkQueue<Job>& jobs, std::function<void()> onStop = {})
      : threads_(threads), jobs_(jobs), onStop_(std::move(onStop)), pool_(threads) {}
  ~WorkerPool() { join(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts the threads; makeWorker() runs on each to make its worker.
  template <typename MakeWorker>
  void start(MakeWorker makeWorker) {
    for (unsigned i = 0; i < threads_; ++i) {
      asio::post(pool_, [this, makeWorker] {
        try {
          auto worker = makeWorker();
          for (;;) {
            auto job = jobs_.tryPop();
            if (!job) {
              worker.flush();
              job = jobs_.pop();
              if (!job) break;
            }
            worker.process(*job);
          }
          if (!stopping_) worker.flush();
        } catch (...) {
          fail(std::current_exception());
        }
      });
    }
  }

  // Records a failure (the first one wins) and stops everything.
  void fail(std::exception_ptr error) {
    failure_.set(std::move(error));
    if (stopping_.exchange(true)) return;
    jobs_.abort();
    if (onStop_) onStop_();
  }
  bool stopping() const { return stopping_; }

  void join() { pool_.join(); }
  void rethrow() { failure_.rethrowIfSet(); }

 private:
  unsigned threads_;
  WorkQueue<Job>& jobs_;
  std::function<void()> onStop_;
  std::atomic<bool> stopping_{false};
  FirstError failure_;
  asio::thread_pool pool_;
};

}  // namespace pgbr::agent
