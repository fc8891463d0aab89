#include "common/objectstore/encoding.h"

#include "common/error.h"
#include "common/objectstore/endpoint.h"
#include "common/text.h"
#include "test/common/storage/storage_test_util.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::objectstore;

TEST_CASE("base64 and MD5 match their RFC test vectors") {
  CHECK(base64Encode(bytesOf("")) == "");
  CHECK(base64Encode(bytesOf("f")) == "Zg==");
  CHECK(base64Encode(bytesOf("foobar")) == "Zm9vYmFy");
  CHECK(base64Decode("Zm9vYg==") == std::vector<uint8_t>{'f', 'o', 'o', 'b'});
  CHECK_FALSE(base64Decode("Zm9").has_value());
  CHECK(toHex(md5(bytesOf("abc"))) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(sha256Hex(bytesOf("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("HTTP dates format and parse both ways") {
  auto time = std::chrono::system_clock::from_time_t(1369353600);
  CHECK(iso8601Basic(time) == "20130524T000000Z");
  CHECK(rfc1123(time) == "Fri, 24 May 2013 00:00:00 GMT");
  CHECK(parseHttpTime("Fri, 24 May 2013 00:00:00 GMT") == time);
  CHECK(parseHttpTime("2013-05-24T00:00:00.000Z") == time);
  CHECK_FALSE(parseHttpTime("yesterday").has_value());
}

TEST_CASE("endpoints: host, port and scheme, and clear errors for the rest") {
  auto plain = parseEndpoint("s3.eu-west-1.amazonaws.com", "repo1-s3-endpoint");
  CHECK(plain.scheme == "https");
  CHECK(plain.authority() == "s3.eu-west-1.amazonaws.com");
  CHECK(plain.url("bucket", "/key") == "https://bucket.s3.eu-west-1.amazonaws.com/key");
  auto local = parseEndpoint("http://127.0.0.1:9000/", "repo1-s3-endpoint");
  CHECK(local.scheme == "http");
  CHECK(local.url("", "/b/k") == "http://127.0.0.1:9000/b/k");
  CHECK(parseEndpoint("[::1]:10000", "x").authority() == "[::1]:10000");
  for (std::string bad : {"", "http://", "host:port", "host/path", "user@host", "host:123456"}) {
    CAPTURE(bad);
    try {
      parseEndpoint(bad, "repo1-s3-endpoint");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::OptionInvalidValue);
      CHECK(std::string(e.what()).find("repo1-s3-endpoint") != std::string::npos);
    }
  }
}
