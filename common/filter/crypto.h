// The cryptographic primitives pgbr uses, as thin RAII wrappers over OpenSSL 3 EVP: SHA-256,
// HMAC-SHA256 (EVP_MAC), HKDF-SHA256 (EVP_KDF), passphrase KDFs (scrypt, PBKDF2-SHA256),
// AES-256-GCM with a cached key schedule, and random bytes. Failures throw Error(Crypto); a
// failed authentication is reported as a value so callers can name what was damaged.
//
// Key material lives in SecretKey, which wipes itself and is never formatted or logged.
// Threading: the free functions are thread-safe; each class instance belongs to one thread
// (callers keep one per worker, which is also what makes them fast: contexts are reused).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace pgbr {

constexpr size_t kKeySize = 32;
constexpr size_t kGcmNonceSize = 12;
constexpr size_t kGcmTagSize = 16;

using Sha256Digest = std::array<uint8_t, 32>;

// A 32-byte key. Copyable (keys are small and passed to per-thread contexts); every copy is
// wiped when destroyed. Comparison is constant-time.
class SecretKey {
public:
  SecretKey() = default;
  // Throws Internal unless bytes has exactly kKeySize bytes.
  explicit SecretKey(std::span<const uint8_t> bytes);
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  static SecretKey random();
  std::span<const uint8_t, kKeySize> bytes() const { return bytes_; }
  bool operator==(const SecretKey& other) const;

private:
  std::array<uint8_t, kKeySize> bytes_{};
};

void randomBytes(std::span<uint8_t> out);
// Overwrites secret bytes in a way the compiler cannot elide.
void wipe(std::span<uint8_t> secret);
// Constant-time equality of equal-length buffers (false when lengths differ).
bool constantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b);

Sha256Digest sha256(std::span<const uint8_t> data);

// Incremental SHA-256; reset() starts over without reallocating.
class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void reset();
  void update(std::span<const uint8_t> data);
  Sha256Digest finish();  // then reset() before reuse

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA256 under one key, keyed once and reused for many messages: each begin() restarts
// from the precomputed key state, which is what makes per-page tags cheap.
class HmacSha256 {
public:
  explicit HmacSha256(const SecretKey& key);
  ~HmacSha256();
  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;

  void begin();
  void update(std::span<const uint8_t> data);
  Sha256Digest end();
  Sha256Digest mac(std::span<const uint8_t> data);  // begin + update + end

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot HMAC-SHA256 with a key of any length (for known-answer tests and rare uses).
Sha256Digest hmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// HKDF-SHA256 (RFC 5869) extract-and-expand into out (at most 255 * 32 bytes).
void hkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt, std::span<const uint8_t> info,
                std::span<uint8_t> out);

enum class PassphraseKdf : uint8_t { Scrypt = 1, Pbkdf2Sha256 = 2 };

struct PassphraseKdfParams {
  PassphraseKdf kdf = PassphraseKdf::Scrypt;
  uint64_t cost = 1u << 15;  // scrypt N (a power of two) or PBKDF2 iterations
  uint32_t blockSize = 8;    // scrypt r (0 for PBKDF2)
  uint32_t parallelism = 1;  // scrypt p (0 for PBKDF2)

  static PassphraseKdfParams scryptDefault() { return {}; }
  static PassphraseKdfParams pbkdf2Default() { return {PassphraseKdf::Pbkdf2Sha256, 600'000, 0, 0}; }
};

// Throws Format when the parameters are outside what pgbr accepts (scrypt N a power of two in
// [2^10, 2^22], r in [1, 32], p in [1, 16], at most 1 GiB of memory; PBKDF2 iterations in
// [10^4, 10^8]): a damaged or hostile key file must not make us allocate or spin forever.
void checkPassphraseKdfParams(const PassphraseKdfParams& params);
// Derives a key from a passphrase and salt. Throws Crypto (never echoing the passphrase).
SecretKey deriveFromPassphrase(std::string_view passphrase, std::span<const uint8_t> salt,
                               const PassphraseKdfParams& params);

// AES-256-GCM with 96-bit nonces and 128-bit tags. The key schedule is kept
// until a different key is given, so sealing many envelopes under one key costs one setup.
class AesGcm {
public:
  AesGcm();
  ~AesGcm();
  AesGcm(AesGcm&&) noexcept;
  AesGcm& operator=(AesGcm&&) noexcept;

  // Encrypts input into output (same size; output may be input itself) and writes the tag.
  void seal(const SecretKey& key, std::span<const uint8_t, kGcmNonceSize> nonce, std::span<const uint8_t> aad,
            std::span<const uint8_t> input, std::span<uint8_t> output, std::span<uint8_t, kGcmTagSize> tag);
  // Decrypts input into output (same size; may be the same bytes); returns false, with output
  // undefined, when the tag does not match.
  [[nodiscard]] bool open(const SecretKey& key, std::span<const uint8_t, kGcmNonceSize> nonce,
                          std::span<const uint8_t> aad, std::span<const uint8_t> input, std::span<uint8_t> output,
                          std::span<const uint8_t, kGcmTagSize> tag);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgbr
