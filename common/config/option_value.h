// The text form of option values: checking a value against its option's type, range and
// allowed values, putting it in canonical form, and converting canonical text back to a typed
// value. The parser checks every value once; Config's getters only convert.
#pragma once

#include "common/config/option_def.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgbr {

struct CheckedValue {
  std::string value;    // canonical form ("y"/"n", a path without trailing slash, …)
  std::string problem;  // what is wrong, e.g. "expected an integer from 1 to 64"; empty when fine
  bool ok() const { return problem.empty(); }
};

// Checks one value of `option` for `command` (one item for List and Map options).
CheckedValue checkOptionValue(const OptionDef& option, std::string_view command, std::string_view text);

// What a value of `option` must look like: "y or n", "one of: full, diff, incr", …
std::string expectedValue(const OptionDef& option, std::string_view command);

std::optional<bool> parseBool(std::string_view text);  // "y" or "n"
std::optional<int64_t> parseInteger(std::string_view text);
// Seconds with up to three decimals: "60", "1.5", "0.001".
std::optional<std::chrono::milliseconds> parseSeconds(std::string_view text);
// "key=value" at the first '=', both trimmed; nullopt without '=' or with an empty key.
std::optional<std::pair<std::string, std::string>> splitMapItem(std::string_view item);

// The prefix that makes a value a reference to an environment variable: ENV:NAME.
inline constexpr std::string_view kEnvPrefix = "ENV:";

}  // namespace pgbr
