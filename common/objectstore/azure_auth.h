// Azure Storage Shared Key authorisation for the Blob service: the string to sign and the
// Authorization header, exposed step by step for tests. Pure functions; thread-safe. The key
// is only an input; nothing returned contains it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbr::objectstore {

struct AzureSignRequest {
  std::string method;
  std::string account;
  std::string path;  // the URI path as sent, encoded: "/container/blob" (or "/account/container/blob")
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // every header sent (names any case)
  uint64_t contentLength = 0;
};

// VERB, the eleven standard headers (Content-Length empty when 0), the x-ms-* headers
// lower-cased and sorted as "name:value", then "/<account><path>" and the query parameters
// lower-cased and sorted as "\nname:value".
std::string azureStringToSign(const AzureSignRequest& request);
// "SharedKey <account>:<base64 HMAC-SHA256 of the string to sign under the decoded key>".
// Throws Error(OptionInvalidValue) when the key is not base64 (without showing it).
std::string azureAuthorization(const AzureSignRequest& request, std::string_view base64Key);

}  // namespace pgbr::objectstore
