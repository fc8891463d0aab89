// Small JSON objects kept in the repository as plain files (pgbr-repository.json, stanza
// identities): reading one with errors that name the object, the bytes to write one, and the
// UTC timestamps they carry. Pure functions over a Storage; thread-safe.
#pragma once

#include "common/storage/storage.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

// The object at path, or nullopt when absent. Throws Corrupt naming the object when it is not
// a JSON object.
std::optional<nlohmann::json> readJsonObject(Storage& storage, std::string_view path);
// The compact JSON text and a newline.
std::vector<uint8_t> jsonBytes(const nlohmann::json& object);

// A member of a stored object, checked for type; Corrupt naming `what` and the key otherwise.
template <typename T>
T jsonField(const nlohmann::json& object, std::string_view key, std::string_view what);

// "2026-11-25T03:43:19Z"
std::string utcTimestamp(std::time_t time);
std::string utcTimestampNow();

}  // namespace pgbr::repo
