// Length-prefixed records (`u32be length | body`) as chunks.put and chunks.get carry them
// (docs/operations.md): RecordFramer reassembles bodies that DATA frames split anywhere, and
// appendChunkRecord() writes one `length | chunk id | envelope` record of a chunks.put upload.
// A length beyond any valid record is Protocol (the stream cannot be resynchronised).
//
// A RecordFramer owns its buffer and belongs to one thread; spans it returns stay valid until the
// next feed().
#pragma once

#include "common/filter/buffer.h"
#include "common/filter/chunk_id.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pgbr::agent {

class RecordFramer {
 public:
  // maxBody bounds a record body; what names the stream in messages.
  RecordFramer(uint32_t maxBody, std::string what) : maxBody_(maxBody), what_(std::move(what)) {}

  // Adds received bytes.
  void feed(std::span<const uint8_t> data);
  // The next complete record body, or nullopt until more bytes arrive. A returned span stays
  // valid until the next feed() (next() may be called several times in between).
  std::optional<std::span<const uint8_t>> next();
  // True when no partial record is buffered (the stream may end here).
  bool atBoundary() const { return position_ == buffer_.size(); }

 private:
  uint32_t maxBody_;
  std::string what_;
  ByteBuffer buffer_;
  size_t position_ = 0;
};

// Appends `u32be(32 + envelope size) | id | envelope` to out.
void appendChunkRecord(std::vector<uint8_t>& out, const ChunkId& id, std::span<const uint8_t> envelope);

}  // namespace pgbr::agent
