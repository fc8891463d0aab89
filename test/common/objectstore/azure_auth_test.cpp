// Azure Shared Key: the string to sign in the documented layout (Authorize with Shared Key,
// Blob service, version 2015-02-21 and later), and the signature as the documented HMAC.
#include "common/objectstore/azure_auth.h"

#include "common/error.h"
#include "common/filter/crypto.h"
#include "common/objectstore/encoding.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::objectstore;

namespace {

AzureSignRequest putBlockExample() {
  AzureSignRequest request;
  request.method = "PUT";
  request.account = "myaccount";
  request.path = "/mycontainer/dir/blob%20name";
  request.query = {{"comp", "block"}, {"blockid", "AAAA=="}};
  request.headers = {{"x-ms-version", "2021-08-06"},
                     {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
                     {"Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="},
                     {"If-None-Match", "*"},
                     {"X-MS-Blob-Type", "BlockBlob"}};
  request.contentLength = 11;
  return request;
}

}  // namespace

TEST_CASE("Azure Shared Key string to sign follows the documented layout") {
  CHECK(azureStringToSign(putBlockExample()) ==
        "PUT\n"
        "\n"                          // Content-Encoding
        "\n"                          // Content-Language
        "11\n"                        // Content-Length
        "Q2hlY2sgSW50ZWdyaXR5IQ==\n"  // Content-MD5
        "\n"                          // Content-Type
        "\n"                          // Date (x-ms-date is used)
        "\n"                          // If-Modified-Since
        "\n"                          // If-Match
        "*\n"                         // If-None-Match
        "\n"                          // If-Unmodified-Since
        "\n"                          // Range
        "x-ms-blob-type:BlockBlob\n"
        "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
        "x-ms-version:2021-08-06\n"
        "/myaccount/mycontainer/dir/blob%20name\n"
        "blockid:AAAA==\n"
        "comp:block");
}

TEST_CASE("Azure Shared Key leaves Content-Length empty for an empty body") {
  AzureSignRequest request;
  request.method = "GET";
  request.account = "acct";
  request.path = "/c";
  request.query = {{"restype", "container"}, {"comp", "list"}, {"prefix", "a/b"}};
  request.headers = {{"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"}, {"x-ms-version", "2021-08-06"}};
  CHECK(azureStringToSign(request) ==
        "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2021-08-06\n"
        "/acct/c\ncomp:list\nprefix:a/b\nrestype:container");
}

TEST_CASE("Azure Shared Key signs with HMAC-SHA256 under the decoded account key") {
  auto request = putBlockExample();
  std::string key = base64Encode(bytesOf("a key of thirty-two bytes length"));
  auto mac = hmacSha256(bytesOf("a key of thirty-two bytes length"), bytesOf(azureStringToSign(request)));
  CHECK(azureAuthorization(request, key) == "SharedKey myaccount:" + base64Encode(mac));
  CHECK(azureAuthorization(request, key).find(key) == std::string::npos);
}

TEST_CASE("Azure Shared Key refuses a key that is not base64 without showing it") {
  try {
    azureAuthorization(putBlockExample(), "not base64!SECRET");
    FAIL("a bad key was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::OptionInvalidValue);
    CHECK(std::string(e.what()).find("SECRET") == std::string::npos);
    CHECK(std::string(e.what()).find("myaccount") != std::string::npos);
  }
}
