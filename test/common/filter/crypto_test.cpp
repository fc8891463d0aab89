#include "common/filter/crypto.h"

#include "common/error.h"
#include "common/text.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgbr;

namespace {
std::span<const uint8_t> bytes(std::string_view text) { return {reinterpret_cast<const uint8_t*>(text.data()), text.size()}; }
std::vector<uint8_t> unhex(std::string_view text) { return *fromHex(text); }
}  // namespace

TEST_CASE("SHA-256 of 'abc' matches FIPS 180-2, one-shot and incremental") {
  CHECK(toHex(sha256(bytes("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 hash;
  hash.update(bytes("a"));
  hash.update(bytes("bc"));
  CHECK(toHex(hash.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  hash.reset();
  CHECK(toHex(hash.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test cases 1 and 2") {
  CHECK(toHex(hmacSha256(std::vector<uint8_t>(20, 0x0b), bytes("Hi There"))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(toHex(hmacSha256(bytes("Jefe"), bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a reused HMAC context gives the one-shot result for every message") {
  SecretKey key(unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
  HmacSha256 mac(key);
  for (std::string_view message : {"first", "", "second message", "first"}) {
    CAPTURE(message);
    CHECK(mac.mac(bytes(message)) == hmacSha256(key.bytes(), bytes(message)));
  }
  mac.begin();
  mac.update(bytes("split "));
  mac.update(bytes("message"));
  CHECK(mac.end() == hmacSha256(key.bytes(), bytes("split message")));
}

TEST_CASE("HKDF-SHA256 matches RFC 5869 test cases 1 and 3") {
  std::vector<uint8_t> ikm(22, 0x0b);
  std::vector<uint8_t> okm(42);
  hkdfSha256(ikm, unhex("000102030405060708090a0b0c"), unhex("f0f1f2f3f4f5f6f7f8f9"), okm);
  CHECK(toHex(okm) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  hkdfSha256(ikm, {}, {}, okm);
  CHECK(toHex(okm) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("scrypt matches RFC 7914 and PBKDF2-SHA256 matches its published vector") {
  auto scrypt = deriveFromPassphrase("password", bytes("NaCl"), {PassphraseKdf::Scrypt, 1024, 8, 16});
  CHECK(toHex(scrypt.bytes()) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
  auto pbkdf2 = deriveFromPassphrase("Password", bytes("NaCl"), {PassphraseKdf::Pbkdf2Sha256, 80000, 0, 0});
  CHECK(toHex(pbkdf2.bytes()) == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56");
}

TEST_CASE("passphrase KDF parameters outside the accepted range are Format errors") {
  for (PassphraseKdfParams bad : std::vector<PassphraseKdfParams>{{PassphraseKdf::Scrypt, 1000, 8, 1},
                                                                   {PassphraseKdf::Scrypt, 1u << 23, 8, 1},
                                                                   {PassphraseKdf::Scrypt, 1u << 20, 32, 1},
                                                                   {PassphraseKdf::Scrypt, 1024, 8, 0},
                                                                   {PassphraseKdf::Pbkdf2Sha256, 100, 0, 0},
                                                                   {static_cast<PassphraseKdf>(9), 1024, 8, 1}}) {
    try {
      checkPassphraseKdfParams(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Format);
    }
  }
}

TEST_CASE("AES-256-GCM matches the GCM specification's test case 16 and rejects any change") {
  SecretKey key(unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  auto nonceBytes = unhex("cafebabefacedbaddecaf888");
  std::span<const uint8_t, kGcmNonceSize> nonce(nonceBytes.data(), kGcmNonceSize);
  auto aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  auto plain = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
      "ba637b39");
  std::vector<uint8_t> data = plain;
  std::array<uint8_t, kGcmTagSize> tag{};
  AesGcm gcm;
  gcm.seal(key, nonce, aad, data, data, tag);
  CHECK(toHex(data) ==
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0ab"
        "cc9f662");
  CHECK(toHex(tag) == "76fc6ece0f4e1768cddf8853bb2d551b");

  std::vector<uint8_t> out(data.size());
  CHECK(gcm.open(key, nonce, aad, data, out, tag));
  CHECK(out == plain);
  auto badAad = aad;
  badAad[0] ^= 1;
  CHECK_FALSE(gcm.open(key, nonce, badAad, data, out, tag));
  auto badTag = tag;
  badTag[15] ^= 0x80;
  CHECK_FALSE(gcm.open(key, nonce, aad, data, out, badTag));
  CHECK_FALSE(gcm.open(SecretKey::random(), nonce, aad, data, out, tag));
  CHECK(gcm.open(key, nonce, aad, data, out, tag));  // the key schedule is re-derived after a key change
}

TEST_CASE("secret keys compare by value and random keys differ") {
  SecretKey a = SecretKey::random();
  SecretKey b = SecretKey::random();
  SecretKey c = a;
  CHECK(a == c);
  CHECK_FALSE(a == b);
  CHECK_THROWS_AS(SecretKey(std::vector<uint8_t>(16)), Error);
  CHECK(constantTimeEqual(bytes("abc"), bytes("abc")));
  CHECK_FALSE(constantTimeEqual(bytes("abc"), bytes("abd")));
  CHECK_FALSE(constantTimeEqual(bytes("abc"), bytes("ab")));
}
