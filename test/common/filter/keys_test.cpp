#include "common/filter/keys.h"

#include "common/error.h"
#include "test/common/storage/storage_test_util.h"
#include "common/text.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pgbr;

namespace {

const PassphraseKdfParams kFastScrypt{PassphraseKdf::Scrypt, 1024, 8, 1};

SecretKey sequentialKey() {
  std::array<uint8_t, kKeySize> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  return SecretKey(bytes);
}

using pgbr::test::errorCodeOf;

}  // namespace

TEST_CASE("per-purpose keys are HKDF-SHA256 of the master with the documented labels") {
  SecretKey master = sequentialKey();
  std::array<uint8_t, kKeySize> expected{};
  std::string_view label = "pgbr chunk-id v1";
  hkdfSha256(master.bytes(), {}, {reinterpret_cast<const uint8_t*>(label.data()), label.size()}, expected);
  CHECK(deriveChunkIdKey(master) == SecretKey(expected));

  std::string info = std::string("pgbr data v1") + std::string("\0\0\0\2", 4);
  hkdfSha256(master.bytes(), {}, {reinterpret_cast<const uint8_t*>(info.data()), info.size()}, expected);
  CHECK(deriveKey(master, KeyPurpose::Data, 2) == SecretKey(expected));
}

TEST_CASE("every purpose and key id gets its own key") {
  SecretKey master = sequentialKey();
  Keyring keyring(master, 3);
  CHECK(keyring.currentKeyId() == 3);
  std::vector<SecretKey> keys{keyring.chunkIdKey()};
  for (uint32_t id = 1; id <= 3; ++id) {
    keys.push_back(keyring.key(KeyPurpose::Data, id));
    keys.push_back(keyring.key(KeyPurpose::Metadata, id));
  }
  for (size_t i = 0; i < keys.size(); ++i)
    for (size_t j = i + 1; j < keys.size(); ++j) CHECK_FALSE(keys[i] == keys[j]);
  CHECK(Keyring(master, 1).key(KeyPurpose::Data, 1) == keyring.key(KeyPurpose::Data, 1));
}

TEST_CASE("a key id the keyring does not have is a Crypto error naming the id") {
  Keyring keyring(sequentialKey(), 1);
  CHECK_THROWS_WITH_AS(keyring.key(KeyPurpose::Data, 7),
                       "data is sealed with key id 7 but the repository key file only has ids 1 to 1", Error);
  CHECK_THROWS_AS(Keyring(sequentialKey(), 0), Error);
}

TEST_CASE("a keyring built from handed-out keys seals like the master's and lacks the metadata keys") {
  Keyring full(sequentialKey(), 2);
  Keyring agent(full.chunkIdKey(),
                {{1, full.key(KeyPurpose::Data, 1)}, {2, full.key(KeyPurpose::Data, 2)}}, {}, 2);
  CHECK(agent.currentKeyId() == 2);
  CHECK(agent.chunkIdKey() == full.chunkIdKey());
  CHECK(agent.key(KeyPurpose::Data, 2) == full.key(KeyPurpose::Data, 2));
  CHECK_THROWS_AS(agent.key(KeyPurpose::Metadata, 1), Error);
  CHECK_THROWS_AS(Keyring(full.chunkIdKey(), {}, {}, 0), Error);
}

TEST_CASE("a wrapped key file opens with its passphrase and keeps the master and key id") {
  MasterKey master{SecretKey::random(), 4, true};
  auto file = makeKeyFile(master, "correct horse", kFastScrypt);
  CHECK(file.size() == kKeyFileSize);
  CHECK(std::string(file.begin(), file.begin() + 8) == "PGBR-KEY");
  MasterKey opened = openKeyFile(file, "correct horse", "repo/key");
  CHECK(opened.key == master.key);
  CHECK(opened.currentKeyId == 4);
  CHECK(opened.encrypted);
  // The master key does not appear in the file.
  auto raw = master.key.bytes();
  CHECK(std::search(file.begin(), file.end(), raw.begin(), raw.end()) == file.end());
  // Two key files for the same master differ (fresh salt and nonce).
  CHECK(makeKeyFile(master, "correct horse", kFastScrypt) != file);
}

TEST_CASE("the default scrypt and PBKDF2 parameters round-trip") {
  MasterKey master{SecretKey::random(), 1, true};
  CHECK(openKeyFile(makeKeyFile(master, "pass"), "pass", "k").key == master.key);
  auto pbkdf2 = makeKeyFile(master, "pass", {PassphraseKdf::Pbkdf2Sha256, 10'000, 0, 0});
  CHECK(openKeyFile(pbkdf2, "pass", "k").key == master.key);
}

TEST_CASE("a wrong passphrase is a clear Crypto error that does not echo the passphrase") {
  auto file = makeKeyFile({SecretKey::random(), 1, true}, "right passphrase", kFastScrypt);
  try {
    openKeyFile(file, "wrong passphrase", "/repo/keys/key");
    FAIL("opened with a wrong passphrase");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Crypto);
    std::string message = e.what();
    CHECK(message == "cannot unlock the repository key '/repo/keys/key': the passphrase is wrong (check repo1-cipher-pass)");
    CHECK(message.find("wrong passphrase") == std::string::npos);
    CHECK(message.find("right passphrase") == std::string::npos);
  }
  CHECK_THROWS_WITH_AS(openKeyFile(file, std::nullopt, "k"),
                       "the repository key 'k' is encrypted: set the passphrase (repo1-cipher-pass)", Error);
  CHECK(errorCodeOf([&] { openKeyFile(file, "", "k"); }) == ErrorCode::Crypto);
}

TEST_CASE("an unencrypted key file stores the master so chunk ids stay keyed") {
  MasterKey master{SecretKey::random(), 2, false};
  auto file = makeKeyFile(master, std::nullopt);
  MasterKey opened = openKeyFile(file, std::nullopt, "k");
  CHECK(opened.key == master.key);
  CHECK_FALSE(opened.encrypted);
  CHECK(opened.currentKeyId == 2);
  CHECK(errorCodeOf([&] { makeKeyFile(master, ""); }) == ErrorCode::OptionInvalidValue);
}

TEST_CASE("any flipped bit in a key file is detected before the passphrase is tried") {
  auto file = makeKeyFile({SecretKey::random(), 1, true}, "pass", kFastScrypt);
  for (size_t bit = 0; bit < file.size() * 8; ++bit) {
    auto damaged = file;
    damaged[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ErrorCode code = errorCodeOf([&] { openKeyFile(damaged, "pass", "k"); });
    CAPTURE(bit);
    CHECK((code == ErrorCode::Corrupt || code == ErrorCode::Format || code == ErrorCode::RepoVersion));
  }
  CHECK(errorCodeOf([&] { openKeyFile(std::span(file).first(100), "pass", "k"); }) == ErrorCode::Corrupt);
  std::vector<uint8_t> longer = file;
  longer.push_back(0);
  CHECK(errorCodeOf([&] { openKeyFile(longer, "pass", "k"); }) == ErrorCode::Corrupt);
  CHECK_THROWS_WITH_AS(openKeyFile(std::vector<uint8_t>{'{', '}'}, "pass", "k"),
                       "'k' is not a pgbr key file (it does not start with \"PGBR-KEY\")", Error);
}

TEST_CASE("a newer key file version is RepoVersion") {
  auto file = makeKeyFile({SecretKey::random(), 1, false}, std::nullopt);
  file[8] = 2;
  CHECK(errorCodeOf([&] { openKeyFile(file, std::nullopt, "k"); }) == ErrorCode::RepoVersion);
}
