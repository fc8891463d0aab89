// ChunkDecoders for the worker threads: each decoder owns cipher and compression contexts that
// are costly to build, so workers lease one per job and give it back. Thread-safe; a leased
// decoder belongs to the leasing thread until the Lease is destroyed. The pool must outlive
// its leases.
#pragma once

#include "common/filter/chunk.h"

#include <memory>
#include <mutex>
#include <vector>

namespace pgbr::repo {

class ChunkDecoderPool {
 public:
  explicit ChunkDecoderPool(std::shared_ptr<const Keyring> keys) : keys_(std::move(keys)) {}

  class Lease {
   public:
    Lease(ChunkDecoderPool& pool, std::unique_ptr<ChunkDecoder> decoder) : pool_(&pool), decoder_(std::move(decoder)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (decoder_) pool_->giveBack(std::move(decoder_));
    }
    ChunkDecoder& operator*() const { return *decoder_; }
    ChunkDecoder* operator->() const { return decoder_.get(); }

   private:
    ChunkDecoderPool* pool_;
    std::unique_ptr<ChunkDecoder> decoder_;
  };

  Lease lease() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        auto decoder = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(decoder));
      }
    }
    return Lease(*this, std::make_unique<ChunkDecoder>(keys_));
  }

 private:
  void giveBack(std::unique_ptr<ChunkDecoder> decoder) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(decoder));
  }

  std::shared_ptr<const Keyring> keys_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<ChunkDecoder>> free_;
};

}  // namespace pgbr::repo
