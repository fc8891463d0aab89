#include "repo-server/request.h"

#include "common/error.h"
#include "repo-server/stanza.h"

#include <openssl/evp.h>

#include <fmt/format.h>

namespace pgbr::repo {
namespace {

const nlohmann::json* field(const nlohmann::json& request, std::string_view key) {
  auto it = request.find(key);
  return it == request.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void badField(const nlohmann::json& request, std::string_view key, std::string_view expected) {
  fail(ErrorCode::Protocol, "request '{}': field \"{}\" must be {}", requestOp(request), key, expected);
}

}  // namespace

std::string requestOp(const nlohmann::json& request) {
  auto it = request.find("op");
  return it != request.end() && it->is_string() ? it->get<std::string>() : std::string("?");
}

std::optional<std::string> optionalString(const nlohmann::json& request, std::string_view key) {
  const auto* value = field(request, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) badField(request, key, "a string");
  return value->get<std::string>();
}

std::string requireString(const nlohmann::json& request, std::string_view key) {
  auto value = optionalString(request, key);
  if (!value) badField(request, key, "given (a string)");
  return *value;
}

std::optional<uint64_t> optionalUnsigned(const nlohmann::json& request, std::string_view key) {
  const auto* value = field(request, key);
  if (!value) return std::nullopt;
  if (value->is_number_unsigned()) return value->get<uint64_t>();
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos) {
      try {
        return std::stoull(text);
      } catch (const std::out_of_range&) {
      }
    }
  }
  badField(request, key, "an unsigned integer");
}

uint64_t requireUnsigned(const nlohmann::json& request, std::string_view key) {
  auto value = optionalUnsigned(request, key);
  if (!value) badField(request, key, "given (an unsigned integer)");
  return *value;
}

std::string authorisedStanza(const protocol::Session& session, const nlohmann::json& request) {
  std::string stanza = requireString(request, "stanza");
  session.authorise(stanza);
  checkStanzaName(stanza);
  return stanza;
}

std::vector<ChunkId> requireChunkIds(const nlohmann::json& request, size_t max) {
  const auto* ids = field(request, "ids");
  if (!ids || !ids->is_array()) badField(request, "ids", "an array of hex chunk ids");
  if (ids->size() > max)
    fail(ErrorCode::Limit, "request '{}' names {} chunk ids; at most {} are allowed in one request", requestOp(request),
         ids->size(), max);
  std::vector<ChunkId> result;
  result.reserve(ids->size());
  for (const auto& id : *ids) {
    std::optional<ChunkId> parsed;
    if (id.is_string()) parsed = ChunkId::fromHex(id.get_ref<const std::string&>());
    if (!parsed)
      fail(ErrorCode::Format, "request '{}': ids[{}] is not a chunk id (64 hex digits)", requestOp(request),
           result.size());
    result.push_back(*parsed);
  }
  return result;
}

std::string describeClient(const protocol::Session& session) {
  return fmt::format("client certificate CN '{}' ({})", session.commonName(), session.peer());
}

std::string base64(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace pgbr::repo
