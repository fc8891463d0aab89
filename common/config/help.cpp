#include "common/config/help.h"

#include "common/error.h"
#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#ifndef PGBR_VERSION
#error "PGBR_VERSION must be defined by the build (common/config/CMakeLists.txt)"
#endif

namespace pgbr {
namespace {

constexpr size_t kWidth = 80;

std::string_view tagline(Binary binary) {
  return binary == Binary::Agent ? "PostgreSQL backup agent" : "pgbr repository server";
}

std::string joinViews(std::span<const std::string_view> values, std::string_view separator) {
  std::vector<std::string> parts(values.begin(), values.end());
  return join(parts, separator);
}

std::string sectionRule(OptionSection section) {
  switch (section) {
    case OptionSection::CommandLine:
      return "command line and environment only";
    case OptionSection::Global:
      return "command line, environment, [global] and [global:<command>]";
    case OptionSection::Any:
      return "command line, environment and any configuration section";
    case OptionSection::Stanza:
      return "command line, environment, [<stanza>] and [<stanza>:<command>]";
  }
  return {};
}

std::string commandsByBinary(const std::vector<std::string_view>& commands) {
  std::vector<std::string> parts;
  for (Binary binary : {Binary::Agent, Binary::Repo}) {
    std::vector<std::string> names;
    for (auto command : commands)
      if (findCommand(binary, command)) names.emplace_back(command);
    if (!names.empty()) parts.push_back(fmt::format("{} ({})", join(names, ", "), binaryName(binary)));
  }
  return join(parts, "; ");
}

// "name   summary" rows with the summaries aligned and wrapped.
std::string table(const std::vector<std::pair<std::string, std::string>>& rows, size_t indent) {
  size_t nameWidth = 0;
  for (const auto& [name, text] : rows) nameWidth = std::max(nameWidth, name.size());
  std::string out;
  for (const auto& [name, text] : rows) {
    std::string wrapped = wrapText(text, indent + nameWidth + 2, kWidth);
    out += std::string(indent, ' ') + name + wrapped.substr(indent + name.size()) + "\n";
  }
  return out;
}

std::string commandListHelp(Binary binary) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& command : commandTable())
    if (command.binary == binary) rows.emplace_back(command.name, command.summary);
  return fmt::format("{} {} - {}\n\nUsage:\n    {} [options] <command> [arguments]\n\nCommands:\n{}\n{}\n",
                     binaryName(binary), pgbrVersion(), tagline(binary), binaryName(binary), table(rows, 4),
                     wrapText(fmt::format("Use '{} help <command>' for a command's options and '{} help <command> "
                                          "<option>' for one option.",
                                          binaryName(binary), binaryName(binary)),
                              0));
}

std::string optionListing(const OptionDef& option, std::string_view command) {
  std::string text(option.summary);
  std::vector<std::string> tags;
  std::string_view fallback = optionDefault(option, command);
  if (option.secret) tags.push_back("secret");
  if (!fallback.empty()) tags.push_back(fmt::format("default={}", fallback));
  if (optionRequiredFor(option, command)) tags.emplace_back("required");
  if (option.section == OptionSection::CommandLine) tags.emplace_back("command line only");
  if (option.indexed) {
    const IndexFamily& family = optionFamily(option);
    tags.push_back(fmt::format("{}1-{}{}", family.prefix, family.prefix, family.maxIndex));
  }
  if (!tags.empty()) text += " [" + join(tags, ", ") + "]";
  return text;
}

std::string commandHelp(const CommandDef& command) {
  std::string out =
      fmt::format("{} {} - '{}' command help\n\nUsage:\n    {}\n\n{}\n\n", binaryName(command.binary), pgbrVersion(),
                  command.name, commandUsage(command), wrapText(command.summary, 0), wrapText(command.description, 0));
  if (!command.arguments.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& argument : command.arguments) rows.emplace_back(argumentUsage(argument), argument.summary);
    out += "Arguments:\n" + table(rows, 4) + "\n";
  }
  std::map<OptionGroup, std::vector<std::pair<std::string, std::string>>> groups;
  for (const auto& option : optionTable())
    if (optionValidFor(option, command.name))
      groups[option.group].emplace_back("--" + optionDisplayName(option, option.indexed ? 1 : 0),
                                        optionListing(option, command.name));
  for (const auto& [group, rows] : groups)
    out += fmt::format("{} Options:\n{}\n", optionGroupTitle(group), table(rows, 4));
  out += fmt::format("Use '{} help {} <option>' for more about an option.\n", binaryName(command.binary), command.name);
  return out;
}

std::string optionHelp(const CommandDef& command, OptionRef ref) {
  const OptionDef& option = *ref.def;
  std::string name = optionDisplayName(option, ref.index);
  std::string title = fmt::format("{} {} - '{}' command - '{}' option help", binaryName(command.binary),
                                  pgbrVersion(), command.name, name);
  // A long option name moves to a line of its own rather than overflowing the terminal.
  if (title.size() > 80)
    title = fmt::format("{} {} - '{}' command\n'{}' option help", binaryName(command.binary), pgbrVersion(),
                        command.name, name);
  std::string out =
      fmt::format("{}\n\n{}\n\n{}\n\n", title, wrapText(option.summary, 0), wrapText(option.description, 0));
  std::vector<std::pair<std::string, std::string>> rows;
  for (auto& fact : optionFacts(option, command.name)) rows.emplace_back(fact.label + ":", fact.value);
  return out + table(rows, 0);
}

}  // namespace

std::string_view pgbrVersion() { return PGBR_VERSION; }

std::string commandUsage(const CommandDef& command) {
  std::string line = fmt::format("{} [options] ", binaryName(command.binary));
  if (command.stanza == StanzaUse::Required) line += "--stanza=<stanza> ";
  line += command.name;
  for (const auto& argument : command.arguments) line += " " + argumentUsage(argument);
  return line;
}

std::string versionText(Binary binary) { return fmt::format("{} {}\n", binaryName(binary), pgbrVersion()); }

std::string wrapText(std::string_view text, size_t indent, size_t width) {
  std::string out;
  std::string pad(indent, ' ');
  size_t start = 0;
  for (;;) {
    size_t end = text.find("\n\n", start);
    std::string_view paragraph = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (!out.empty()) out += "\n\n";
    std::string line = pad;
    for (const auto& word : split(paragraph, ' ')) {
      if (word.empty()) continue;
      if (line.size() > indent && line.size() + 1 + word.size() > width) {
        out += line + "\n";
        line = pad;
      }
      if (line.size() > indent) line += ' ';
      line += word;
    }
    out += line;
    if (end == std::string_view::npos) return out;
    start = end + 2;
  }
}

std::vector<OptionFact> optionFacts(const OptionDef& option, std::string_view command) {
  std::vector<OptionFact> facts;
  std::string type(optionTypeName(option.type));
  if (option.type == OptionType::List) type += " (repeat the option for each item)";
  if (option.type == OptionType::Map) type += " of <key>=<value> (repeat the option for each key)";
  facts.push_back({"type", type});
  if (option.indexed) {
    const IndexFamily& family = optionFamily(option);
    facts.push_back({"indexed", fmt::format("{} to {}, one per {}; {} means {}", optionDisplayName(option, 1),
                                            optionDisplayName(option, family.maxIndex), family.what, option.name,
                                            optionDisplayName(option, 1))});
  }

  if (!command.empty()) {
    if (auto fallback = optionDefault(option, command); !fallback.empty())
      facts.push_back({"default", std::string(fallback)});
    if (option.type == OptionType::Enum) facts.push_back({"allowed", joinViews(optionAllowed(option, command), ", ")});
  } else {
    std::vector<std::string> defaults;
    std::vector<std::string> allowed;
    for (const auto& o : option.overrides) {
      if (!o.defaultValue.empty()) defaults.push_back(fmt::format("{} for {}", o.defaultValue, o.command));
      if (!o.allowed.empty()) allowed.push_back(fmt::format("{} for {}", joinViews(o.allowed, ", "), o.command));
    }
    if (!option.defaultValue.empty())
      defaults.push_back(defaults.empty() ? std::string(option.defaultValue)
                                          : fmt::format("{} for other commands", option.defaultValue));
    if (!option.allowed.empty()) allowed.push_back(joinViews(option.allowed, ", "));
    if (!defaults.empty()) facts.push_back({"default", join(defaults, "; ")});
    if (!allowed.empty()) facts.push_back({"allowed", join(allowed, "; ")});
  }
  if (option.range) facts.push_back({"range", fmt::format("{} to {}", option.range->min, option.range->max)});
  if (option.depend) {
    std::vector<std::string> values(option.depend->values.begin(), option.depend->values.end());
    facts.push_back({"applies when", values.empty()
                                         ? fmt::format("{} is set", option.depend->option)
                                         : fmt::format("{} is {}", option.depend->option, join(values, ", "))});
  }
  facts.push_back({"set in", sectionRule(option.section)});
  facts.push_back({"environment", optionEnvName(option, option.indexed ? 1 : 0)});
  if (option.secret) facts.push_back({"secret", "yes: logs, help and error messages show <redacted>"});
  if (command.empty()) {
    facts.push_back({"commands", commandsByBinary(option.commands)});
    if (!option.requiredFor.empty()) facts.push_back({"required for", commandsByBinary(option.requiredFor)});
  } else if (optionRequiredFor(option, command)) {
    facts.push_back({"required", "yes"});
  }
  return facts;
}

std::string helpText(Binary binary, std::span<const std::string> args) {
  if (args.empty()) return commandListHelp(binary);
  const CommandDef* command = findCommand(binary, args[0]);
  if (!command) throw Error(ErrorCode::CommandInvalid, unknownCommandMessage(args[0], binary));
  if (args.size() == 1) return commandHelp(*command);
  if (args.size() > 2)
    fail(ErrorCode::CommandInvalid, "help takes at most a command and an option, but was given {} arguments",
         args.size());
  auto ref = parseOptionName(args[1]);
  if (!ref) throw Error(ErrorCode::OptionInvalid, unknownOptionMessage(args[1], binary, ""));
  if (!optionValidFor(*ref->def, command->name))
    fail(ErrorCode::OptionInvalid, "option '{}' is not an option of the {} command: see '{} help {}'", args[1],
         command->name, binaryName(binary), command->name);
  return optionHelp(*command, *ref);
}

}  // namespace pgbr
