// The repository key hierarchy (docs/chunk-format.md §2): a random 32-byte master key, stored
// in a key file wrapped under a passphrase-derived key (or unwrapped when the repository is not
// encrypted), and the per-purpose keys derived from it with HKDF-SHA256 — one chunk-id key and,
// per key id, one data key and one metadata key, so data keys can be rotated by moving to a new
// key id while everything written under older ids stays readable.
//
// A Keyring is immutable after construction and safe to share between threads
// (std::shared_ptr<const Keyring>). Keys never appear in messages or logs.
#pragma once

#include "common/filter/crypto.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

enum class KeyPurpose { Data, Metadata };

// Derivation labels (HKDF info prefixes), fixed by the format.
inline constexpr std::string_view kChunkIdKeyInfo = "pgbr chunk-id v1";
inline constexpr std::string_view kDataKeyInfo = "pgbr data v1";
inline constexpr std::string_view kMetadataKeyInfo = "pgbr metadata v1";

// HKDF-SHA256(master, no salt, info) for the chunk-id key, and info || u32be(keyId) for the
// data and metadata keys.
SecretKey deriveChunkIdKey(const SecretKey& master);
SecretKey deriveKey(const SecretKey& master, KeyPurpose purpose, uint32_t keyId);

class Keyring {
public:
  // Derives the chunk-id key and the data and metadata keys for ids 1..currentKeyId.
  // currentKeyId must be at least 1.
  Keyring(const SecretKey& master, uint32_t currentKeyId = 1);
  // A keyring of keys derived elsewhere: what the repository server hands an agent (the chunk-id
  // key and the data keys, never the master or the metadata keys). Asking for a key it was not
  // given is Crypto, as for any unknown key id. currentKeyId must be at least 1.
  Keyring(const SecretKey& chunkIdKey, std::map<uint32_t, SecretKey> dataKeys,
          std::map<uint32_t, SecretKey> metadataKeys, uint32_t currentKeyId);

  // The key id new envelopes are sealed with.
  uint32_t currentKeyId() const { return currentKeyId_; }
  const SecretKey& chunkIdKey() const { return chunkIdKey_; }
  // Throws Crypto naming the id when the keyring has no such key (data from a newer key file).
  const SecretKey& key(KeyPurpose purpose, uint32_t keyId) const;

private:
  uint32_t currentKeyId_;
  SecretKey chunkIdKey_;
  std::map<uint32_t, SecretKey> dataKeys_;
  std::map<uint32_t, SecretKey> metadataKeys_;
};

// What a key file holds once opened.
struct MasterKey {
  SecretKey key;
  uint32_t currentKeyId = 1;
  bool encrypted = true;  // false: stored unwrapped (cipher none repository)
};

inline constexpr size_t kKeyFileSize = 144;

// Makes a key file holding master (wrapped under a key derived from passphrase with params and a
// fresh random salt). With no passphrase the master is stored unwrapped, for repositories with
// cipher none, so chunk ids stay keyed. The passphrase must not be empty.
std::vector<uint8_t> makeKeyFile(const MasterKey& master, std::optional<std::string_view> passphrase,
                                 const PassphraseKdfParams& params = PassphraseKdfParams::scryptDefault());

// Opens a key file; name is used in messages (never the passphrase). Throws Format when the
// bytes are not a pgbr key file, Corrupt when the file is damaged (its checksum fails),
// Crypto when the passphrase is wrong or missing, RepoVersion for a newer format.
MasterKey openKeyFile(std::span<const uint8_t> file, std::optional<std::string_view> passphrase,
                      std::string_view name);

}  // namespace pgbr
