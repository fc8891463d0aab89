#include "common/filter/pipeline.h"

#include "common/error.h"
#include "test/common/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using nlohmann::json;

namespace {
using pgbr::test::errorCodeOf;
}  // namespace

TEST_CASE("the default pipeline is described as a chunk-id, compress, encrypt filter chain") {
  PipelineSpec spec;
  CHECK(spec.toJson() == json::parse(R"({"chunk-size": 262144, "filters": [
      {"type": "chunk-id", "params": {"version": 1}},
      {"type": "compress", "params": {"type": "zst", "level": 3}},
      {"type": "encrypt", "params": {"cipher": "aes-256-gcm"}}]})"));
  CHECK(PipelineSpec::fromJson(spec.toJson()) == spec);
}

TEST_CASE("every compression and cipher survives the JSON round trip") {
  for (auto compression : {Compression::None, Compression::Zstd, Compression::Lz4, Compression::Bzip2,
                           Compression::Gzip}) {
    for (auto cipher : {Cipher::None, Cipher::Aes256Gcm}) {
      PipelineSpec spec{.chunkSize = 1024 * 1024, .compression = compression,
                        .level = compressionLevels(compression).fallback, .cipher = cipher};
      CHECK(PipelineSpec::fromJson(json::parse(spec.toJson().dump())) == spec);
    }
  }
}

TEST_CASE("a filter chain naming an unknown filter, type or order is a Format error") {
  auto base = PipelineSpec{}.toJson();
  auto unknownFilter = base;
  unknownFilter["filters"].insert(unknownFilter["filters"].begin() + 1, json{{"type", "dedupe"}});
  CHECK_THROWS_WITH_AS(PipelineSpec::fromJson(unknownFilter), "filter 'dedupe' is not known to this pgbr", Error);
  auto unknownCompression = base;
  unknownCompression["filters"][1]["params"]["type"] = "xz";
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(unknownCompression); }) == ErrorCode::Format);
  auto afterEncrypt = base;
  std::swap(afterEncrypt["filters"][1], afterEncrypt["filters"][2]);
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(afterEncrypt); }) == ErrorCode::Format);
  auto noEncrypt = base;
  noEncrypt["filters"].erase(2);
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(noEncrypt); }) == ErrorCode::Format);
  auto badChunk = base;
  badChunk["chunk-size"] = 10000;
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(badChunk); }) == ErrorCode::Format);
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(json::array()); }) == ErrorCode::Format);
  CHECK(errorCodeOf([&] { PipelineSpec::fromJson(json{{"chunk-size", "big"}}); }) == ErrorCode::Format);
}

TEST_CASE("chunk sizes must be multiples of 8 KiB from 8 KiB to 16 MiB, levels within range") {
  CHECK_NOTHROW(PipelineSpec{.chunkSize = 8192}.validate());
  CHECK_NOTHROW(PipelineSpec{.chunkSize = 16 * 1024 * 1024}.validate());
  CHECK_THROWS_WITH_AS(PipelineSpec{.chunkSize = 12000}.validate(),
                       "chunk size 12000 is not a multiple of 8 KiB between 8 KiB and 16 MiB", Error);
  CHECK(errorCodeOf([] { PipelineSpec{.chunkSize = 32 * 1024 * 1024}.validate(); }) == ErrorCode::OptionInvalidValue);
  CHECK_THROWS_WITH_AS((PipelineSpec{.compression = Compression::Gzip, .level = 12}.validate()),
                       "compress-level 12 is not valid for compress-type gz (use 0 to 9)", Error);
}

TEST_CASE("cipher names parse and unknown cipher bytes are refused") {
  CHECK(parseCipher("aes-256-gcm") == Cipher::Aes256Gcm);
  CHECK(parseCipher("none") == Cipher::None);
  CHECK_FALSE(parseCipher("aes-256-cbc").has_value());
  CHECK_FALSE(cipherFromByte(2).has_value());
}
