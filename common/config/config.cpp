#include "common/config/config.h"

#include "common/config/help.h"
#include "common/config/option_value.h"
#include "common/error.h"
#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgbr {
namespace {

// Quotes a value that a shell or a reader would split.
std::string quoteIfNeeded(const std::string& value) {
  bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'';
  });
  if (plain) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string typeList(std::initializer_list<OptionType> types) {
  std::vector<std::string> names;
  for (auto type : types) names.emplace_back(optionTypeName(type));
  return join(names, " or ");
}

}  // namespace

std::string ValueSource::describe() const {
  std::string text;
  switch (kind) {
    case Kind::Default:
      text = "by default";
      break;
    case Kind::CommandLine:
      text = "on the command line";
      break;
    case Kind::Environment:
      text = fmt::format("in environment variable {}", where);
      break;
    case Kind::File:
      text = fmt::format("in {}:{}", where, line);
      break;
  }
  if (!envRef.empty()) text += fmt::format(" ({}{})", kEnvPrefix, envRef);
  return text;
}

Config::Config(Binary binary, const CommandDef& command, std::vector<std::string> args, std::vector<OptionValue> values,
               std::vector<std::string> warnings)
    : binary_(binary), command_(&command), args_(std::move(args)), warnings_(std::move(warnings)) {
  for (auto& value : values) {
    auto key = std::pair{value.def->name, value.index};
    values_.insert_or_assign(key, std::move(value));
  }
}

std::string Config::stanza() const {
  auto it = values_.find(std::pair{std::string_view("stanza"), 0u});
  return it == values_.end() ? std::string() : it->second.items.front();
}

std::pair<const OptionDef*, unsigned> Config::resolve(std::string_view name, unsigned index) const {
  const OptionDef* def = findOption(name);
  if (!def) fail(ErrorCode::Internal, "option '{}' is not in the option table", name);
  if (!optionValidFor(*def, command_->name))
    fail(ErrorCode::Internal, "option '{}' is not valid for command '{}'", name, command_->name);
  if (def->indexed) {
    if (index == 0) index = 1;
    if (index > optionFamily(*def).maxIndex) fail(ErrorCode::Internal, "option '{}' has no index {}", name, index);
  } else if (index != 0) {
    fail(ErrorCode::Internal, "option '{}' is not indexed (index {} asked)", name, index);
  }
  return {def, index};
}

const OptionValue* Config::lookup(std::string_view name, unsigned index) const {
  auto [def, i] = resolve(name, index);
  auto it = values_.find(std::pair{def->name, i});
  return it == values_.end() || it->second.negated ? nullptr : &it->second;
}

const OptionValue& Config::need(std::string_view name, unsigned index, std::initializer_list<OptionType> types) const {
  auto [def, i] = resolve(name, index);
  if (std::find(types.begin(), types.end(), def->type) == types.end())
    fail(ErrorCode::Internal, "option '{}' is of type {}, not {}", name, optionTypeName(def->type), typeList(types));
  const OptionValue* value = lookup(name, i);
  if (!value)
    fail(ErrorCode::OptionRequired, "option '{}' has no value for the {} command", optionDisplayName(*def, i),
         command_->name);
  return *value;
}

bool Config::has(std::string_view name, unsigned index) const { return lookup(name, index) != nullptr; }

std::string Config::str(std::string_view name, unsigned index) const {
  return need(name, index,
              {OptionType::String, OptionType::Path, OptionType::Bool, OptionType::Integer, OptionType::Size,
               OptionType::Time, OptionType::Enum})
      .items.front();
}

bool Config::flag(std::string_view name, unsigned index) const {
  return *parseBool(need(name, index, {OptionType::Bool}).items.front());
}

int64_t Config::integer(std::string_view name, unsigned index) const {
  return *parseInteger(need(name, index, {OptionType::Integer}).items.front());
}

uint64_t Config::bytes(std::string_view name, unsigned index) const {
  return *parseBytes(need(name, index, {OptionType::Size}).items.front());
}

std::chrono::milliseconds Config::duration(std::string_view name, unsigned index) const {
  return *parseSeconds(need(name, index, {OptionType::Time}).items.front());
}

std::string_view Config::choice(std::string_view name, unsigned index) const {
  const OptionValue& value = need(name, index, {OptionType::Enum});
  for (std::string_view allowed : optionAllowed(*value.def, command_->name))
    if (allowed == value.items.front()) return allowed;
  fail(ErrorCode::Internal, "option '{}' holds '{}', which it does not allow", name, value.items.front());
}

std::vector<std::string> Config::list(std::string_view name, unsigned index) const {
  return need(name, index, {OptionType::List}).items;
}

std::map<std::string, std::string> Config::map(std::string_view name, unsigned index) const {
  std::map<std::string, std::string> result;
  for (const auto& item : need(name, index, {OptionType::Map}).items) result.insert(*splitMapItem(item));
  return result;
}

const ValueSource& Config::source(std::string_view name, unsigned index) const {
  return need(name, index,
              {OptionType::String, OptionType::Path, OptionType::Bool, OptionType::Integer, OptionType::Size,
               OptionType::Time, OptionType::Enum, OptionType::List, OptionType::Map})
      .source;
}

bool Config::isSet(std::string_view name, unsigned index) const {
  const OptionValue* value = lookup(name, index);
  return value && value->source.kind != ValueSource::Kind::Default;
}

std::string Config::describe(std::string_view name, unsigned index) const {
  auto [def, i] = resolve(name, index);
  const OptionValue* value = lookup(name, i);
  std::string display = optionDisplayName(*def, i);
  if (!value) return fmt::format("option '{}' (not set)", display);
  return fmt::format("option '{}' ({})", display, value->source.describe());
}

std::vector<unsigned> Config::indexes(std::string_view family) const {
  std::vector<unsigned> result;
  for (const auto& [key, value] : values_) {
    if (!value.def->indexed || optionFamily(*value.def).prefix != family) continue;
    if (value.source.kind == ValueSource::Kind::Default) continue;
    if (std::find(result.begin(), result.end(), value.index) == result.end()) result.push_back(value.index);
  }
  std::sort(result.begin(), result.end());
  if (result.empty()) result.push_back(1);
  return result;
}

std::vector<const OptionValue*> Config::values() const {
  std::vector<std::pair<std::string, const OptionValue*>> named;
  for (const auto& [key, value] : values_) named.emplace_back(optionDisplayName(*value.def, value.index), &value);
  std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const OptionValue*> result;
  for (const auto& [name, value] : named) result.push_back(value);
  return result;
}

std::string Config::redactedOptions() const {
  std::vector<std::string> parts;
  for (const OptionValue* value : values()) {
    if (value->source.kind == ValueSource::Kind::Default) continue;
    std::string name = optionDisplayName(*value->def, value->index);
    if (value->negated) {
      parts.push_back("--no-" + name);
    } else if (value->def->type == OptionType::Bool) {
      parts.push_back((value->items.front() == "y" ? "--" : "--no-") + name);
    } else if (value->def->secret) {
      parts.push_back(fmt::format("--{}=<redacted>", name));
    } else {
      for (const auto& item : value->items) parts.push_back(fmt::format("--{}={}", name, quoteIfNeeded(item)));
    }
  }
  return join(parts, " ");
}

std::string commandBeginMessage(const Config& config) {
  std::string message = fmt::format("{} command begin {}", config.commandName(), pgbrVersion());
  std::string options = config.redactedOptions();
  std::vector<std::string> args;
  for (const auto& arg : config.args()) args.push_back(quoteIfNeeded(arg));
  if (args.empty() && options.empty()) return message;
  message += ":";
  if (!args.empty()) message += fmt::format(" [{}]", join(args, ", "));
  if (!options.empty()) message += " " + options;
  return message;
}

}  // namespace pgbr
