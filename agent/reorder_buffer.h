// Puts results that finish out of order back into the order their work was handed out, with a
// bound on what is outstanding: the producer (the data-directory walk, in manifest order) reserves
// a sequence number with a weight (an entry plus its expected chunk ids), workers complete
// sequence numbers in any order, and the consumer takes completed items strictly in sequence.
// reserve() blocks while the weight of everything reserved but not yet taken would exceed the
// capacity, so memory stays bounded whatever the number or size of files; an item heavier than
// the whole capacity is still admitted when nothing else is outstanding.
//
// Thread-safe: one producer, any number of completers, one consumer. abort() wakes everyone.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace pgbr::agent {

template <typename T>
class ReorderBuffer {
 public:
  explicit ReorderBuffer(uint64_t capacity) : capacity_(capacity) {}

  // The next sequence number (0, 1, 2, …), once `weight` fits; nullopt after abort().
  std::optional<uint64_t> reserve(uint64_t weight) {
    std::unique_lock lock(mutex_);
    roomChanged_.wait(lock, [&] { return aborted_ || used_ == 0 || used_ + weight <= capacity_; });
    if (aborted_) return std::nullopt;
    used_ += weight;
    uint64_t seq = reserved_++;
    slots_.emplace(seq, Slot{.weight = weight});
    return seq;
  }

  // The work for seq is done; nullopt when it produced nothing (a file that vanished).
  void complete(uint64_t seq, std::optional<T> item) {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(seq);
    if (it == slots_.end() || it->second.done) return;  // aborted meanwhile, or a bug that must not crash
    it->second.done = true;
    it->second.item = std::move(item);
    if (seq == next_) readyChanged_.notify_all();
  }

  // No more reserve() calls will come.
  void finishProducing() {
    std::lock_guard lock(mutex_);
    producing_ = false;
    readyChanged_.notify_all();
  }

  // Waits until the next item in sequence is complete, then moves it and every completed item
  // right after it into `out` (empty slots are skipped). Returns false at the end: the producer
  // has finished and everything reserved was taken, or abort() was called.
  bool takeReady(std::vector<T>& out) {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (aborted_) return false;
      bool took = false;
      for (auto it = slots_.find(next_); it != slots_.end() && it->second.done; it = slots_.find(next_)) {
        if (it->second.item) out.push_back(std::move(*it->second.item));
        used_ -= it->second.weight;
        slots_.erase(it);
        ++next_;
        took = true;
      }
      if (took) {
        roomChanged_.notify_all();
        return true;
      }
      if (!producing_ && next_ == reserved_) return false;
      readyChanged_.wait(lock);
    }
  }

  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    roomChanged_.notify_all();
    readyChanged_.notify_all();
  }

  // Weight reserved and not yet taken (for tests and statistics).
  uint64_t outstanding() const {
    std::lock_guard lock(mutex_);
    return used_;
  }

 private:
  struct Slot {
    uint64_t weight = 0;
    bool done = false;
    std::optional<T> item;
  };

  const uint64_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable roomChanged_;
  std::condition_variable readyChanged_;
  std::map<uint64_t, Slot> slots_;
  uint64_t used_ = 0;
  uint64_t reserved_ = 0;
  uint64_t next_ = 0;
  bool producing_ = true;
  bool aborted_ = false;
};

}  // namespace pgbr::agent
