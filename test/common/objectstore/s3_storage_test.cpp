// The S3 driver against a real S3 server on loopback (s3rver): the storage conformance suite,
// multipart uploads, prefixes and the errors a user sees.
#include "common/objectstore/s3_storage.h"

#include "common/error.h"
#include "test/common/storage/storage_conformance.h"
#include "test/support/object_store_servers.h"

#include <doctest/doctest.h>

#include <atomic>

using namespace pgbr;
using namespace pgbr::objectstore;
using pgbr::test::bytesOf;
using pgbr::test::patternBytes;

namespace {

S3Settings s3rverSettings(const std::string& prefix) {
  auto& server = test::S3rverServer::shared();
  S3Settings settings;
  settings.bucket = test::S3rverServer::kBucket;
  settings.endpoint = parseEndpoint(server.endpoint(), "endpoint");
  settings.uriStyle = UriStyle::Path;
  settings.credentials = {test::S3rverServer::kAccessKey, test::S3rverServer::kSecretKey, ""};
  settings.prefix = prefix;
  settings.tuning.partSize = kS3MinPartSize;
  settings.tuning.retry.attempts = 2;
  settings.tuning.retry.firstDelay = std::chrono::milliseconds(10);
  return settings;
}

std::string freshPrefix() {
  static std::atomic<int> counter{0};
  return "conformance/" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

struct S3Factory {
  S3Storage s3{s3rverSettings(freshPrefix())};
  Storage& storage() { return s3; }
};

}  // namespace

TEST_CASE("S3 storage on s3rver passes the storage conformance suite") {
  pgbr::test::runStorageConformance<S3Factory>();
}

TEST_CASE("S3 storage uploads a large streamed object in parts and reads ranges of it") {
  S3Storage s3(s3rverSettings(freshPrefix()));
  auto data = patternBytes(2 * kS3MinPartSize + 12345, 7);
  auto writer = s3.openWrite("big/object", WriteMode::IfAbsent);
  for (size_t at = 0; at < data.size(); at += 1'000'000)
    writer->write(std::span(data).subspan(at, std::min<size_t>(1'000'000, data.size() - at)));
  CHECK_FALSE(s3.exists("big/object"));
  writer->finish();
  CHECK(writer->result() == WriteResult::Written);
  CHECK(s3.read("big/object") == data);
  auto reader = s3.openRead("big/object", kS3MinPartSize - 10, 20);
  CHECK(readAll(*reader) == std::vector<uint8_t>(data.begin() + kS3MinPartSize - 10, data.begin() + kS3MinPartSize + 10));

  auto again = s3.openWrite("big/object", WriteMode::IfAbsent);
  again->write(patternBytes(kS3MinPartSize + 1, 8));
  again->finish();
  CHECK(again->result() == WriteResult::AlreadyExists);
  CHECK(s3.read("big/object") == data);
}

TEST_CASE("S3 storage writes a whole object larger than a part as a multipart upload") {
  auto settings = s3rverSettings(freshPrefix());
  settings.tuning.singlePutMax = kS3MinPartSize;
  S3Storage s3(settings);
  auto data = patternBytes(kS3MinPartSize + 1, 9);
  CHECK(s3.write("whole", data) == WriteResult::Written);
  CHECK(s3.read("whole") == data);
  CHECK(s3.info("whole")->size == data.size());
}

TEST_CASE("S3 storage lists more than one page of keys") {
  S3Storage s3(s3rverSettings(freshPrefix()));
  for (int i = 0; i < 1005; ++i) s3.write(fmt::format("many/{:05}", i), bytesOf("x"));
  auto all = s3.list("many");
  REQUIRE(all.size() == 1005);
  CHECK(all.front().path == "00000");
  CHECK(all.back().path == "01004");
  CHECK(s3.list("", true).size() == 1005);
}

TEST_CASE("S3 storage names the bucket and key and the server's error code, never the secret") {
  // s3rver checks access key ids, not SigV4 signatures (the known-answer tests cover those).
  auto settings = s3rverSettings(freshPrefix());
  settings.credentials.accessKey = "UNKNOWNKEY";
  settings.credentials.secretKey = "not-the-secret-SECRETVALUE";
  S3Storage s3(settings);
  try {
    s3.write("denied", bytesOf("x"));
    FAIL("a write with a wrong secret key succeeded");
  } catch (const Error& e) {
    std::string message = e.what();
    CAPTURE(message);
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(message.find("s3://pgbr-test/conformance/") != std::string::npos);
    CHECK(message.find("denied") != std::string::npos);
    CHECK(message.find("HTTP 403") != std::string::npos);
    CHECK(message.find("InvalidAccessKeyId") != std::string::npos);
    CHECK(message.find("SECRETVALUE") == std::string::npos);
  }
}

TEST_CASE("S3 storage reports a missing bucket with the bucket's name") {
  auto settings = s3rverSettings(freshPrefix());
  settings.bucket = "no-such-bucket";
  S3Storage s3(settings);
  try {
    s3.list("");
    FAIL("listing a missing bucket succeeded");
  } catch (const Error& e) {
    std::string message = e.what();
    CAPTURE(message);
    CHECK(e.code() == ErrorCode::FileRead);
    CHECK(message.find("s3://no-such-bucket/") != std::string::npos);
    CHECK(message.find("NoSuchBucket") != std::string::npos);
  }
}
