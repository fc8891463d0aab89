// A growable byte buffer that, unlike std::vector, does not zero what it grows into: pipeline
// stages overwrite every byte they size, and at chunk sizes zero-filling is measurable.
// Capacity only grows, so a buffer reused per chunk allocates once. Single owner, one thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace pgbr {

class ByteBuffer {
public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }
  std::span<const uint8_t> span() const { return {data_.get(), size_}; }

  // Sets the size; bytes beyond the old size are uninitialised; existing bytes are kept.
  void resize(size_t size) {
    reserve(size);
    size_ = size;
  }
  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    size_t grown = std::max(capacity, capacity_ + capacity_ / 2);
    auto bigger = std::make_unique_for_overwrite<uint8_t[]>(grown);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = grown;
  }
  void append(std::span<const uint8_t> bytes) {
    size_t old = size_;
    resize(old + bytes.size());
    if (!bytes.empty()) std::memcpy(data_.get() + old, bytes.data(), bytes.size());
  }
  void clear() { size_ = 0; }

private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace pgbr
