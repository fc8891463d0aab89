// AWS Signature Version 4 for S3 requests (header-based authentication): the canonical
// request, the string to sign, the signing key and the Authorization header, exposed step by
// step so tests can check each against AWS's documented examples.
//
// Pure functions over values; thread-safe. The secret key is only ever an input here: nothing
// returned contains it (the signature is an HMAC output).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbr::objectstore {

struct SigV4Credentials {
  std::string accessKey;
  std::string secretKey;
  std::string sessionToken;  // empty unless the credentials are temporary (STS)
};

struct SigV4Request {
  std::string method;
  std::string path;  // URI-encoded path, e.g. "/bucket/key%20name"
  std::vector<std::pair<std::string, std::string>> query;  // decoded names and values
  // Headers to sign (names any case); host, x-amz-date and x-amz-content-sha256 must be among them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payloadHash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// "GET\n/test.txt\n\nhost:...\n\nhost;range;...\n<payload hash>"
std::string sigV4CanonicalRequest(const SigV4Request& request);
// The signed header names: lower-case, sorted, ';'-separated.
std::string sigV4SignedHeaders(const SigV4Request& request);
// "AWS4-HMAC-SHA256\n<amz date>\n<date>/<region>/s3/aws4_request\n<hex sha256 of canonical>"
std::string sigV4StringToSign(const SigV4Request& request, std::string_view amzDate, std::string_view region,
                              std::string_view service = "s3");
// The hex signature.
std::string sigV4Signature(const SigV4Request& request, const SigV4Credentials& credentials,
                           std::string_view amzDate, std::string_view region, std::string_view service = "s3");
// The whole Authorization header value.
std::string sigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               std::string_view amzDate, std::string_view region, std::string_view service = "s3");

// The canonical query string: names and values URI-encoded, sorted by name then value.
std::string canonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace pgbr::objectstore
