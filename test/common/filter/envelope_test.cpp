#include "common/filter/envelope.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/text.h"
#include "test/common/filter/filter_test_util.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr;
using pgbr::test::testKeyring;

namespace {

constexpr Compression kCompressions[] = {Compression::None, Compression::Zstd, Compression::Lz4, Compression::Bzip2,
                                         Compression::Gzip};
constexpr Cipher kCiphers[] = {Cipher::None, Cipher::Aes256Gcm};

PipelineSpec specFor(Compression compression, Cipher cipher) {
  return {.compression = compression, .level = compressionLevels(compression).fallback, .cipher = cipher};
}

using pgbr::test::errorCodeOf;

std::vector<uint8_t> sealed(EnvelopeCodec& codec, std::span<const uint8_t> plain,
                            EnvelopeKind kind = EnvelopeKind::Chunk) {
  auto span = codec.seal(kind, 0, 0, plain);
  return {span.begin(), span.end()};
}

}  // namespace

TEST_CASE("envelopes round-trip for every compression and cipher") {
  auto keys = testKeyring();
  std::vector<std::vector<uint8_t>> inputs{pgbr::test::pgbenchPages(32), pgbr::test::patternBytes(50'000), {}, {7}};
  for (Compression compression : kCompressions) {
    for (Cipher cipher : kCiphers) {
      EnvelopeCodec codec(keys, KeyPurpose::Data, specFor(compression, cipher));
      for (const auto& input : inputs) {
        CAPTURE(compressionName(compression));
        CAPTURE(cipherName(cipher));
        CAPTURE(input.size());
        auto envelope = sealed(codec, input);
        auto opened = codec.open(envelope, "test");
        CHECK(std::vector<uint8_t>(opened.plaintext.begin(), opened.plaintext.end()) == input);
        CHECK(opened.header.plainLength == input.size());
        CHECK(opened.header.cipher == cipher);
        CHECK(envelope.size() == opened.header.envelopeSize());
      }
    }
  }
}

TEST_CASE("the header holds the documented fields at the documented offsets") {
  auto keys = testKeyring(1, 3);
  EnvelopeCodec codec(keys, KeyPurpose::Metadata, specFor(Compression::Zstd, Cipher::Aes256Gcm));
  auto plain = pgbr::test::pgbenchPages(4);
  auto span = codec.seal(EnvelopeKind::Record, 0x0102030405060708ull, 9, plain);
  std::vector<uint8_t> e(span.begin(), span.end());
  CHECK(std::string(e.begin(), e.begin() + 4) == "PGBE");
  CHECK(e[4] == 1);                    // version
  CHECK(e[5] == 2);                    // kind: record
  CHECK(e[6] == 1);                    // zstd
  CHECK(e[7] == 1);                    // aes-256-gcm
  CHECK(getU32(e, 8) == 3);            // current key id
  CHECK(getU32(e, 12) == plain.size());
  CHECK(getU32(e, 16) == e.size() - 64);
  CHECK(getU64(e, 20) == 0x0102030405060708ull);
  CHECK(getU64(e, 28) == 9);
}

TEST_CASE("data that does not compress is stored uncompressed") {
  EnvelopeCodec codec(testKeyring(), KeyPurpose::Data, specFor(Compression::Zstd, Cipher::Aes256Gcm));
  auto noise = pgbr::test::patternBytes(100'000);
  auto envelope = sealed(codec, noise);
  CHECK(envelope[6] == 0);
  CHECK(envelope.size() == noise.size() + 64);
}

TEST_CASE("every seal uses a fresh nonce, so equal plaintexts give different envelopes") {
  EnvelopeCodec codec(testKeyring(), KeyPurpose::Data, PipelineSpec{});
  auto plain = pgbr::test::pgbenchPages(2);
  auto a = sealed(codec, plain);
  auto b = sealed(codec, plain);
  CHECK(a != b);
  CHECK(!std::equal(a.begin() + 36, a.begin() + 48, b.begin() + 36));
}

TEST_CASE("a flipped bit anywhere in an envelope is Corrupt, with and without encryption") {
  auto keys = testKeyring();
  auto plain = pgbr::test::pgbenchPages(1);
  for (Cipher cipher : kCiphers) {
    CAPTURE(cipherName(cipher));
    EnvelopeCodec codec(keys, KeyPurpose::Data, specFor(Compression::Lz4, cipher));
    auto envelope = sealed(codec, plain);
    for (size_t bit = 0; bit < envelope.size() * 8; ++bit) {
      auto damaged = envelope;
      damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      ErrorCode code = errorCodeOf([&] { codec.open(damaged, "chunk"); });
      if (code != ErrorCode::Corrupt) {
        CAPTURE(bit);
        // A flipped key id may name a key the keyring lacks: that is reported as such.
        CHECK((code == ErrorCode::Crypto && bit / 8 >= 8 && bit / 8 < 12));
      }
    }
  }
}

TEST_CASE("a truncated or extended envelope is Corrupt at every length") {
  EnvelopeCodec codec(testKeyring(), KeyPurpose::Data, PipelineSpec{});
  auto envelope = sealed(codec, pgbr::test::pgbenchPages(2));
  for (size_t length = 0; length < envelope.size(); ++length) {
    CAPTURE(length);
    CHECK(errorCodeOf([&] { codec.open(std::span(envelope).first(length), "chunk"); }) == ErrorCode::Corrupt);
  }
  envelope.push_back(0);
  CHECK_THROWS_WITH_AS(codec.open(envelope, "chunk 12"),
                       fmt::format("chunk 12 is {} bytes but its header describes {} bytes", envelope.size(),
                                   envelope.size() - 1)
                           .c_str(),
                       Error);
}

TEST_CASE("an envelope sealed under another key or purpose fails authentication") {
  auto plain = pgbr::test::pgbenchPages(2);
  EnvelopeCodec writer(testKeyring(1), KeyPurpose::Data, PipelineSpec{});
  auto envelope = sealed(writer, plain);
  EnvelopeCodec otherRepository(testKeyring(2), KeyPurpose::Data, PipelineSpec{});
  CHECK_THROWS_WITH_AS(otherRepository.open(envelope, "chunk ab"),
                       "chunk ab fails authentication: it was damaged or altered, or sealed with a different "
                       "repository key",
                       Error);
  EnvelopeCodec metadata(testKeyring(1), KeyPurpose::Metadata, PipelineSpec{});
  CHECK(errorCodeOf([&] { metadata.open(envelope, "x"); }) == ErrorCode::Corrupt);
}

TEST_CASE("data sealed under an older key id stays readable after rotation; a newer id is a Crypto error") {
  auto plain = pgbr::test::pgbenchPages(2);
  EnvelopeCodec before(testKeyring(1, 1), KeyPurpose::Data, PipelineSpec{});
  auto old = sealed(before, plain);
  EnvelopeCodec after(testKeyring(1, 2), KeyPurpose::Data, PipelineSpec{});
  auto opened = after.open(old, "old chunk");
  CHECK(std::vector<uint8_t>(opened.plaintext.begin(), opened.plaintext.end()) == plain);
  auto newer = sealed(after, plain);
  CHECK(getU32(newer, 8) == 2);
  CHECK(errorCodeOf([&] { before.open(newer, "new chunk"); }) == ErrorCode::Crypto);
}

TEST_CASE("header values no writer produces are Corrupt before any payload is touched") {
  EnvelopeCodec codec(testKeyring(), KeyPurpose::Data, specFor(Compression::None, Cipher::None));
  auto envelope = sealed(codec, pgbr::test::pgbenchPages(1));
  auto withLength = [&](size_t offset, uint32_t value) {
    auto copy = envelope;
    putU32(copy, offset, value);
    return copy;
  };
  CHECK_THROWS_WITH_AS(codec.open(withLength(12, 100'000'000), "c"),
                       "c claims 100000000 plaintext / 8192 stored bytes, more than the 67108864 a writer produces",
                       Error);
  CHECK_THROWS_WITH_AS(codec.open(withLength(16, 100), "c"),
                       "c is uncompressed but claims 100 stored bytes for 8192 plaintext bytes", Error);
  CHECK_THROWS_WITH_AS(codec.open(withLength(8, 1), "c"), "c has cipher none with key id 1", Error);
  auto notEnvelope = envelope;
  notEnvelope[0] = '{';
  CHECK_THROWS_WITH_AS(codec.open(notEnvelope, "c"), "c is damaged: it does not start with an envelope header",
                       Error);
}

TEST_CASE("envelopes from docs/chunk-format.md's worked example, made by an independent implementation, open") {
  // Written with Python's hashlib and the cryptography package from the byte tables alone.
  std::array<uint8_t, kKeySize> master{};
  for (size_t i = 0; i < master.size(); ++i) master[i] = static_cast<uint8_t>(i);
  auto keys = std::make_shared<const Keyring>(SecretKey(master), 1);
  EnvelopeCodec codec(keys, KeyPurpose::Data, PipelineSpec{});
  for (std::string_view hex :
       {"50474245010100000000000000000004000000040000000000000000000000000000000000000000000000000000000070676272384d2b6e"
        "9f916affb9e63b96e8c2be10",
        "504742450101000100000001000000040000000400000000000000000000000000000000000102030405060708090a0be6ddd2c4bbc0a47"
        "4f5b9e9527a825ecc32e5b371"}) {
    auto envelope = *fromHex(hex);
    auto opened = codec.open(envelope, "example");
    CHECK(std::string(opened.plaintext.begin(), opened.plaintext.end()) == "pgbr");
  }
}
