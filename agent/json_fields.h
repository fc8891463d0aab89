// Reading numbers from JSON that came over the wire: nlohmann keeps a non-negative integer as
// unsigned when it parses text and as signed when code builds it, so "is it a count" is asked
// here once. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::agent {

// The value as an unsigned integer; nullopt for anything else (negative, fractional, text).
inline std::optional<uint64_t> asUnsigned(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return static_cast<uint64_t>(value.get<int64_t>());
  return std::nullopt;
}

// object[name] as an unsigned integer; nullopt when object is no object, lacks it, or it is not one.
inline std::optional<uint64_t> unsignedField(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(name);
  return it == object.end() ? std::nullopt : asUnsigned(*it);
}

// object[name] as a string; nullopt when object is no object, lacks it, or it is not one.
inline std::optional<std::string> stringField(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// object[name], or null when object is no object or lacks it.
inline nlohmann::json field(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nlohmann::json(nullptr) : *it;
}

}  // namespace pgbr::agent
