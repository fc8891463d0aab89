#include "common/filter/record_stream.h"

#include "common/error.h"
#include "common/filter/bytes.h"
#include "common/storage/fault_storage.h"
#include "common/storage/memory_storage.h"
#include "test/common/filter/filter_test_util.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr;
using pgbr::test::testKeyring;

namespace {

const PipelineSpec kSmallRecords{.chunkSize = 8192};

using pgbr::test::errorCodeOf;

std::vector<uint8_t> writeStream(std::span<const uint8_t> data, const PipelineSpec& spec = kSmallRecords,
                                 size_t piece = 1000, KeyPurpose purpose = KeyPurpose::Metadata) {
  auto sink = std::make_unique<VectorSink>();
  VectorSink* out = sink.get();
  RecordWriter writer(std::move(sink), testKeyring(), purpose, spec);
  for (size_t at = 0; at < data.size(); at += piece) writer.write(data.subspan(at, std::min(piece, data.size() - at)));
  writer.finish();
  CHECK(out->finished());
  CHECK(writer.plainBytes() == data.size());
  return out->data();
}

std::vector<uint8_t> readStream(std::span<const uint8_t> stored, KeyPurpose purpose = KeyPurpose::Metadata) {
  RecordReader reader(std::make_unique<SpanSource>(stored), testKeyring(), purpose, "manifest 'm'");
  return readAll(reader);
}

// Splits a stream into its envelopes.
std::vector<std::vector<uint8_t>> envelopesOf(std::span<const uint8_t> stored) {
  std::vector<std::vector<uint8_t>> out;
  while (!stored.empty()) {
    size_t size = kEnvelopeHeaderSize + getU32(stored, 16) + kEnvelopeTrailerSize;
    out.emplace_back(stored.begin(), stored.begin() + size);
    stored = stored.subspan(size);
  }
  return out;
}

std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("record streams round-trip at every size around the record boundary") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{8191}, size_t{8192}, size_t{8193}, size_t{3 * 8192 + 4096}}) {
    for (size_t piece : {size_t{1000}, size_t{20000}}) {
      CAPTURE(size);
      CAPTURE(piece);
      auto data = pgbr::test::patternBytes(size, size);
      auto stored = writeStream(data, kSmallRecords, piece);
      CHECK(readStream(stored) == data);
      size_t records = std::max<size_t>(1, (size + 8191) / 8192);
      CHECK(envelopesOf(stored).size() == records);
    }
  }
}

TEST_CASE("record streams round-trip for every compression and cipher through storage") {
  MemoryStorage storage;
  auto data = pgbr::test::pgbenchPages(40);
  for (auto compression : {Compression::None, Compression::Zstd, Compression::Lz4, Compression::Bzip2,
                           Compression::Gzip}) {
    for (auto cipher : {Cipher::None, Cipher::Aes256Gcm}) {
      PipelineSpec spec{.chunkSize = 64 * 1024, .compression = compression,
                        .level = compressionLevels(compression).fallback, .cipher = cipher};
      RecordWriter writer(storage.openWrite("wal/seg"), testKeyring(), KeyPurpose::Data, spec);
      writer.write(data);
      writer.finish();
      RecordReader reader(storage.openRead("wal/seg"), testKeyring(), KeyPurpose::Data, "wal/seg");
      CHECK(readAll(reader) == data);
    }
  }
}

TEST_CASE("a record stream cut anywhere is Corrupt and says it is truncated") {
  auto stored = writeStream(pgbr::test::patternBytes(3 * 8192 + 10));
  for (size_t length = 0; length < stored.size(); length += 997) {
    CAPTURE(length);
    CHECK(errorCodeOf([&] { readStream(std::span(stored).first(length)); }) == ErrorCode::Corrupt);
  }
  auto parts = envelopesOf(stored);
  parts.pop_back();
  CHECK_THROWS_WITH_AS(readStream(concat(parts)),
                       "manifest 'm' is truncated: it ends after 3 records without its last record", Error);
  CHECK_THROWS_WITH_AS(readStream({}), "manifest 'm' is empty: it holds no records", Error);
}

TEST_CASE("reordered, dropped, duplicated or spliced records are Corrupt") {
  auto stored = writeStream(pgbr::test::patternBytes(4 * 8192 + 10));
  auto parts = envelopesOf(stored);
  REQUIRE(parts.size() == 5);

  auto swapped = parts;
  std::swap(swapped[1], swapped[2]);
  CHECK_THROWS_WITH_AS(readStream(concat(swapped)),
                       "manifest 'm' record 1 has sequence number 2: records are missing or out of order", Error);
  auto dropped = parts;
  dropped.erase(dropped.begin() + 2);
  CHECK(errorCodeOf([&] { readStream(concat(dropped)); }) == ErrorCode::Corrupt);
  auto duplicated = parts;
  duplicated.insert(duplicated.begin() + 1, parts[1]);
  CHECK(errorCodeOf([&] { readStream(concat(duplicated)); }) == ErrorCode::Corrupt);

  auto otherParts = envelopesOf(writeStream(pgbr::test::patternBytes(4 * 8192 + 10)));
  auto spliced = parts;
  spliced[3] = otherParts[3];
  CHECK_THROWS_WITH_AS(readStream(concat(spliced)),
                       "manifest 'm' record 3 belongs to another stream (spliced objects)", Error);
}

TEST_CASE("bytes after the last record are Corrupt; a flipped bit is Corrupt") {
  auto stored = writeStream(pgbr::test::patternBytes(9000));
  auto extended = stored;
  extended.push_back(0);
  CHECK_THROWS_WITH_AS(readStream(extended), "manifest 'm' has data after its last record", Error);
  for (size_t at = 0; at < stored.size(); at += 101) {
    auto damaged = stored;
    damaged[at] ^= 0x10;
    CAPTURE(at);
    ErrorCode code = errorCodeOf([&] { readStream(damaged); });
    CHECK((code == ErrorCode::Corrupt || code == ErrorCode::Crypto));
  }
}

TEST_CASE("a stream sealed for metadata does not open with the data key") {
  auto stored = writeStream(pgbr::test::patternBytes(100), kSmallRecords, 1000, KeyPurpose::Metadata);
  CHECK(errorCodeOf([&] { readStream(stored, KeyPurpose::Data); }) == ErrorCode::Corrupt);
}

TEST_CASE("a cancelled or failed record stream publishes nothing") {
  MemoryStorage memory;
  {
    RecordWriter writer(memory.openWrite("manifest"), testKeyring(), KeyPurpose::Metadata, kSmallRecords);
    writer.write(pgbr::test::patternBytes(50'000));
  }  // destroyed unfinished: cancelled
  CHECK_FALSE(memory.exists("manifest"));

  FaultStorage full(memory, FaultPlan{.byteBudget = 20'000});
  RecordWriter writer(full.openWrite("manifest"), testKeyring(), KeyPurpose::Metadata, kSmallRecords);
  CHECK(errorCodeOf([&] { writer.write(pgbr::test::patternBytes(50'000)); }) == ErrorCode::FileWrite);
  CHECK(errorCodeOf([&] { writer.finish(); }) == ErrorCode::Internal);
  writer.cancel();
  CHECK_FALSE(memory.exists("manifest"));
}

TEST_CASE("a hashing sink passes bytes through and reports their size and SHA-256") {
  auto sink = std::make_unique<VectorSink>();
  VectorSink* out = sink.get();
  HashingSink hashing(std::move(sink));
  auto data = pgbr::test::patternBytes(70'000);
  hashing.write(std::span(data).first(1000));
  hashing.write(std::span(data).subspan(1000));
  hashing.finish();
  CHECK(hashing.size() == data.size());
  CHECK(hashing.digest() == sha256(data));
  CHECK(out->data() == data);
}

TEST_CASE("a hashing sink refuses use after finish") {
  HashingSink hashing(std::make_unique<VectorSink>());
  hashing.finish();
  CHECK(hashing.digest() == sha256({}));
  CHECK(errorCodeOf([&] { hashing.write(std::vector<uint8_t>{1}); }) == ErrorCode::Internal);
  CHECK(errorCodeOf([&] { hashing.finish(); }) == ErrorCode::Internal);
}
