// The two byte-stream interfaces every pipeline stage and storage driver speaks: ByteSink (push
// bytes, then finish() or cancel()) and ByteSource (pull bytes until 0), plus in-memory ones.
//
// Contract (ClickHouse WriteBuffer style): finish() is explicit, may throw, and is called at most
// once; a sink that threw stays failed and only cancel() is allowed afterwards; cancel() is
// noexcept and discards what was not finished; destructors never finish, they only cancel.
// A sink that wraps another owns it and finishes/cancels it from its own finish()/cancel().
// Objects are not thread-safe: one thread uses one stream at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pgbr {

class ByteSink {
public:
  virtual ~ByteSink() = default;
  // Appends data. Throws Error; after a throw the sink is failed.
  virtual void write(std::span<const uint8_t> data) = 0;
  // Completes the stream (for storage: makes the object durable and visible). May throw.
  virtual void finish() = 0;
  // Abandons the stream: nothing unfinished becomes visible. Safe in any state, any number of times.
  virtual void cancel() noexcept = 0;
};

class ByteSource {
public:
  virtual ~ByteSource() = default;
  // Reads up to buffer.size() bytes; returns 0 only at the end of the stream. Throws Error.
  virtual size_t read(std::span<uint8_t> buffer) = 0;
};

// Reads until buffer is full or the source ends; returns the bytes read.
size_t readFull(ByteSource& source, std::span<uint8_t> buffer);
// Reads everything that is left in the source.
std::vector<uint8_t> readAll(ByteSource& source);

// A sink that collects everything in memory; finish() only marks it finished.
class VectorSink final : public ByteSink {
public:
  void write(std::span<const uint8_t> data) override;
  void finish() override;
  void cancel() noexcept override;

  bool finished() const { return finished_; }
  const std::vector<uint8_t>& data() const { return data_; }
  std::vector<uint8_t> take() { return std::move(data_); }

private:
  std::vector<uint8_t> data_;
  bool finished_ = false;
  bool cancelled_ = false;
};

// A source over bytes the caller keeps alive for the source's lifetime.
class SpanSource final : public ByteSource {
public:
  explicit SpanSource(std::span<const uint8_t> data) : data_(data) {}
  size_t read(std::span<uint8_t> buffer) override;

private:
  std::span<const uint8_t> data_;
};

}  // namespace pgbr
