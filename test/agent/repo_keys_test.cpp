#include "agent/repo_keys.h"

#include "common/config/parse.h"
#include "common/error.h"
#include "common/filter/envelope.h"
#include "common/text.h"

#include <doctest/doctest.h>

#include <openssl/evp.h>

using namespace pgbr;
using namespace pgbr::agent;
using nlohmann::json;

namespace {

std::string base64(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

SecretKey master() {
  std::array<uint8_t, 32> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
  return SecretKey(bytes);
}

json keysResponse(const Keyring& full, Cipher cipher = Cipher::Aes256Gcm) {
  PipelineSpec spec;
  spec.cipher = cipher;
  return {
      {"repoId", "5f1c"},
      {"cipher", std::string(cipherName(cipher))},
      {"chunkSize", spec.chunkSize},
      {"pipeline", spec.toJson()},
      {"currentKeyId", 2},
      {"chunkIdKey", base64(full.chunkIdKey().bytes())},
      {"dataKeys",
       {{"1", base64(full.key(KeyPurpose::Data, 1).bytes())}, {"2", base64(full.key(KeyPurpose::Data, 2).bytes())}}}};
}

Config agentConfig(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--no-config",
                                   "--repo1-host=backup.example.com",
                                   "--repo1-host-ca-file=/ca.crt",
                                   "--repo1-host-cert-file=/a.crt",
                                   "--repo1-host-key-file=/a.key",
                                   "--stanza=main",
                                   "--pg1-path=/var/lib/postgresql/15/main"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("backup");
  return parseConfig(Binary::Agent, args, {});
}

}  // namespace

TEST_CASE("base64 decodes with and without padding and refuses anything else") {
  auto check = [](std::string_view text, std::string_view expected) {
    auto bytes = decodeBase64(text);
    REQUIRE(bytes);
    CHECK(std::string(bytes->begin(), bytes->end()) == expected);
  };
  check("", "");
  check("Zg==", "f");
  check("Zm8=", "fo");
  check("Zm9v", "foo");
  check("cGdici1hZ2VudA==", "pgbr-agent");
  CHECK_FALSE(decodeBase64("Zm9").has_value());
  CHECK_FALSE(decodeBase64("Zm9*").has_value());
}

TEST_CASE("the handed-out keys open what the repository's full keyring sealed, and seal under the current id") {
  Keyring full(master(), 2);
  RepoKeys keys = parseRepoKeys(keysResponse(full));
  CHECK(keys.repoId == "5f1c");
  CHECK(keys.keyring->currentKeyId() == 2);
  CHECK(keys.keyring->chunkIdKey() == full.chunkIdKey());

  PipelineSpec spec;
  auto fullRing = std::make_shared<const Keyring>(master(), 2);
  EnvelopeCodec server(fullRing, KeyPurpose::Data, spec);
  std::vector<uint8_t> plain = {'w', 'a', 'l'};
  auto sealed = server.seal(EnvelopeKind::Chunk, 0, 0, plain);
  std::vector<uint8_t> copy(sealed.begin(), sealed.end());
  EnvelopeCodec agent(keys.keyring, KeyPurpose::Data, keys.pipeline);
  auto opened = agent.open(copy, "test");
  CHECK(std::vector<uint8_t>(opened.plaintext.begin(), opened.plaintext.end()) == plain);
  CHECK(opened.header.keyId == 2);
  // The agent was given no metadata key: manifests stay the server's business.
  CHECK_THROWS_AS(keys.keyring->key(KeyPurpose::Metadata, 1), Error);
}

TEST_CASE("a malformed keys answer is a protocol error naming the field") {
  Keyring full(master(), 2);
  json response = keysResponse(full);
  response["chunkIdKey"] = "not base64!";
  CHECK_THROWS_WITH_AS(parseRepoKeys(response), "the repository server's repo.keys answer has a malformed chunkIdKey",
                       Error);
  response = keysResponse(full);
  response["dataKeys"].erase("2");
  CHECK_THROWS_WITH_AS(parseRepoKeys(response), "the repository server sent no data key for the current key id 2",
                       Error);
  response = keysResponse(full);
  response["currentKeyId"] = 0;
  CHECK_THROWS_AS(parseRepoKeys(response), Error);
  response = keysResponse(full, Cipher::None);
  response["dataKeys"] = json::object();
  CHECK(parseRepoKeys(response).pipeline.cipher == Cipher::None);
}

TEST_CASE("compress-type and compress-level override the repository's compression only when set") {
  PipelineSpec spec;
  spec.compression = Compression::Zstd;
  spec.level = 7;
  applyCompressionOptions(agentConfig({}), spec);
  CHECK(spec.compression == Compression::Zstd);
  CHECK(spec.level == 7);
  applyCompressionOptions(agentConfig({"--compress-type=lz4"}), spec);
  CHECK(spec.compression == Compression::Lz4);
  CHECK(spec.level == compressionLevels(Compression::Lz4).fallback);
  applyCompressionOptions(agentConfig({"--compress-type=zstd", "--compress-level=9"}), spec);
  CHECK(spec.level == 9);
  CHECK_THROWS_WITH_AS(applyCompressionOptions(agentConfig({"--compress-type=lz4", "--compress-level=20"}), spec),
                       doctest::Contains("lz4 takes levels"), Error);
}

TEST_CASE("the WAL tag is the first 8 bytes of HMAC-SHA256 under the chunk-id key, however the file is fed") {
  Keyring keys(master(), 1);
  std::vector<uint8_t> content(100000, 0x42);
  WalTag whole(keys);
  whole.update(content);
  WalTag pieces(keys);
  pieces.update(std::span(content).first(12345));
  pieces.update(std::span(content).subspan(12345));
  HmacSha256 mac(keys.chunkIdKey());
  auto digest = mac.mac(content);
  std::string expected = toHex(std::span(digest).first(8));
  CHECK(whole.finish() == expected);
  CHECK(pieces.finish() == expected);
  CHECK(expected.size() == 16);
}
