#include "common/filter/crypto.h"

#include "common/error.h"
#include "common/filter/free_with.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>
#include <string>

namespace pgbr {
namespace {

[[noreturn]] void failOpenssl(std::string_view what) {
  unsigned long code = ERR_get_error();
  char text[256] = "no detail";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  fail(ErrorCode::Crypto, "{} failed in OpenSSL: {}", what, text);
}

void check(int ok, std::string_view what) {
  if (ok <= 0) failOpenssl(what);
}

template <typename T>
T* notNull(T* p, std::string_view what) {
  if (p == nullptr) failOpenssl(what);
  return p;
}

// OSSL_PARAM wants non-const pointers even for inputs it only reads.
OSSL_PARAM octets(const char* name, std::span<const uint8_t> data) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<uint8_t*>(data.data()), data.size());
}
OSSL_PARAM utf8(const char* name, const char* value) {
  return OSSL_PARAM_construct_utf8_string(name, const_cast<char*>(value), 0);
}

int intLength(size_t size, std::string_view what) {
  if (size > static_cast<size_t>(INT_MAX)) fail(ErrorCode::Internal, "{}: {} bytes is too large for one call", what, size);
  return static_cast<int>(size);
}

// Derives into out with an EVP_KDF algorithm and parameter list.
void kdfDerive(const char* algorithm, OSSL_PARAM* params, std::span<uint8_t> out) {
  UniqueC<EVP_KDF, EVP_KDF_free> kdf(notNull(EVP_KDF_fetch(nullptr, algorithm, nullptr), algorithm));
  UniqueC<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(notNull(EVP_KDF_CTX_new(kdf.get()), algorithm));
  check(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params), algorithm);
}

}  // namespace

SecretKey::SecretKey(std::span<const uint8_t> bytes) {
  if (bytes.size() != kKeySize) fail(ErrorCode::Internal, "a key must be {} bytes, not {}", kKeySize, bytes.size());
  std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

SecretKey::~SecretKey() { wipe(bytes_); }

SecretKey SecretKey::random() {
  SecretKey key;
  randomBytes(key.bytes_);
  return key;
}

bool SecretKey::operator==(const SecretKey& other) const { return constantTimeEqual(bytes_, other.bytes_); }

void randomBytes(std::span<uint8_t> out) {
  if (!out.empty()) check(RAND_bytes(out.data(), intLength(out.size(), "RAND_bytes")), "generating random bytes");
}

void wipe(std::span<uint8_t> secret) { OPENSSL_cleanse(secret.data(), secret.size()); }

bool constantTimeEqual(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Sha256Digest sha256(std::span<const uint8_t> data) {
  Sha256Digest out;
  unsigned int length = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr), "SHA-256");
  return out;
}

struct Sha256::Impl {
  UniqueC<EVP_MD, EVP_MD_free> md{notNull(EVP_MD_fetch(nullptr, "SHA256", nullptr), "SHA-256")};
  UniqueC<EVP_MD_CTX, EVP_MD_CTX_free> ctx{notNull(EVP_MD_CTX_new(), "SHA-256")};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { reset(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::reset() { check(EVP_DigestInit_ex2(impl_->ctx.get(), impl_->md.get(), nullptr), "SHA-256"); }
void Sha256::update(std::span<const uint8_t> data) {
  check(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()), "SHA-256");
}
Sha256Digest Sha256::finish() {
  Sha256Digest out;
  unsigned int length = 0;
  check(EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), &length), "SHA-256");
  return out;
}

struct HmacSha256::Impl {
  UniqueC<EVP_MAC, EVP_MAC_free> mac{notNull(EVP_MAC_fetch(nullptr, "HMAC", nullptr), "HMAC-SHA256")};
  UniqueC<EVP_MAC_CTX, EVP_MAC_CTX_free> ctx{notNull(EVP_MAC_CTX_new(mac.get()), "HMAC-SHA256")};
};

HmacSha256::HmacSha256(const SecretKey& key) : impl_(std::make_unique<Impl>()) {
  OSSL_PARAM params[] = {utf8(OSSL_MAC_PARAM_DIGEST, "SHA256"), OSSL_PARAM_construct_end()};
  check(EVP_MAC_init(impl_->ctx.get(), key.bytes().data(), key.bytes().size(), params), "HMAC-SHA256 key setup");
}
HmacSha256::~HmacSha256() = default;
HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;

// A null key re-initialises from the key state set in the constructor (OpenSSL 3 HMAC).
void HmacSha256::begin() { check(EVP_MAC_init(impl_->ctx.get(), nullptr, 0, nullptr), "HMAC-SHA256"); }
void HmacSha256::update(std::span<const uint8_t> data) {
  check(EVP_MAC_update(impl_->ctx.get(), data.data(), data.size()), "HMAC-SHA256");
}
Sha256Digest HmacSha256::end() {
  Sha256Digest out;
  size_t length = 0;
  check(EVP_MAC_final(impl_->ctx.get(), out.data(), &length, out.size()), "HMAC-SHA256");
  return out;
}
Sha256Digest HmacSha256::mac(std::span<const uint8_t> data) {
  begin();
  update(data);
  return end();
}

Sha256Digest hmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Sha256Digest out;
  size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(), data.size(),
                out.data(), out.size(), &length) == nullptr)
    failOpenssl("HMAC-SHA256");
  return out;
}

void hkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt, std::span<const uint8_t> info,
                std::span<uint8_t> out) {
  OSSL_PARAM params[5];
  OSSL_PARAM* p = params;
  *p++ = utf8(OSSL_KDF_PARAM_DIGEST, "SHA256");
  *p++ = octets(OSSL_KDF_PARAM_KEY, ikm);
  if (!salt.empty()) *p++ = octets(OSSL_KDF_PARAM_SALT, salt);
  *p++ = octets(OSSL_KDF_PARAM_INFO, info);
  *p = OSSL_PARAM_construct_end();
  kdfDerive("HKDF", params, out);
}

void checkPassphraseKdfParams(const PassphraseKdfParams& params) {
  if (params.kdf == PassphraseKdf::Scrypt) {
    bool powerOfTwo = params.cost != 0 && (params.cost & (params.cost - 1)) == 0;
    uint64_t memory = 128ull * params.blockSize * params.cost;
    if (!powerOfTwo || params.cost < (1u << 10) || params.cost > (1u << 22) || params.blockSize < 1 ||
        params.blockSize > 32 || params.parallelism < 1 || params.parallelism > 16 || memory > (1ull << 30))
      fail(ErrorCode::Format, "scrypt parameters N={} r={} p={} are outside the accepted range", params.cost,
           params.blockSize, params.parallelism);
  } else if (params.kdf == PassphraseKdf::Pbkdf2Sha256) {
    if (params.cost < 10'000 || params.cost > 100'000'000 || params.blockSize != 0 || params.parallelism != 0)
      fail(ErrorCode::Format, "PBKDF2 iteration count {} is outside the accepted range", params.cost);
  } else {
    fail(ErrorCode::Format, "unknown passphrase key derivation {}", static_cast<int>(params.kdf));
  }
}

SecretKey deriveFromPassphrase(std::string_view passphrase, std::span<const uint8_t> salt,
                               const PassphraseKdfParams& params) {
  checkPassphraseKdfParams(params);
  std::span<const uint8_t> pass(reinterpret_cast<const uint8_t*>(passphrase.data()), passphrase.size());
  std::array<uint8_t, kKeySize> out{};
  uint64_t cost = params.cost;
  uint32_t r = params.blockSize;
  uint32_t p = params.parallelism;
  uint64_t maxMemory = (1ull << 30) + (1ull << 24);
  if (params.kdf == PassphraseKdf::Scrypt) {
    OSSL_PARAM list[] = {octets(OSSL_KDF_PARAM_PASSWORD, pass),
                         octets(OSSL_KDF_PARAM_SALT, salt),
                         OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &cost),
                         OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
                         OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
                         OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxMemory),
                         OSSL_PARAM_construct_end()};
    kdfDerive("SCRYPT", list, out);
  } else {
    OSSL_PARAM list[] = {octets(OSSL_KDF_PARAM_PASSWORD, pass), octets(OSSL_KDF_PARAM_SALT, salt),
                         OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &cost),
                         utf8(OSSL_KDF_PARAM_DIGEST, "SHA256"), OSSL_PARAM_construct_end()};
    kdfDerive("PBKDF2", list, out);
  }
  SecretKey key(out);
  wipe(out);
  return key;
}

struct AesGcm::Impl {
  UniqueC<EVP_CIPHER, EVP_CIPHER_free> cipher{
      notNull(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "AES-256-GCM")};
  UniqueC<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> encrypt{notNull(EVP_CIPHER_CTX_new(), "AES-256-GCM")};
  UniqueC<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free> decrypt{notNull(EVP_CIPHER_CTX_new(), "AES-256-GCM")};
  SecretKey encryptKey;
  SecretKey decryptKey;
  bool encryptKeyed = false;
  bool decryptKeyed = false;

  // Sets key on ctx unless it is the key already set there (keeping its key schedule).
  void useKey(EVP_CIPHER_CTX* ctx, bool encrypting, const SecretKey& key) {
    SecretKey& cached = encrypting ? encryptKey : decryptKey;
    bool& keyed = encrypting ? encryptKeyed : decryptKeyed;
    if (keyed && cached == key) return;
    check(EVP_CipherInit_ex2(ctx, cipher.get(), key.bytes().data(), nullptr, encrypting ? 1 : 0, nullptr),
          "AES-256-GCM key setup");
    cached = key;
    keyed = true;
  }
};

AesGcm::AesGcm() : impl_(std::make_unique<Impl>()) {}
AesGcm::~AesGcm() = default;
AesGcm::AesGcm(AesGcm&&) noexcept = default;
AesGcm& AesGcm::operator=(AesGcm&&) noexcept = default;

void AesGcm::seal(const SecretKey& key, std::span<const uint8_t, kGcmNonceSize> nonce, std::span<const uint8_t> aad,
                  std::span<const uint8_t> input, std::span<uint8_t> output, std::span<uint8_t, kGcmTagSize> tag) {
  if (input.size() != output.size()) fail(ErrorCode::Internal, "AES-256-GCM output size differs from input size");
  EVP_CIPHER_CTX* ctx = impl_->encrypt.get();
  impl_->useKey(ctx, true, key);
  int length = 0;
  check(EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr), "AES-256-GCM");
  check(EVP_EncryptUpdate(ctx, nullptr, &length, aad.data(), intLength(aad.size(), "AES-256-GCM")), "AES-256-GCM");
  check(EVP_EncryptUpdate(ctx, output.data(), &length, input.data(), intLength(input.size(), "AES-256-GCM")),
        "AES-256-GCM");
  check(EVP_EncryptFinal_ex(ctx, output.data() + length, &length), "AES-256-GCM");
  check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kGcmTagSize, tag.data()), "AES-256-GCM");
}

bool AesGcm::open(const SecretKey& key, std::span<const uint8_t, kGcmNonceSize> nonce, std::span<const uint8_t> aad,
                  std::span<const uint8_t> input, std::span<uint8_t> output,
                  std::span<const uint8_t, kGcmTagSize> tag) {
  if (input.size() != output.size()) fail(ErrorCode::Internal, "AES-256-GCM output size differs from input size");
  EVP_CIPHER_CTX* ctx = impl_->decrypt.get();
  impl_->useKey(ctx, false, key);
  int length = 0;
  check(EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr), "AES-256-GCM");
  check(EVP_DecryptUpdate(ctx, nullptr, &length, aad.data(), intLength(aad.size(), "AES-256-GCM")), "AES-256-GCM");
  check(EVP_DecryptUpdate(ctx, output.data(), &length, input.data(), intLength(input.size(), "AES-256-GCM")),
        "AES-256-GCM");
  check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kGcmTagSize, const_cast<uint8_t*>(tag.data())), "AES-256-GCM");
  bool ok = EVP_DecryptFinal_ex(ctx, output.data() + length, &length) > 0;
  ERR_clear_error();
  return ok;
}

}  // namespace pgbr
