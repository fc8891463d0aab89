// SigV4 against AWS's documented example (Amazon S3 API reference, "Signature Calculations for
// the Authorization Header", example GET Object): the canonical request, the string to sign
// and the signature.
#include "common/objectstore/sigv4.h"

#include <doctest/doctest.h>

using namespace pgbr::objectstore;

namespace {

const SigV4Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Request getObjectExample() {
  SigV4Request request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"Range", "bytes=0-9"},
                     {"x-amz-content-sha256", kEmptyHash},
                     {"x-amz-date", "20130524T000000Z"}};
  request.payloadHash = kEmptyHash;
  return request;
}

}  // namespace

TEST_CASE("SigV4 reproduces AWS's GET Object example step by step") {
  auto request = getObjectExample();
  CHECK(sigV4CanonicalRequest(request) ==
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sigV4StringToSign(request, "20130524T000000Z", "us-east-1") ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(sigV4Signature(request, kExample, "20130524T000000Z", "us-east-1") ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(sigV4Authorization(request, kExample, "20130524T000000Z", "us-east-1") ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("SigV4 header names are case-insensitive and values trimmed, so the signature does not change") {
  auto request = getObjectExample();
  request.headers = {{"x-amz-date", "20130524T000000Z"},
                     {"RANGE", "  bytes=0-9 "},
                     {"host", "examplebucket.s3.amazonaws.com"},
                     {"X-Amz-Content-Sha256", kEmptyHash}};
  CHECK(sigV4Signature(request, kExample, "20130524T000000Z", "us-east-1") ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("SigV4 canonical query strings are encoded and sorted, empty values kept") {
  CHECK(canonicalQuery({{"prefix", "a b/c"}, {"list-type", "2"}, {"uploads", ""}, {"continuation-token", "x+y="}}) ==
        "continuation-token=x%2By%3D&list-type=2&prefix=a%20b%2Fc&uploads=");
  auto request = getObjectExample();
  request.query = {{"max-keys", "2"}, {"prefix", "J"}};
  CHECK(sigV4CanonicalRequest(request).starts_with("GET\n/test.txt\nmax-keys=2&prefix=J\n"));
}

TEST_CASE("SigV4 signs a session token like any x-amz header and never puts the secret in the header") {
  auto request = getObjectExample();
  request.headers.emplace_back("x-amz-security-token", "TOKEN");
  std::string header = sigV4Authorization(request, kExample, "20130524T000000Z", "us-east-1");
  CHECK(header.find("x-amz-security-token") != std::string::npos);
  CHECK(header.find(kExample.secretKey) == std::string::npos);
  CHECK(header.find("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == std::string::npos);
}
