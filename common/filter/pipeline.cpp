#include "common/filter/pipeline.h"

#include "common/error.h"

namespace pgbr {

std::string_view cipherName(Cipher cipher) {
  switch (cipher) {
    case Cipher::None: return "none";
    case Cipher::Aes256Gcm: return "aes-256-gcm";
  }
  return "unknown";
}

std::optional<Cipher> parseCipher(std::string_view name) {
  if (name == "none") return Cipher::None;
  if (name == "aes-256-gcm") return Cipher::Aes256Gcm;
  return std::nullopt;
}

std::optional<Cipher> cipherFromByte(uint8_t value) {
  if (value > static_cast<uint8_t>(Cipher::Aes256Gcm)) return std::nullopt;
  return static_cast<Cipher>(value);
}

void PipelineSpec::validate() const {
  if (chunkSize < kMinChunkSize || chunkSize > kMaxChunkSize || chunkSize % kMinChunkSize != 0)
    fail(ErrorCode::OptionInvalidValue, "chunk size {} is not a multiple of 8 KiB between 8 KiB and 16 MiB", chunkSize);
  LevelRange range = compressionLevels(compression);
  if (level < range.min || level > range.max)
    fail(ErrorCode::OptionInvalidValue, "compress-level {} is not valid for compress-type {} (use {} to {})", level,
         compressionName(compression), range.min, range.max);
}

std::vector<FilterSpec> PipelineSpec::filters() const {
  std::vector<FilterSpec> out;
  out.push_back({"chunk-id", {{"version", 1}}});
  if (compression != Compression::None)
    out.push_back({"compress", {{"type", std::string(compressionName(compression))}, {"level", level}}});
  out.push_back({"encrypt", {{"cipher", std::string(cipherName(cipher))}}});
  return out;
}

nlohmann::json PipelineSpec::toJson() const {
  nlohmann::json filterList = nlohmann::json::array();
  for (const auto& f : filters()) filterList.push_back({{"type", f.type}, {"params", f.params}});
  return {{"chunk-size", chunkSize}, {"filters", filterList}};
}

PipelineSpec PipelineSpec::fromJson(const nlohmann::json& json) {
  PipelineSpec spec;
  spec.compression = Compression::None;
  spec.level = 0;
  try {
    if (!json.is_object()) fail(ErrorCode::Format, "a filter chain must be a JSON object");
    spec.chunkSize = json.at("chunk-size").get<uint32_t>();
    const auto& list = json.at("filters");
    if (!list.is_array()) fail(ErrorCode::Format, "the filter chain's \"filters\" must be an array");
    bool sawChunkId = false;
    bool sawEncrypt = false;
    for (const auto& item : list) {
      std::string type = item.at("type").get<std::string>();
      const nlohmann::json params = item.value("params", nlohmann::json::object());
      if (sawEncrypt) fail(ErrorCode::Format, "filter '{}' comes after 'encrypt', which must be last", type);
      if (type == "chunk-id") {
        if (params.value("version", 0) != 1)
          fail(ErrorCode::Format, "chunk-id version {} is not known", params.value("version", 0));
        sawChunkId = true;
      } else if (type == "compress") {
        auto compression = parseCompression(params.at("type").get<std::string>());
        if (!compression) fail(ErrorCode::Format, "compression '{}' is not known", params.at("type").get<std::string>());
        spec.compression = *compression;
        spec.level = params.at("level").get<int>();
      } else if (type == "encrypt") {
        auto cipher = parseCipher(params.at("cipher").get<std::string>());
        if (!cipher) fail(ErrorCode::Format, "cipher '{}' is not known", params.at("cipher").get<std::string>());
        spec.cipher = *cipher;
        sawEncrypt = true;
      } else {
        fail(ErrorCode::Format, "filter '{}' is not known to this pgbr", type);
      }
    }
    if (!sawChunkId || !sawEncrypt) fail(ErrorCode::Format, "a filter chain needs a 'chunk-id' and an 'encrypt' filter");
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCode::Format, "malformed filter chain: {}", e.what());
  }
  try {
    spec.validate();
  } catch (const Error& e) {
    fail(ErrorCode::Format, "filter chain: {}", e.what());
  }
  return spec;
}

}  // namespace pgbr
