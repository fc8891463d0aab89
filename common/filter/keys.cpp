#include "common/filter/keys.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace pgbr {
namespace {

std::span<const uint8_t> asBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Key file layout (docs/chunk-format.md §3).
constexpr std::string_view kMagic = "PGBR-KEY";
constexpr uint8_t kVersion = 1;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffProtection = 9;
constexpr size_t kOffKdf = 10;
constexpr size_t kOffKeyId = 12;
constexpr size_t kOffCost = 16;
constexpr size_t kOffBlockSize = 24;
constexpr size_t kOffParallelism = 28;
constexpr size_t kOffSalt = 32;
constexpr size_t kSaltSize = 32;
constexpr size_t kOffNonce = 64;
constexpr size_t kOffMaster = 80;
constexpr size_t kOffTag = 112;
constexpr size_t kOffChecksum = 128;
constexpr size_t kChecksumSize = 16;
static_assert(kOffChecksum + kChecksumSize == kKeyFileSize);

constexpr uint8_t kProtectionNone = 0;
constexpr uint8_t kProtectionAesGcm = 1;

}  // namespace

SecretKey deriveChunkIdKey(const SecretKey& master) {
  std::array<uint8_t, kKeySize> out{};
  hkdfSha256(master.bytes(), {}, asBytes(kChunkIdKeyInfo), out);
  SecretKey key(out);
  wipe(out);
  return key;
}

SecretKey deriveKey(const SecretKey& master, KeyPurpose purpose, uint32_t keyId) {
  std::string_view label = purpose == KeyPurpose::Data ? kDataKeyInfo : kMetadataKeyInfo;
  std::vector<uint8_t> info(label.begin(), label.end());
  info.resize(label.size() + 4);
  putU32(info, label.size(), keyId);
  std::array<uint8_t, kKeySize> out{};
  hkdfSha256(master.bytes(), {}, info, out);
  SecretKey key(out);
  wipe(out);
  return key;
}

Keyring::Keyring(const SecretKey& master, uint32_t currentKeyId)
    : currentKeyId_(currentKeyId), chunkIdKey_(deriveChunkIdKey(master)) {
  if (currentKeyId == 0) fail(ErrorCode::Internal, "key ids start at 1");
  for (uint32_t id = 1; id <= currentKeyId; ++id) {
    dataKeys_.emplace(id, deriveKey(master, KeyPurpose::Data, id));
    metadataKeys_.emplace(id, deriveKey(master, KeyPurpose::Metadata, id));
  }
}

Keyring::Keyring(const SecretKey& chunkIdKey, std::map<uint32_t, SecretKey> dataKeys,
                 std::map<uint32_t, SecretKey> metadataKeys, uint32_t currentKeyId)
    : currentKeyId_(currentKeyId),
      chunkIdKey_(chunkIdKey),
      dataKeys_(std::move(dataKeys)),
      metadataKeys_(std::move(metadataKeys)) {
  if (currentKeyId == 0) fail(ErrorCode::Internal, "key ids start at 1");
}

const SecretKey& Keyring::key(KeyPurpose purpose, uint32_t keyId) const {
  const auto& keys = purpose == KeyPurpose::Data ? dataKeys_ : metadataKeys_;
  auto it = keys.find(keyId);
  if (it == keys.end())
    fail(ErrorCode::Crypto, "data is sealed with key id {} but the repository key file only has ids 1 to {}", keyId,
         currentKeyId_);
  return it->second;
}

std::vector<uint8_t> makeKeyFile(const MasterKey& master, std::optional<std::string_view> passphrase,
                                 const PassphraseKdfParams& params) {
  if (master.currentKeyId == 0) fail(ErrorCode::Internal, "key ids start at 1");
  std::vector<uint8_t> file(kKeyFileSize, 0);
  std::span<uint8_t> out(file);
  std::memcpy(file.data(), kMagic.data(), kMagic.size());
  file[kOffVersion] = kVersion;
  putU32(out, kOffKeyId, master.currentKeyId);
  if (!passphrase) {
    file[kOffProtection] = kProtectionNone;
    std::copy(master.key.bytes().begin(), master.key.bytes().end(), file.begin() + kOffMaster);
  } else {
    if (passphrase->empty()) fail(ErrorCode::OptionInvalidValue, "the repository passphrase must not be empty");
    checkPassphraseKdfParams(params);
    file[kOffProtection] = kProtectionAesGcm;
    file[kOffKdf] = static_cast<uint8_t>(params.kdf);
    putU64(out, kOffCost, params.cost);
    putU32(out, kOffBlockSize, params.blockSize);
    putU32(out, kOffParallelism, params.parallelism);
    randomBytes(out.subspan(kOffSalt, kSaltSize));
    randomBytes(out.subspan(kOffNonce, kGcmNonceSize));
    SecretKey wrapping = deriveFromPassphrase(*passphrase, out.subspan(kOffSalt, kSaltSize), params);
    AesGcm gcm;
    gcm.seal(wrapping, out.subspan<kOffNonce, kGcmNonceSize>(), out.first(kOffMaster), master.key.bytes(),
             out.subspan(kOffMaster, kKeySize), out.subspan<kOffTag, kGcmTagSize>());
  }
  Sha256Digest checksum = sha256(out.first(kOffChecksum));
  std::copy_n(checksum.begin(), kChecksumSize, file.begin() + kOffChecksum);
  return file;
}

MasterKey openKeyFile(std::span<const uint8_t> file, std::optional<std::string_view> passphrase,
                      std::string_view name) {
  if (file.size() < kMagic.size() || std::memcmp(file.data(), kMagic.data(), kMagic.size()) != 0)
    fail(ErrorCode::Format, "'{}' is not a pgbr key file (it does not start with \"{}\")", name, kMagic);
  if (file.size() > kOffVersion && file[kOffVersion] > kVersion)
    fail(ErrorCode::RepoVersion, "key file '{}' has format version {}, newer than this pgbr knows ({}): upgrade pgbr",
         name, file[kOffVersion], kVersion);
  if (file.size() != kKeyFileSize)
    fail(ErrorCode::Corrupt, "key file '{}' is damaged: it has {} bytes instead of {}", name, file.size(), kKeyFileSize);
  Sha256Digest checksum = sha256(file.first(kOffChecksum));
  if (!constantTimeEqual(std::span(checksum).first(kChecksumSize), file.subspan(kOffChecksum, kChecksumSize)))
    fail(ErrorCode::Corrupt, "key file '{}' is damaged: its checksum does not match (restore it from a copy)", name);
  if (file[kOffVersion] != kVersion)
    fail(ErrorCode::Format, "key file '{}' has unknown format version {}", name, file[kOffVersion]);

  MasterKey result;
  result.currentKeyId = getU32(file, kOffKeyId);
  if (result.currentKeyId == 0) fail(ErrorCode::Format, "key file '{}' names key id 0, which is not valid", name);
  std::array<uint8_t, kKeySize> master{};
  std::copy_n(file.begin() + kOffMaster, kKeySize, master.begin());
  if (file[kOffProtection] == kProtectionNone) {
    result.encrypted = false;
  } else if (file[kOffProtection] == kProtectionAesGcm) {
    if (!passphrase || passphrase->empty())
      fail(ErrorCode::Crypto, "the repository key '{}' is encrypted: set the passphrase (repo1-cipher-pass)", name);
    PassphraseKdfParams params{static_cast<PassphraseKdf>(file[kOffKdf]), getU64(file, kOffCost),
                               getU32(file, kOffBlockSize), getU32(file, kOffParallelism)};
    SecretKey wrapping = deriveFromPassphrase(*passphrase, file.subspan(kOffSalt, kSaltSize), params);
    AesGcm gcm;
    if (!gcm.open(wrapping, file.subspan<kOffNonce, kGcmNonceSize>(), file.first(kOffMaster),
                  file.subspan(kOffMaster, kKeySize), master, file.subspan<kOffTag, kGcmTagSize>())) {
      wipe(master);
      fail(ErrorCode::Crypto,
           "cannot unlock the repository key '{}': the passphrase is wrong (check repo1-cipher-pass)", name);
    }
  } else {
    fail(ErrorCode::Format, "key file '{}' has unknown protection type {}", name, file[kOffProtection]);
  }
  result.key = SecretKey(master);
  wipe(master);
  return result;
}

}  // namespace pgbr
