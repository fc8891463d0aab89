// How data is turned into envelopes, as data: chunk size, compression (type, level) and cipher.
// A PipelineSpec serialises to a filter chain of {type, params} objects, e.g.
//   {"chunk-size": 262144, "filters": [{"type": "chunk-id", "params": {"version": 1}},
//     {"type": "compress", "params": {"type": "zst", "level": 3}},
//     {"type": "encrypt", "params": {"cipher": "aes-256-gcm"}}]}
// so a manifest or a protocol message can say how its data was produced, and a reader can
// check it understands every filter before it starts. Observing filters (chunk-id, size,
// sha256) leave bytes alone; transforming ones (compress, encrypt) change them, in that order.
// Plain value; thread-compatible.
#pragma once

#include "common/filter/compress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

// The numeric values are stored in envelope headers: never renumber.
enum class Cipher : uint8_t { None = 0, Aes256Gcm = 1 };

std::string_view cipherName(Cipher cipher);  // "none", "aes-256-gcm"
std::optional<Cipher> parseCipher(std::string_view name);
std::optional<Cipher> cipherFromByte(uint8_t value);

constexpr uint32_t kDefaultChunkSize = 256 * 1024;
constexpr uint32_t kMinChunkSize = 8 * 1024;
constexpr uint32_t kMaxChunkSize = 16 * 1024 * 1024;

struct FilterSpec {
  std::string type;
  nlohmann::json params = nlohmann::json::object();
  bool operator==(const FilterSpec&) const = default;
};

struct PipelineSpec {
  uint32_t chunkSize = kDefaultChunkSize;  // also the record size of record streams
  Compression compression = Compression::Zstd;
  int level = 3;
  Cipher cipher = Cipher::Aes256Gcm;

  // Throws OptionInvalidValue naming the problem (chunk size not a multiple of 8 KiB or out of
  // [8 KiB, 16 MiB], compression level out of range).
  void validate() const;

  std::vector<FilterSpec> filters() const;
  nlohmann::json toJson() const;
  // Throws Format naming the problem for malformed JSON or an unknown filter, type or parameter.
  static PipelineSpec fromJson(const nlohmann::json& json);

  bool operator==(const PipelineSpec&) const = default;
};

}  // namespace pgbr
