// Reading the fields of a REQUEST (docs/operations.md) with errors that name the op and the
// field, so a malformed request is a clear Protocol or Format error, never an Internal one.
// Pure functions; thread-safe.
#pragma once

#include "common/filter/chunk_id.h"
#include "protocol/server.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

// The request's "op", for messages.
std::string requestOp(const nlohmann::json& request);

// A string field; Error(Protocol) when it is missing or not a string.
std::string requireString(const nlohmann::json& request, std::string_view key);
std::optional<std::string> optionalString(const nlohmann::json& request, std::string_view key);
// An unsigned integer field (a decimal string is accepted too, for 64-bit values that JSON
// numbers cannot carry exactly); Error(Protocol) otherwise.
uint64_t requireUnsigned(const nlohmann::json& request, std::string_view key);
std::optional<uint64_t> optionalUnsigned(const nlohmann::json& request, std::string_view key);

// The "stanza" field, once the client's certificate is authorised for it (Error(Auth)
// otherwise) and it is a valid stanza name (Error(Format)).
std::string authorisedStanza(const protocol::Session& session, const nlohmann::json& request);

// The "ids" field: hex chunk ids, at most `max` of them. Error(Format) naming a bad id,
// Error(Limit) when there are too many.
std::vector<ChunkId> requireChunkIds(const nlohmann::json& request, size_t max);

// Who holds a lock or made a request, for messages: "client certificate CN 'db1' (client
// 10.0.0.5:40112)".
std::string describeClient(const protocol::Session& session);

std::string base64(std::span<const uint8_t> bytes);

}  // namespace pgbr::repo
