// The envelope (docs/chunk-format.md §5): one chunk or one record of a stream, compressed,
// then encrypted with AES-256-GCM (or checksummed when the cipher is none), behind a 48-byte
// header that is the AEAD's additional data. Opening checks everything — sizes, tag or
// checksum, decompressed length — before returning a byte, and reports Corrupt with what was
// wrong.
//
// An EnvelopeCodec owns its compression and cipher contexts and one output buffer; it belongs to
// one thread (keep one per worker). Returned spans stay valid until the next call on the codec.
#pragma once

#include "common/filter/buffer.h"
#include "common/filter/compress.h"
#include "common/filter/keys.h"
#include "common/filter/pipeline.h"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace pgbr {

// The numeric values are stored in envelope headers: never renumber.
enum class EnvelopeKind : uint8_t { Chunk = 1, Record = 2, LastRecord = 3 };

inline constexpr std::array<uint8_t, 4> kEnvelopeMagic{'P', 'G', 'B', 'E'};
inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kEnvelopeHeaderSize = 48;
inline constexpr size_t kEnvelopeTrailerSize = 16;
// The largest plaintext or stored length a reader accepts, so a damaged length cannot make it
// allocate without bound (writers never exceed kMaxChunkSize).
inline constexpr uint32_t kMaxEnvelopeLength = 64 * 1024 * 1024;

struct EnvelopeHeader {
  EnvelopeKind kind = EnvelopeKind::Chunk;
  Compression compression = Compression::None;
  Cipher cipher = Cipher::None;
  uint32_t keyId = 0;  // 0 with cipher none
  uint32_t plainLength = 0;
  uint32_t storedLength = 0;
  uint64_t streamId = 0;  // records: random per stream; chunks: 0
  uint64_t sequence = 0;  // records: 0, 1, 2, ...; chunks: 0
  std::array<uint8_t, kGcmNonceSize> nonce{};

  size_t envelopeSize() const { return kEnvelopeHeaderSize + storedLength + kEnvelopeTrailerSize; }
};

// Parses and checks the first kEnvelopeHeaderSize bytes. Throws Corrupt, naming `what` and the
// problem, for a wrong magic or version and for any value no writer produces.
EnvelopeHeader parseEnvelopeHeader(std::span<const uint8_t> bytes, std::string_view what);
void writeEnvelopeHeader(const EnvelopeHeader& header, std::span<uint8_t, kEnvelopeHeaderSize> out);

class EnvelopeCodec {
public:
  // purpose picks the key (data for chunks and WAL, metadata for manifests and indexes).
  EnvelopeCodec(std::shared_ptr<const Keyring> keys, KeyPurpose purpose, const PipelineSpec& spec);
  ~EnvelopeCodec();
  EnvelopeCodec(EnvelopeCodec&&) noexcept;
  EnvelopeCodec& operator=(EnvelopeCodec&&) noexcept;

  const PipelineSpec& spec() const { return spec_; }

  // Seals plaintext (at most kMaxEnvelopeLength bytes) under the keyring's current key with a
  // fresh random nonce. Stores it uncompressed when compression does not make it smaller.
  std::span<const uint8_t> seal(EnvelopeKind kind, uint64_t streamId, uint64_t sequence,
                                std::span<const uint8_t> plaintext);

  struct Opened {
    EnvelopeHeader header;
    std::span<const uint8_t> plaintext;  // may point into the envelope itself (no cipher, no compression)
  };
  // Opens one complete envelope (exactly its envelopeSize() bytes). Throws Corrupt (damage,
  // truncation, wrong key) or Crypto for a key id the keyring lacks.
  Opened open(std::span<const uint8_t> envelope, std::string_view what);

private:
  std::shared_ptr<const Keyring> keys_;
  KeyPurpose purpose_;
  PipelineSpec spec_;
  Compressor compressor_;
  AesGcm gcm_;
  ByteBuffer sealed_;
  ByteBuffer work_;
  ByteBuffer plain_;
};

}  // namespace pgbr
