// What an agent needs to hash, seal and open chunks and WAL for one stanza: the repository's
// chunk-id key and data keys (from the repo.keys request; never the master key) and the pipeline
// (chunk size, compression, cipher) with this agent's compress-type/compress-level applied.
// Also the WAL tag of docs/operations.md, HMAC-SHA256(K_id, plaintext) cut to 8 bytes.
//
// RepoKeys is immutable after construction; the Keyring it holds may be shared by every worker.
#pragma once

#include "agent/repo_client.h"
#include "common/config/config.h"
#include "common/filter/crypto.h"
#include "common/filter/keys.h"
#include "common/filter/pipeline.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::agent {

struct RepoKeys {
  std::string repoId;
  std::shared_ptr<const Keyring> keyring;
  PipelineSpec pipeline;  // the repository's, with the agent's compression choice
};

// Parses a repo.keys RESPONSE. Throws Protocol naming the field for anything malformed.
RepoKeys parseRepoKeys(const nlohmann::json& response);

// Applies compress-type and compress-level when the user set them (the repository's default
// otherwise); a level outside the algorithm's range is OptionInvalidValue naming the option.
void applyCompressionOptions(const Config& config, PipelineSpec& pipeline);

// repo.keys for the stanza.
RepoKeys fetchRepoKeys(RepoClient& client, const std::string& stanza);

// Standard base64 (RFC 4648, with padding); nullopt for anything else.
std::optional<std::vector<uint8_t>> decodeBase64(std::string_view text);

// Incremental WAL tag: 16 lower-case hex digits of HMAC-SHA256(K_id, content)[0..8).
class WalTag {
 public:
  explicit WalTag(const Keyring& keys) : mac_(keys.chunkIdKey()) { mac_.begin(); }
  void update(std::span<const uint8_t> data) { mac_.update(data); }
  std::string finish();

 private:
  HmacSha256 mac_;
};

}  // namespace pgbr::agent
