// Encodings and digests the object-store protocols need: base64, MD5 (Content-MD5), SHA-256 in
// hex (SigV4 payload hashes), and the two date formats (ISO 8601 basic for SigV4, RFC 1123 for
// Azure and Last-Modified). Pure functions; thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::objectstore {

std::string base64Encode(std::span<const uint8_t> bytes);
// nullopt when text is not padded base64.
std::optional<std::vector<uint8_t>> base64Decode(std::string_view text);

std::array<uint8_t, 16> md5(std::span<const uint8_t> data);
std::string sha256Hex(std::span<const uint8_t> data);
inline std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A size as the stores write it (decimal digits only); throws Format naming `what` otherwise.
uint64_t parseDecimalSize(std::string_view text, std::string_view what);

// 20130524T000000Z
std::string iso8601Basic(std::chrono::system_clock::time_point time);
// Fri, 24 May 2013 00:00:00 GMT
std::string rfc1123(std::chrono::system_clock::time_point time);
// Parses RFC 1123 ("Fri, 24 May 2013 00:00:00 GMT") or ISO 8601 ("2013-05-24T00:00:00.000Z");
// nullopt when it is neither.
std::optional<std::chrono::system_clock::time_point> parseHttpTime(std::string_view text);

}  // namespace pgbr::objectstore
