// A queue of jobs between one producer and the worker pool. Each job has a weight (a file: one
// plus its chunk ids); push() blocks while the queued weight would exceed the capacity (a job
// heavier than the capacity still goes in once the queue is empty), so a producer that reads
// faster than the workers work never holds more than that. pop() waits for a job, tryPop() lets
// a worker notice that nothing is waiting and flush what it holds. close() lets the workers
// drain what is left; abort() stops everyone at once.
//
// Thread-safe: any number of producers and consumers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace pgbr::agent {

template <typename T>
class WorkQueue {
 public:
  explicit WorkQueue(uint64_t capacity = UINT64_MAX) : capacity_(capacity) {}

  // Returns false (dropping the job) once the queue was aborted.
  bool push(T job, uint64_t weight = 1) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return aborted_ || queued_ == 0 || queued_ + weight <= capacity_; });
    if (aborted_) return false;
    queued_ += weight;
    jobs_.emplace_back(std::move(job), weight);
    changed_.notify_one();
    return true;
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
    queued_ = 0;
    changed_.notify_all();
    room_.notify_all();
  }

 private:
  std::optional<T> takeLocked() {
    if (aborted_ || jobs_.empty()) return std::nullopt;
    auto [job, weight] = std::move(jobs_.front());
    jobs_.pop_front();
    queued_ -= weight;
    room_.notify_all();
    return std::move(job);
  }

  const uint64_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::condition_variable room_;
  std::deque<std::pair<T, uint64_t>> jobs_;
  uint64_t queued_ = 0;
  bool closed_ = false;
  bool aborted_ = false;
};

}  // namespace pgbr::agent
