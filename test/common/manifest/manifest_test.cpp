#include "common/manifest/manifest.h"

#include "common/error.h"
#include "common/filter/record_stream.h"
#include "common/storage/byte_stream.h"

#include <doctest/doctest.h>

using namespace pgbr;

namespace {

ManifestHeader sampleHeader() {
  ManifestHeader h;
  h.stanza = "main";
  h.label = "20261125-034319F";
  h.type = "full";
  h.startTime = 1795000000;
  h.stopTime = 1795000100;
  h.startLsn = "0/2000028";
  h.stopLsn = "0/2000138";
  h.timeline = 1;
  h.walStart = "000000010000000000000002";
  h.walStop = "000000010000000000000002";
  h.pgVersion = 15;
  h.systemId = 7311234567890123456ull;
  h.chunkSize = 262144;
  h.backupLabel = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n";
  return h;
}

std::vector<ManifestEntry> sampleEntries() {
  ManifestEntry dir{.type = EntryType::Directory, .path = "base", .mtime = 10, .mode = 0700, .user = "postgres", .group = "postgres"};
  std::array<uint8_t, 32> raw{};
  raw.fill(0x11);
  ManifestEntry file{.type = EntryType::File, .path = "base/1/1259", .size = 8192 * 3, .mtime = 11, .mode = 0600,
                     .user = "postgres", .group = "postgres", .checksum = std::string(64, 'a'),
                     .chunks = {ChunkId(raw)}, .pageErrors = {2}};
  ManifestEntry link{.type = EntryType::Link, .path = "pg_tblspc/16384", .mtime = 12, .mode = 0777,
                     .target = "/srv/ts1"};
  return {dir, file, link};
}

std::vector<uint8_t> writeManifest(const std::vector<ManifestEntry>& entries) {
  VectorSink sink;
  ManifestWriter writer(sink, sampleHeader());
  for (const auto& e : entries) writer.add(e);
  writer.finish();
  return sink.take();
}

std::vector<ManifestEntry> readEntries(std::span<const uint8_t> bytes) {
  SpanSource source(bytes);
  ManifestReader reader(source, "manifest test");
  std::vector<ManifestEntry> out;
  while (auto e = reader.next()) out.push_back(*e);
  return out;
}

}  // namespace

TEST_CASE("manifest round trip keeps the header and every entry") {
  auto bytes = writeManifest(sampleEntries());
  SpanSource source(bytes);
  ManifestReader reader(source, "m");
  CHECK(reader.header().label == "20261125-034319F");
  CHECK(reader.header().systemId == 7311234567890123456ull);
  CHECK(reader.header().backupLabel == sampleHeader().backupLabel);
  std::vector<ManifestEntry> entries;
  while (auto e = reader.next()) entries.push_back(*e);
  CHECK(entries == sampleEntries());
}

TEST_CASE("manifest round trip through an encrypted record stream") {
  auto keys = std::make_shared<const Keyring>(SecretKey::random());
  auto sink = std::make_unique<VectorSink>();
  auto* raw = sink.get();
  RecordWriter records(std::move(sink), keys, KeyPurpose::Metadata, PipelineSpec{.chunkSize = 8192});
  {
    ManifestWriter writer(records, sampleHeader());
    for (const auto& e : sampleEntries()) writer.add(e);
    writer.finish();
  }
  records.finish();
  RecordReader reader(std::make_unique<SpanSource>(raw->data()), keys, KeyPurpose::Metadata, "m");
  ManifestReader manifest(reader, "m");
  int count = 0;
  while (manifest.next()) ++count;
  CHECK(count == 3);
}

TEST_CASE("a truncated manifest is detected") {
  auto bytes = writeManifest(sampleEntries());
  auto text = std::string(bytes.begin(), bytes.end());
  auto cut = text.rfind("{\"entries\"");
  if (cut == std::string::npos) cut = text.rfind("{");
  bytes.resize(cut);
  CHECK_THROWS_WITH_AS(readEntries(bytes), doctest::Contains("truncated"), Error);
}

TEST_CASE("a manifest path that escapes the data directory is refused") {
  auto entries = sampleEntries();
  auto bytes = writeManifest(entries);
  std::string text(bytes.begin(), bytes.end());
  auto at = text.find("base/1/1259");
  text.replace(at, 11, "../../etc/x");
  CHECK_THROWS_AS(readEntries(std::vector<uint8_t>(text.begin(), text.end())), Error);
  std::string absolute(bytes.begin(), bytes.end());
  absolute.replace(absolute.find("base/1/1259"), 11, "/etc/passwdx");
  CHECK_THROWS_AS(readEntries(std::vector<uint8_t>(absolute.begin(), absolute.end())), Error);
}

TEST_CASE("entries out of order are refused by the writer and the reader") {
  auto entries = sampleEntries();
  VectorSink sink;
  ManifestWriter writer(sink, sampleHeader());
  writer.add(entries[1]);
  CHECK_THROWS_AS(writer.add(entries[0]), Error);
}

TEST_CASE("a trailer with the wrong count is corrupt") {
  auto bytes = writeManifest(sampleEntries());
  std::string text(bytes.begin(), bytes.end());
  text.replace(text.find("\"entries\":3"), 11, "\"entries\":4");
  CHECK_THROWS_WITH_AS(readEntries(std::vector<uint8_t>(text.begin(), text.end())), doctest::Contains("trailer says 4"), Error);
}

TEST_CASE("manifest order is depth-first: a directory's children come before its siblings") {
  CHECK(manifestPathLess("base", "base/1"));
  CHECK(manifestPathLess("a/b", "a-c"));
  CHECK_FALSE(manifestPathLess("a-c", "a/b"));
  CHECK(manifestPathLess("a", "a-c"));
  CHECK_FALSE(manifestPathLess("x", "x"));
}
