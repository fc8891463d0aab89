// A queue of jobs between one producer and the worker pool: push() never blocks (the producer
// bounds what it hands out some other way, such as a ReorderBuffer), pop() waits for a job, and
// tryPop() lets a worker notice that nothing is waiting and flush what it holds. close() lets the
// workers drain what is left; abort() stops them at once.
//
// Thread-safe: any number of producers and consumers.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace pgbr::agent {

template <typename T>
class WorkQueue {
 public:
  void push(T job) {
    std::lock_guard lock(mutex_);
    if (aborted_) return;
    jobs_.push_back(std::move(job));
    changed_.notify_one();
  }

  // The next job; nullopt once the queue is closed and empty, or aborted.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return aborted_ || closed_ || !jobs_.empty(); });
    return takeLocked();
  }

  // The next job if one is waiting.
  std::optional<T> tryPop() {
    std::lock_guard lock(mutex_);
    return takeLocked();
  }

  // True when pop() would return nullopt at once.
  bool finished() const {
    std::lock_guard lock(mutex_);
    return aborted_ || (closed_ && jobs_.empty());
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    jobs_.clear();
    changed_.notify_all();
  }

 private:
  std::optional<T> takeLocked() {
    if (aborted_ || jobs_.empty()) return std::nullopt;
    T job = std::move(jobs_.front());
    jobs_.pop_front();
    return job;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> jobs_;
  bool closed_ = false;
  bool aborted_ = false;
};

}  // namespace pgbr::agent
