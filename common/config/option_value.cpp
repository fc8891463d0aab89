#include "common/config/option_value.h"

#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pgbr {
namespace {

// Compares a checked value with the option's range; both bounds parse (option_table_test).
template <typename T, typename Parse>
bool inRange(const OptionDef& option, T value, Parse parse) {
  if (!option.range) return true;
  auto min = parse(option.range->min);
  auto max = parse(option.range->max);
  return min && max && value >= *min && value <= *max;
}

std::string rangeText(const OptionDef& option) {
  return option.range ? fmt::format(" from {} to {}", option.range->min, option.range->max) : std::string();
}

CheckedValue bad(const OptionDef& option, std::string_view command) { return {{}, expectedValue(option, command)}; }

}  // namespace

std::optional<bool> parseBool(std::string_view text) {
  if (text == "y") return true;
  if (text == "n") return false;
  return std::nullopt;
}

std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> parseSeconds(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || fraction.size() > 3) return std::nullopt;
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  for (char c : text.substr(0, dot))
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  for (char c : fraction)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  int64_t millis = *parseInteger(whole) * 1000;
  int64_t scale = 100;
  for (char c : fraction) {
    millis += (c - '0') * scale;
    scale /= 10;
  }
  return std::chrono::milliseconds(millis);
}

std::optional<std::pair<std::string, std::string>> splitMapItem(std::string_view item) {
  size_t eq = item.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view key = trim(item.substr(0, eq));
  if (key.empty()) return std::nullopt;
  return std::pair{std::string(key), std::string(trim(item.substr(eq + 1)))};
}

std::string expectedValue(const OptionDef& option, std::string_view command) {
  switch (option.type) {
    case OptionType::Bool:
      return "expected y or n";
    case OptionType::Integer:
      return "expected an integer" + rangeText(option);
    case OptionType::Size:
      return "expected a size such as 512, 256KiB or 64MiB" + rangeText(option);
    case OptionType::Time:
      return "expected seconds such as 60 or 1.5" + rangeText(option);
    case OptionType::Path:
      return "expected an absolute path";
    case OptionType::Map:
      return "expected <key>=<value>";
    case OptionType::Enum: {
      std::vector<std::string> values;
      for (auto v : optionAllowed(option, command)) values.emplace_back(v);
      return "expected one of: " + join(values, ", ");
    }
    case OptionType::String:
    case OptionType::List:
      return "expected a value";
  }
  return "expected a value";
}

CheckedValue checkOptionValue(const OptionDef& option, std::string_view command, std::string_view text) {
  if (text.empty()) return bad(option, command);
  CheckedValue result{std::string(text), {}};
  switch (option.type) {
    case OptionType::Bool:
      if (!parseBool(text)) return bad(option, command);
      break;
    case OptionType::Integer: {
      auto value = parseInteger(text);
      if (!value || !inRange(option, *value, parseInteger)) return bad(option, command);
      break;
    }
    case OptionType::Size: {
      auto value = parseBytes(text);
      if (!value || !inRange(option, *value, parseBytes)) return bad(option, command);
      break;
    }
    case OptionType::Time: {
      auto value = parseSeconds(text);
      if (!value || !inRange(option, *value, parseSeconds)) return bad(option, command);
      break;
    }
    case OptionType::Path:
      if (text[0] != '/') return bad(option, command);
      while (result.value.size() > 1 && result.value.back() == '/') result.value.pop_back();
      break;
    case OptionType::Enum: {
      auto allowed = optionAllowed(option, command);
      if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) return bad(option, command);
      break;
    }
    case OptionType::Map: {
      auto item = splitMapItem(text);
      if (!item) return bad(option, command);
      result.value = item->first + "=" + item->second;
      break;
    }
    case OptionType::String:
    case OptionType::List:
      break;
  }
  if (option.check) result.problem = option.check(result.value);
  return result;
}

}  // namespace pgbr
