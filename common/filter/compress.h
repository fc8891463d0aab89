// Chunk-at-a-time compression with zstd, lz4 (frame format), bzip2 and gzip (zlib), reusing
// each library's context between calls. Names follow pgBackRest's compress-type values
// (zst, lz4, bz2, gz, none) so configurations read the same.
//
// Threading: a Compressor owns its contexts and belongs to one thread; keep one per worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace pgbr {

// The numeric values are stored in envelope headers: never renumber.
enum class Compression : uint8_t { None = 0, Zstd = 1, Lz4 = 2, Bzip2 = 3, Gzip = 4 };

std::string_view compressionName(Compression type);  // "none", "zst", "lz4", "bz2", "gz"
// Accepts the names above and the aliases "zstd", "bzip2", "gzip"; nullopt otherwise.
std::optional<Compression> parseCompression(std::string_view name);
// nullopt for a byte that names no known compression (from a damaged or newer header).
std::optional<Compression> compressionFromByte(uint8_t value);

struct LevelRange {
  int min;
  int max;
  int fallback;  // the default level (pgBackRest's defaults: zst 3, lz4 1, bz2 9, gz 6)
};
LevelRange compressionLevels(Compression type);

class Compressor {
public:
  Compressor();
  ~Compressor();
  Compressor(Compressor&&) noexcept;
  Compressor& operator=(Compressor&&) noexcept;

  // The largest output compress() can produce for inputSize bytes.
  size_t bound(Compression type, int level, size_t inputSize);
  // Compresses input into output (which holds at least bound() bytes); returns the size written.
  // Throws OptionInvalidValue for a level outside compressionLevels(), Internal on library errors.
  size_t compress(Compression type, int level, std::span<const uint8_t> input, std::span<uint8_t> output);
  // Decompresses input into exactly output.size() bytes. Throws Corrupt naming `what` when the
  // data is damaged, ends early, or would produce more or fewer bytes than that.
  void decompress(Compression type, std::span<const uint8_t> input, std::span<uint8_t> output, std::string_view what);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgbr
