#include "common/objectstore/sigv4.h"

#include "common/filter/crypto.h"
#include "common/objectstore/encoding.h"
#include "common/objectstore/http_client.h"
#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace pgbr::objectstore {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Trims and collapses runs of spaces, as SigV4 canonical headers require.
std::string canonicalValue(std::string_view value) {
  value = trim(value);
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> canonicalHeaders(const SigV4Request& request) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[lower(name)];
    slot = slot.empty() ? canonicalValue(value) : slot + "," + canonicalValue(value);
  }
  return headers;
}

std::string scope(std::string_view amzDate, std::string_view region, std::string_view service) {
  return fmt::format("{}/{}/{}/aws4_request", amzDate.substr(0, 8), region, service);
}

Sha256Digest hmac(std::span<const uint8_t> key, std::string_view data) { return hmacSha256(key, bytesOf(data)); }

}  // namespace

std::string canonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const auto& [name, value] : query) encoded.emplace_back(uriEncode(name, false), uriEncode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string sigV4SignedHeaders(const SigV4Request& request) {
  std::string out;
  for (const auto& [name, value] : canonicalHeaders(request)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string sigV4CanonicalRequest(const SigV4Request& request) {
  std::string out = request.method + "\n" + request.path + "\n" + canonicalQuery(request.query) + "\n";
  for (const auto& [name, value] : canonicalHeaders(request)) out += name + ":" + value + "\n";
  out += "\n" + sigV4SignedHeaders(request) + "\n" + request.payloadHash;
  return out;
}

std::string sigV4StringToSign(const SigV4Request& request, std::string_view amzDate, std::string_view region,
                              std::string_view service) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", amzDate, scope(amzDate, region, service),
                     sha256Hex(bytesOf(sigV4CanonicalRequest(request))));
}

std::string sigV4Signature(const SigV4Request& request, const SigV4Credentials& credentials,
                           std::string_view amzDate, std::string_view region, std::string_view service) {
  std::string seed = "AWS4" + credentials.secretKey;
  auto key = hmac(bytesOf(seed), amzDate.substr(0, 8));
  std::fill(seed.begin(), seed.end(), '\0');
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, "aws4_request");
  return toHex(hmac(key, sigV4StringToSign(request, amzDate, region, service)));
}

std::string sigV4Authorization(const SigV4Request& request, const SigV4Credentials& credentials,
                               std::string_view amzDate, std::string_view region, std::string_view service) {
  return fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}", credentials.accessKey,
                     scope(amzDate, region, service), sigV4SignedHeaders(request),
                     sigV4Signature(request, credentials, amzDate, region, service));
}

}  // namespace pgbr::objectstore
