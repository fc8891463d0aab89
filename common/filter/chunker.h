// Cuts a file into fixed-size chunks: reads an open file descriptor (not owned) with pread into
// one reusable buffer and hands out each chunk as a span, so reading a file of any size needs
// one chunk of memory. The file may change while it is read (PostgreSQL keeps writing during a
// backup): the chunker reads what is there until end of file, and WAL replay repairs the rest.
// One thread per Chunker.
#pragma once

#include "common/filter/buffer.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace pgbr {

class Chunker {
public:
  // chunkSize must be a positive multiple of 8 KiB (the pipeline's chunk size). path names the
  // file in messages. Reading starts at offset 0.
  Chunker(int fd, std::string path, uint32_t chunkSize);

  // The next chunk (full size except possibly the last), or nullopt at end of file. The span is
  // valid until the next call. Throws FileRead.
  std::optional<std::span<const uint8_t>> next();
  // File offset of the chunk last returned, and the bytes returned so far.
  uint64_t chunkOffset() const { return chunkOffset_; }
  uint64_t bytesRead() const { return offset_; }

private:
  int fd_;
  std::string path_;
  uint32_t chunkSize_;
  ByteBuffer buffer_;
  uint64_t offset_ = 0;
  uint64_t chunkOffset_ = 0;
  bool ended_ = false;
};

}  // namespace pgbr
