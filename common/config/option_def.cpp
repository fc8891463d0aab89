#include "common/config/option_def.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace pgbr {
namespace {

constexpr std::array kFamilies{
    IndexFamily{"pg", 8, "PostgreSQL cluster"},
    IndexFamily{"repo", 4, "repository"},
};

bool contains(const std::vector<std::string_view>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

const CommandOverride* findOverride(const OptionDef& option, std::string_view command) {
  for (const auto& o : option.overrides)
    if (o.command == command) return &o;
  return nullptr;
}

// "pg12-path" -> {"pg", 12, "path"}; index 0 when the digits are missing or malformed.
struct SplitName {
  const IndexFamily* family = nullptr;
  unsigned index = 0;
  std::string_view rest;
};

std::optional<SplitName> splitIndexed(std::string_view name) {
  for (const auto& family : kFamilies) {
    if (!name.starts_with(family.prefix)) continue;
    std::string_view tail = name.substr(family.prefix.size());
    size_t digits = 0;
    while (digits < tail.size() && std::isdigit(static_cast<unsigned char>(tail[digits]))) ++digits;
    if (digits == 0 || digits >= tail.size() || tail[digits] != '-') continue;
    unsigned index = 0;
    auto [ptr, ec] = std::from_chars(tail.data(), tail.data() + digits, index);
    if (ec != std::errc() || ptr != tail.data() + digits || tail[0] == '0') index = 0;
    return SplitName{&family, index, tail.substr(digits + 1)};
  }
  return std::nullopt;
}

}  // namespace

std::string_view binaryName(Binary binary) { return binary == Binary::Agent ? "pgbr-agent" : "pgbr-repo"; }

std::string_view optionTypeName(OptionType type) {
  switch (type) {
    case OptionType::String:
      return "string";
    case OptionType::Path:
      return "path";
    case OptionType::Bool:
      return "boolean";
    case OptionType::Integer:
      return "integer";
    case OptionType::Size:
      return "size";
    case OptionType::Time:
      return "time";
    case OptionType::Enum:
      return "enum";
    case OptionType::List:
      return "list";
    case OptionType::Map:
      return "map";
  }
  return "string";
}

std::string_view optionGroupTitle(OptionGroup group) {
  switch (group) {
    case OptionGroup::General:
      return "General";
    case OptionGroup::Log:
      return "Log";
    case OptionGroup::Archive:
      return "Archive";
    case OptionGroup::Backup:
      return "Backup";
    case OptionGroup::Restore:
      return "Restore";
    case OptionGroup::Pg:
      return "PostgreSQL cluster";
    case OptionGroup::RepoHost:
      return "Repository server connection";
    case OptionGroup::Repo:
      return "Repository";
    case OptionGroup::RepoS3:
      return "Repository on S3";
    case OptionGroup::RepoAzure:
      return "Repository on Azure Blob Storage";
    case OptionGroup::Server:
      return "Repository server";
  }
  return "General";
}

std::span<const IndexFamily> indexFamilies() { return kFamilies; }

std::string argumentUsage(const ArgumentDef& argument) {
  return argument.required ? fmt::format("<{}>", argument.name) : fmt::format("[{}]", argument.name);
}

const OptionDef* findOption(std::string_view name) {
  for (const auto& option : optionTable())
    if (option.name == name) return &option;
  return nullptr;
}

const CommandDef* findCommand(Binary binary, std::string_view name) {
  for (const auto& command : commandTable())
    if (command.binary == binary && command.name == name) return &command;
  return nullptr;
}

bool optionValidFor(const OptionDef& option, std::string_view command) { return contains(option.commands, command); }

bool optionRequiredFor(const OptionDef& option, std::string_view command) {
  return contains(option.requiredFor, command);
}

bool optionInBinary(const OptionDef& option, Binary binary) {
  return std::any_of(option.commands.begin(), option.commands.end(),
                     [&](std::string_view command) { return findCommand(binary, command) != nullptr; });
}

const IndexFamily& optionFamily(const OptionDef& option) {
  for (const auto& family : kFamilies)
    if (option.name.starts_with(family.prefix) && option.name.substr(family.prefix.size()).starts_with("-"))
      return family;
  return kFamilies[0];  // unreachable for a table that passes option_table_test
}

std::string_view optionDefault(const OptionDef& option, std::string_view command) {
  const CommandOverride* o = findOverride(option, command);
  return o && !o->defaultValue.empty() ? o->defaultValue : option.defaultValue;
}

std::span<const std::string_view> optionAllowed(const OptionDef& option, std::string_view command) {
  const CommandOverride* o = findOverride(option, command);
  return o && !o->allowed.empty() ? o->allowed : option.allowed;
}

std::optional<OptionRef> parseOptionName(std::string_view name) {
  if (const OptionDef* def = findOption(name)) return OptionRef{def, def->indexed ? 1u : 0u};
  auto split = splitIndexed(name);
  if (!split) return std::nullopt;
  const OptionDef* def = findOption(fmt::format("{}-{}", split->family->prefix, split->rest));
  if (!def || !def->indexed || split->index < 1 || split->index > split->family->maxIndex) return std::nullopt;
  return OptionRef{def, split->index};
}

std::string optionDisplayName(const OptionDef& option, unsigned index) {
  if (!option.indexed) return std::string(option.name);
  const IndexFamily& family = optionFamily(option);
  return fmt::format("{}{}{}", family.prefix, index, option.name.substr(family.prefix.size()));
}

std::string optionEnvName(const OptionDef& option, unsigned index) {
  std::string name = "PGBR_" + optionDisplayName(option, index);
  for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

size_t editDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions, the commonest typo.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

namespace {

// The closest candidate within a distance that still reads as a typo of `name`.
std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  size_t limit = std::clamp<size_t>(name.size() / 3, 1, 3);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const auto& candidate : candidates) {
    size_t d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

}  // namespace

std::string suggestOption(std::string_view name, Binary binary) {
  auto split = splitIndexed(name);
  unsigned typedIndex = split && split->index >= 1 && split->index <= split->family->maxIndex ? split->index : 1;
  std::vector<std::string> candidates;
  for (const auto& option : optionTable()) {
    if (!optionInBinary(option, binary)) continue;
    unsigned index = option.indexed && optionFamily(option).maxIndex >= typedIndex ? typedIndex : 1;
    candidates.push_back(optionDisplayName(option, index));
  }
  return closest(name, candidates);
}

std::string unknownOptionMessage(std::string_view name, Binary binary, std::string_view where) {
  if (auto split = splitIndexed(name)) {
    const OptionDef* def = findOption(fmt::format("{}-{}", split->family->prefix, split->rest));
    if (def && def->indexed)
      return fmt::format("option '{}'{} has an invalid index: {} options are numbered from 1 to {}", name, where,
                         split->family->prefix, split->family->maxIndex);
  }
  std::string suggestion = suggestOption(name, binary);
  if (suggestion.empty())
    return fmt::format("unknown option '{}'{}: run '{} help' to list the commands and their options", name, where,
                       binaryName(binary));
  return fmt::format("unknown option '{}'{}: did you mean '{}'?", name, where, suggestion);
}

std::string suggestCommand(std::string_view name, Binary binary) {
  std::vector<std::string> candidates;
  for (const auto& command : commandTable())
    if (command.binary == binary) candidates.emplace_back(command.name);
  return closest(name, candidates);
}

std::string unknownCommandMessage(std::string_view name, Binary binary) {
  Binary other = binary == Binary::Agent ? Binary::Repo : Binary::Agent;
  if (findCommand(other, name))
    return fmt::format("command '{}' belongs to {}, not {}", name, binaryName(other), binaryName(binary));
  std::string suggestion = suggestCommand(name, binary);
  if (!suggestion.empty()) return fmt::format("unknown command '{}': did you mean '{}'?", name, suggestion);
  return fmt::format("unknown command '{}': run '{} help' for the list of commands", name, binaryName(binary));
}

}  // namespace pgbr
