#include "common/filter/compress.h"

#include "common/error.h"
#include "test/common/filter/filter_test_util.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgbr;

namespace {

constexpr Compression kAll[] = {Compression::None, Compression::Zstd, Compression::Lz4, Compression::Bzip2,
                                Compression::Gzip};

std::vector<uint8_t> compressed(Compressor& c, Compression type, std::span<const uint8_t> input) {
  int level = compressionLevels(type).fallback;
  std::vector<uint8_t> out(c.bound(type, level, input.size()));
  out.resize(c.compress(type, level, input, out));
  return out;
}

using pgbr::test::errorCodeOf;

}  // namespace

TEST_CASE("every compression round-trips pages, noise, zeros and empty input with a reused context") {
  Compressor c;
  std::vector<std::vector<uint8_t>> inputs{pgbr::test::pgbenchPages(32), pgbr::test::patternBytes(100'000),
                                           std::vector<uint8_t>(262'144, 0), {}, {42}};
  for (Compression type : kAll) {
    for (const auto& input : inputs) {
      CAPTURE(compressionName(type));
      CAPTURE(input.size());
      auto packed = compressed(c, type, input);
      std::vector<uint8_t> back(input.size());
      c.decompress(type, packed, back, "test");
      CHECK(back == input);
    }
  }
}

TEST_CASE("pgbench-like pages compress well with every real compression") {
  Compressor c;
  auto pages = pgbr::test::pgbenchPages(32);
  for (Compression type : kAll) {
    if (type == Compression::None) continue;
    CAPTURE(compressionName(type));
    CHECK(compressed(c, type, pages).size() < pages.size() / 3);
  }
}

TEST_CASE("every compression level in range works; levels outside are refused") {
  Compressor c;
  auto input = pgbr::test::pgbenchPages(2);
  for (Compression type : kAll) {
    LevelRange range = compressionLevels(type);
    for (int level = range.min; level <= range.max; level += std::max(1, (range.max - range.min) / 3)) {
      std::vector<uint8_t> out(c.bound(type, level, input.size()));
      out.resize(c.compress(type, level, input, out));
      std::vector<uint8_t> back(input.size());
      c.decompress(type, out, back, "test");
      CHECK(back == input);
    }
    std::vector<uint8_t> out(c.bound(type, range.max, input.size()));
    CHECK(errorCodeOf([&] { c.compress(type, range.max + 1, input, out); }) == ErrorCode::OptionInvalidValue);
  }
}

TEST_CASE("damaged, short, long or trailing compressed data is Corrupt naming the object") {
  Compressor c;
  auto input = pgbr::test::pgbenchPages(4);
  for (Compression type : kAll) {
    CAPTURE(compressionName(type));
    auto packed = compressed(c, type, input);
    std::vector<uint8_t> back(input.size());

    std::vector<uint8_t> bigger(input.size() + 1);
    CHECK(errorCodeOf([&] { c.decompress(type, packed, bigger, "chunk x"); }) == ErrorCode::Corrupt);
    std::vector<uint8_t> smaller(input.size() - 1);
    CHECK(errorCodeOf([&] { c.decompress(type, packed, smaller, "chunk x"); }) == ErrorCode::Corrupt);
    auto cut = std::span(packed).first(packed.size() / 2);
    CHECK(errorCodeOf([&] { c.decompress(type, cut, back, "chunk x"); }) == ErrorCode::Corrupt);
    auto trailing = packed;
    trailing.push_back(0);
    CHECK(errorCodeOf([&] { c.decompress(type, trailing, back, "chunk x"); }) == ErrorCode::Corrupt);
    if (type != Compression::None) {
      auto garbage = pgbr::test::patternBytes(packed.size());
      CHECK(errorCodeOf([&] { c.decompress(type, garbage, back, "chunk x"); }) == ErrorCode::Corrupt);
    }
    // The context still works after every failure.
    c.decompress(type, packed, back, "chunk x");
    CHECK(back == input);
  }
  try {
    std::vector<uint8_t> back(10);
    c.decompress(Compression::Zstd, pgbr::test::patternBytes(10), back, "chunk 00ff");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).starts_with("chunk 00ff: the compressed data is damaged"));
  }
}

TEST_CASE("compression names follow pgBackRest's compress-type values") {
  for (Compression type : kAll) CHECK(parseCompression(compressionName(type)) == type);
  CHECK(compressionName(Compression::Zstd) == "zst");
  CHECK(parseCompression("zstd") == Compression::Zstd);
  CHECK(parseCompression("gzip") == Compression::Gzip);
  CHECK(parseCompression("bzip2") == Compression::Bzip2);
  CHECK_FALSE(parseCompression("xz").has_value());
  CHECK(compressionFromByte(4) == Compression::Gzip);
  CHECK_FALSE(compressionFromByte(5).has_value());
  CHECK(compressionLevels(Compression::Zstd).fallback == 3);
  CHECK(compressionLevels(Compression::Gzip).fallback == 6);
}
