#include "common/filter/envelope.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <algorithm>
#include <cstring>

namespace pgbr {
namespace {

constexpr size_t kOffVersion = 4;
constexpr size_t kOffKind = 5;
constexpr size_t kOffCompression = 6;
constexpr size_t kOffCipher = 7;
constexpr size_t kOffKeyId = 8;
constexpr size_t kOffPlainLength = 12;
constexpr size_t kOffStoredLength = 16;
constexpr size_t kOffStreamId = 20;
constexpr size_t kOffSequence = 28;
constexpr size_t kOffNonce = 36;
static_assert(kOffNonce + kGcmNonceSize == kEnvelopeHeaderSize);
static_assert(kEnvelopeTrailerSize == kGcmTagSize);

// The cipher-none trailer: the first 16 bytes of SHA-256(header || payload).
std::array<uint8_t, kEnvelopeTrailerSize> checksumTrailer(std::span<const uint8_t> headerAndPayload) {
  Sha256Digest digest = sha256(headerAndPayload);
  std::array<uint8_t, kEnvelopeTrailerSize> out;
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

}  // namespace

EnvelopeHeader parseEnvelopeHeader(std::span<const uint8_t> bytes, std::string_view what) {
  if (bytes.size() < kEnvelopeHeaderSize)
    fail(ErrorCode::Corrupt, "{} is truncated: {} bytes where a {}-byte envelope header was expected", what,
         bytes.size(), kEnvelopeHeaderSize);
  if (!std::equal(kEnvelopeMagic.begin(), kEnvelopeMagic.end(), bytes.begin()))
    fail(ErrorCode::Corrupt, "{} is damaged: it does not start with an envelope header", what);
  // The repository's format version is checked before any envelope is read, so an unknown
  // envelope version here is damage, not a newer writer.
  uint8_t version = bytes[kOffVersion];
  if (version != kEnvelopeVersion) fail(ErrorCode::Corrupt, "{} has unknown envelope version {}", what, version);

  EnvelopeHeader h;
  uint8_t kind = bytes[kOffKind];
  if (kind < 1 || kind > 3) fail(ErrorCode::Corrupt, "{} has unknown envelope kind {}", what, kind);
  h.kind = static_cast<EnvelopeKind>(kind);
  auto compression = compressionFromByte(bytes[kOffCompression]);
  if (!compression) fail(ErrorCode::Corrupt, "{} has unknown compression type {}", what, bytes[kOffCompression]);
  h.compression = *compression;
  auto cipher = cipherFromByte(bytes[kOffCipher]);
  if (!cipher) fail(ErrorCode::Corrupt, "{} has unknown cipher type {}", what, bytes[kOffCipher]);
  h.cipher = *cipher;
  h.keyId = getU32(bytes, kOffKeyId);
  h.plainLength = getU32(bytes, kOffPlainLength);
  h.storedLength = getU32(bytes, kOffStoredLength);
  h.streamId = getU64(bytes, kOffStreamId);
  h.sequence = getU64(bytes, kOffSequence);
  std::copy_n(bytes.begin() + kOffNonce, kGcmNonceSize, h.nonce.begin());

  if (h.plainLength > kMaxEnvelopeLength || h.storedLength > kMaxEnvelopeLength)
    fail(ErrorCode::Corrupt, "{} claims {} plaintext / {} stored bytes, more than the {} a writer produces", what,
         h.plainLength, h.storedLength, kMaxEnvelopeLength);
  if (h.compression == Compression::None && h.storedLength != h.plainLength)
    fail(ErrorCode::Corrupt, "{} is uncompressed but claims {} stored bytes for {} plaintext bytes", what,
         h.storedLength, h.plainLength);
  if ((h.cipher == Cipher::None) != (h.keyId == 0))
    fail(ErrorCode::Corrupt, "{} has cipher {} with key id {}", what, cipherName(h.cipher), h.keyId);
  if (h.kind == EnvelopeKind::Chunk && (h.streamId != 0 || h.sequence != 0))
    fail(ErrorCode::Corrupt, "{} is a chunk envelope with stream fields set", what);
  return h;
}

void writeEnvelopeHeader(const EnvelopeHeader& h, std::span<uint8_t, kEnvelopeHeaderSize> out) {
  std::copy(kEnvelopeMagic.begin(), kEnvelopeMagic.end(), out.begin());
  out[kOffVersion] = kEnvelopeVersion;
  out[kOffKind] = static_cast<uint8_t>(h.kind);
  out[kOffCompression] = static_cast<uint8_t>(h.compression);
  out[kOffCipher] = static_cast<uint8_t>(h.cipher);
  putU32(out, kOffKeyId, h.keyId);
  putU32(out, kOffPlainLength, h.plainLength);
  putU32(out, kOffStoredLength, h.storedLength);
  putU64(out, kOffStreamId, h.streamId);
  putU64(out, kOffSequence, h.sequence);
  std::copy(h.nonce.begin(), h.nonce.end(), out.begin() + kOffNonce);
}

EnvelopeCodec::EnvelopeCodec(std::shared_ptr<const Keyring> keys, KeyPurpose purpose, const PipelineSpec& spec)
    : keys_(std::move(keys)), purpose_(purpose), spec_(spec) {
  if (!keys_) fail(ErrorCode::Internal, "an envelope codec needs a keyring");
  spec_.validate();
}
EnvelopeCodec::~EnvelopeCodec() = default;
EnvelopeCodec::EnvelopeCodec(EnvelopeCodec&&) noexcept = default;
EnvelopeCodec& EnvelopeCodec::operator=(EnvelopeCodec&&) noexcept = default;

std::span<const uint8_t> EnvelopeCodec::seal(EnvelopeKind kind, uint64_t streamId, uint64_t sequence,
                                             std::span<const uint8_t> plaintext) {
  if (plaintext.size() > kMaxEnvelopeLength)
    fail(ErrorCode::Internal, "cannot seal {} bytes in one envelope (at most {})", plaintext.size(), kMaxEnvelopeLength);
  EnvelopeHeader h{.kind = kind, .compression = spec_.compression, .cipher = spec_.cipher, .streamId = streamId,
                   .sequence = sequence};
  h.plainLength = static_cast<uint32_t>(plaintext.size());

  size_t room = std::max(plaintext.size(), compressor_.bound(h.compression, spec_.level, plaintext.size()));
  sealed_.resize(kEnvelopeHeaderSize + room + kEnvelopeTrailerSize);
  std::span<uint8_t> payload(sealed_.data() + kEnvelopeHeaderSize, room);
  size_t stored = plaintext.size();
  bool compressed = false;
  if (h.compression != Compression::None && !plaintext.empty()) {
    stored = compressor_.compress(h.compression, spec_.level, plaintext, payload);
    compressed = stored < plaintext.size();
  }
  if (!compressed) {
    h.compression = Compression::None;
    stored = plaintext.size();
  }
  h.storedLength = static_cast<uint32_t>(stored);
  payload = payload.first(stored);
  sealed_.resize(kEnvelopeHeaderSize + stored + kEnvelopeTrailerSize);
  std::span<uint8_t> all = sealed_.span();
  std::span<uint8_t, kEnvelopeHeaderSize> header = all.first<kEnvelopeHeaderSize>();
  std::span<uint8_t, kEnvelopeTrailerSize> trailer = all.last<kEnvelopeTrailerSize>();
  std::span<const uint8_t> input = compressed ? std::span<const uint8_t>(payload) : plaintext;

  if (h.cipher == Cipher::Aes256Gcm) {
    h.keyId = keys_->currentKeyId();
    randomBytes(h.nonce);
    writeEnvelopeHeader(h, header);
    gcm_.seal(keys_->key(purpose_, h.keyId), h.nonce, header, input, payload, trailer);
  } else {
    writeEnvelopeHeader(h, header);
    if (!compressed && !plaintext.empty()) std::memcpy(payload.data(), plaintext.data(), plaintext.size());
    auto sum = checksumTrailer(all.first(kEnvelopeHeaderSize + stored));
    std::copy(sum.begin(), sum.end(), trailer.begin());
  }
  return sealed_.span();
}

EnvelopeCodec::Opened EnvelopeCodec::open(std::span<const uint8_t> envelope, std::string_view what) {
  EnvelopeHeader h = parseEnvelopeHeader(envelope, what);
  if (envelope.size() != h.envelopeSize())
    fail(ErrorCode::Corrupt, "{} is {} bytes but its header describes {} bytes{}", what, envelope.size(),
         h.envelopeSize(), envelope.size() < h.envelopeSize() ? " (truncated)" : "");
  std::span<const uint8_t> header = envelope.first(kEnvelopeHeaderSize);
  std::span<const uint8_t> payload = envelope.subspan(kEnvelopeHeaderSize, h.storedLength);
  std::span<const uint8_t, kEnvelopeTrailerSize> trailer = envelope.last<kEnvelopeTrailerSize>();

  if (h.cipher == Cipher::Aes256Gcm) {
    const SecretKey& key = keys_->key(purpose_, h.keyId);
    work_.resize(h.storedLength);
    if (!gcm_.open(key, h.nonce, header, payload, work_.span(), trailer))
      fail(ErrorCode::Corrupt,
           "{} fails authentication: it was damaged or altered, or sealed with a different repository key", what);
    payload = work_.span();
  } else {
    auto sum = checksumTrailer(envelope.first(kEnvelopeHeaderSize + h.storedLength));
    if (!constantTimeEqual(sum, trailer)) fail(ErrorCode::Corrupt, "{} fails its checksum: it was damaged", what);
  }

  if (h.compression == Compression::None) return {h, payload};
  plain_.resize(h.plainLength);
  compressor_.decompress(h.compression, payload, plain_.span(), what);
  return {h, plain_.span()};
}

}  // namespace pgbr
