// Per-thread tools for the worker threads: objects that own cipher, compression and hash
// contexts are costly to build, so a job leases one, uses it, and gives it back. LeasePool<T>
// makes them on demand; ChunkDecoderPool is the pool of ChunkDecoders. Thread-safe; a leased
// object belongs to the leasing thread until the Lease is destroyed. The pool must outlive its
// leases.
#pragma once

#include "common/filter/chunk.h"

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace pgbr::repo {

template <typename T>
class LeasePool {
 public:
  explicit LeasePool(std::function<std::unique_ptr<T>()> make) : make_(std::move(make)) {}

  class Lease {
   public:
    Lease(LeasePool& pool, std::unique_ptr<T> object) : pool_(&pool), object_(std::move(object)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (object_) pool_->giveBack(std::move(object_));
    }
    T& operator*() const { return *object_; }
    T* operator->() const { return object_.get(); }

   private:
    LeasePool* pool_;
    std::unique_ptr<T> object_;
  };

  Lease lease() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        auto object = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(object));
      }
    }
    return Lease(*this, make_());
  }

 private:
  void giveBack(std::unique_ptr<T> object) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(object));
  }

  std::function<std::unique_ptr<T>()> make_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> free_;
};

class ChunkDecoderPool : public LeasePool<ChunkDecoder> {
 public:
  explicit ChunkDecoderPool(std::shared_ptr<const Keyring> keys)
      : LeasePool([keys = std::move(keys)] { return std::make_unique<ChunkDecoder>(keys); }) {}
};

}  // namespace pgbr::repo
