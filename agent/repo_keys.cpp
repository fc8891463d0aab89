#include "agent/repo_keys.h"
#include "agent/json_fields.h"

#include "common/text.h"

#include <openssl/evp.h>

namespace pgbr::agent {

using nlohmann::json;

namespace {

[[noreturn]] void malformed(std::string_view what) {
  fail(ErrorCode::Protocol, "the repository server's repo.keys answer has a malformed {}", what);
}

SecretKey keyFrom(const json& value, std::string_view what) {
  if (!value.is_string()) malformed(what);
  auto bytes = decodeBase64(value.get<std::string>());
  if (!bytes || bytes->size() != kKeySize) malformed(what);
  SecretKey key(*bytes);
  wipe(*bytes);
  return key;
}

}  // namespace

std::optional<std::vector<uint8_t>> decodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out(text.size() / 4 * 3);
  if (text.empty()) return out;
  int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes that padding stands for; drop them.
  size_t padding = 0;
  if (text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(length) - padding);
  return out;
}

RepoKeys parseRepoKeys(const json& response) {
  if (!response.is_object()) malformed("body");
  RepoKeys keys;
  if (!response.contains("repoId") || !response["repoId"].is_string()) malformed("repoId");
  keys.repoId = response["repoId"].get<std::string>();
  if (!response.contains("pipeline")) malformed("pipeline");
  try {
    keys.pipeline = PipelineSpec::fromJson(response["pipeline"]);
  } catch (const Error& error) {
    fail(ErrorCode::Protocol, "the repository server's pipeline is not one this agent understands: {}", error.what());
  }
  auto currentKeyId = unsignedField(response, "currentKeyId");
  if (!currentKeyId || *currentKeyId == 0 || *currentKeyId > UINT32_MAX) malformed("currentKeyId");
  SecretKey chunkIdKey = keyFrom(field(response, "chunkIdKey"), "chunkIdKey");
  std::map<uint32_t, SecretKey> dataKeys;
  const json& data = response.contains("dataKeys") ? response["dataKeys"] : json::object();
  if (!data.is_object()) malformed("dataKeys");
  for (const auto& [id, value] : data.items()) {
    uint32_t keyId = 0;
    try {
      size_t used = 0;
      unsigned long parsed = std::stoul(id, &used);
      if (used != id.size() || parsed == 0 || parsed > UINT32_MAX) malformed("dataKeys id");
      keyId = static_cast<uint32_t>(parsed);
    } catch (const std::logic_error&) {
      malformed("dataKeys id");
    }
    dataKeys.emplace(keyId, keyFrom(value, "data key"));
  }
  uint32_t current = static_cast<uint32_t>(*currentKeyId);
  if (keys.pipeline.cipher != Cipher::None && !dataKeys.contains(current))
    fail(ErrorCode::Protocol, "the repository server sent no data key for the current key id {}", current);
  keys.keyring =
      std::make_shared<const Keyring>(chunkIdKey, std::move(dataKeys), std::map<uint32_t, SecretKey>{}, current);
  return keys;
}

void applyCompressionOptions(const Config& config, PipelineSpec& pipeline) {
  if (config.isSet("compress-type")) {
    auto type = parseCompression(config.choice("compress-type"));
    if (!type) fail(ErrorCode::OptionInvalidValue, "{} names no known compression", config.describe("compress-type"));
    pipeline.compression = *type;
    pipeline.level = compressionLevels(*type).fallback;
  }
  if (config.isSet("compress-level")) {
    auto range = compressionLevels(pipeline.compression);
    auto level = config.integer("compress-level");
    if (pipeline.compression != Compression::None && (level < range.min || level > range.max))
      fail(ErrorCode::OptionInvalidValue, "{}: {} takes levels {} to {}", config.describe("compress-level"),
           compressionName(pipeline.compression), range.min, range.max);
    pipeline.level = static_cast<int>(level);
  }
  pipeline.validate();
}

RepoKeys fetchRepoKeys(RepoClient& client, const std::string& stanza) {
  const json request = {{"op", "repo.keys"}, {"stanza", stanza}};
  return parseRepoKeys(client.call(request));
}

std::string WalTag::finish() {
  auto digest = mac_.end();
  return toHex(std::span(digest).first(8));
}

}  // namespace pgbr::agent
