#include "common/config/parse.h"

#include "common/config/ini.h"
#include "common/config/option_value.h"
#include "common/error.h"
#include "common/text.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <set>

namespace pgbr {
namespace {

using Key = std::pair<std::string_view, unsigned>;

// One option's value at one precedence level.
struct Candidate {
  std::vector<std::string> items;
  ValueSource source;
  bool negated = false;  // --no-<name> of a negatable non-Bool option
  bool reset = false;    // --reset-<name>: the default, whatever lower levels say
};
using Level = std::map<Key, Candidate>;

// Precedence levels, highest first.
enum LevelIndex { kCommandLine, kEnvironment, kStanzaCommand, kStanza, kGlobalCommand, kGlobal, kLevelCount };

// An option as written on the command line.
struct CommandLineOption {
  OptionRef ref;
  std::optional<std::string> value;
  bool negate = false;
  bool reset = false;
};

struct CommandLine {
  std::optional<std::string> command;
  std::vector<std::string> positional;
  std::vector<CommandLineOption> options;
  bool help = false;
  bool version = false;
};

// A section header, understood.
struct SectionInfo {
  bool global = false;
  std::string stanza;
  std::string command;       // empty for [global] and [<stanza>]
  bool otherBinary = false;  // [<x>:<command>] of the other program: skipped
};

Key keyOf(OptionRef ref) { return {ref.def->name, ref.index}; }
std::string displayName(OptionRef ref) { return optionDisplayName(*ref.def, ref.index); }
bool repeatable(const OptionDef& def) { return def.type == OptionType::List || def.type == OptionType::Map; }
Binary otherBinary(Binary binary) { return binary == Binary::Agent ? Binary::Repo : Binary::Agent; }

std::string commandsOf(const OptionDef& def, Binary binary) {
  std::vector<std::string> names;
  for (auto command : def.commands)
    if (findCommand(binary, command)) names.emplace_back(command);
  return join(names, ", ");
}

std::string quotedList(const std::vector<std::string_view>& values) {
  std::vector<std::string> quoted;
  for (auto v : values) quoted.push_back(fmt::format("'{}'", v));
  return join(quoted, ", ");
}

// Adds args[i] (and its value, when it takes the next argument) to `line`.
void splitArgument(Binary binary, std::span<const std::string> args, size_t& i, bool& optionsEnded, CommandLine& line) {
  const std::string& arg = args[i];
  if (optionsEnded || arg == "-" || !arg.starts_with("-")) {
    if (!line.command)
      line.command = arg;
    else
      line.positional.push_back(arg);
    return;
  }
  if (arg == "--") {
    optionsEnded = true;
    return;
  }
  if (!arg.starts_with("--"))
    fail(ErrorCode::OptionInvalid,
         "unknown option '{}' on the command line: options are written --<name> or "
         "--<name>=<value>",
         arg);
  std::string_view body = std::string_view(arg).substr(2);
  size_t eq = body.find('=');
  std::string_view name = body.substr(0, eq);
  CommandLineOption option;
  if (eq != std::string_view::npos) option.value = std::string(body.substr(eq + 1));
  if ((name == "help" || name == "version") && !option.value) {
    (name == "help" ? line.help : line.version) = true;
    return;
  }
  if (auto ref = parseOptionName(name)) {
    option.ref = *ref;
  } else if (name.starts_with("no-") && (ref = parseOptionName(name.substr(3)))) {
    option.ref = *ref;
    option.negate = true;
  } else if (name.starts_with("reset-") && (ref = parseOptionName(name.substr(6)))) {
    option.ref = *ref;
    option.reset = true;
  } else {
    std::string_view base = name;
    if (base.starts_with("no-"))
      base.remove_prefix(3);
    else if (base.starts_with("reset-"))
      base.remove_prefix(6);
    throw Error(ErrorCode::OptionInvalid, unknownOptionMessage(base, binary, " on the command line"));
  }
  const OptionDef& def = *option.ref.def;
  std::string display = displayName(option.ref);
  if (option.negate || option.reset) {
    if (option.value)
      fail(ErrorCode::OptionInvalid, "option '--{}' takes no value: write it without '={}'", name, *option.value);
    if (option.negate && def.type != OptionType::Bool && !def.negatable)
      fail(ErrorCode::OptionInvalid, "option '{}' cannot be negated: --no- is only for y/n options", display);
    if (option.reset && def.section == OptionSection::CommandLine)
      fail(ErrorCode::OptionInvalid,
           "option '{}' cannot be reset: it is never read from a configuration file, so "
           "leave it out instead",
           display);
  } else if (!option.value) {
    if (def.type == OptionType::Bool)
      option.value = "y";
    else if (i + 1 < args.size() && !args[i + 1].starts_with("--"))
      option.value = args[++i];
    else
      fail(ErrorCode::OptionInvalidValue, "option '{}' on the command line needs a value: --{}=<value>", display,
           display);
  }
  line.options.push_back(std::move(option));
}

// With --help or --version anywhere, options that are wrong are skipped rather than reported:
// the user asked for help, not for a check of the rest of the line.
CommandLine splitCommandLine(Binary binary, std::span<const std::string> args) {
  auto end = std::find(args.begin(), args.end(), "--");
  bool lenient = std::find(args.begin(), end, "--help") != end || std::find(args.begin(), end, "--version") != end;
  CommandLine line;
  bool optionsEnded = false;
  for (size_t i = 0; i < args.size(); ++i) {
    try {
      splitArgument(binary, args, i, optionsEnded, line);
    } catch (const Error&) {
      if (!lenient) throw;
    }
  }
  return line;
}

// The command, with --help, --version and a missing command turned into help or version.
const CommandDef& resolveCommand(Binary binary, CommandLine& line) {
  if (line.version) {
    line.positional.clear();
    return *findCommand(binary, "version");
  }
  if (line.help || !line.command) {
    if (line.command && *line.command != "help") line.positional = {*line.command};
    return *findCommand(binary, "help");
  }
  if (const CommandDef* command = findCommand(binary, *line.command)) return *command;
  throw Error(ErrorCode::CommandInvalid, unknownCommandMessage(*line.command, binary));
}

void checkArgumentCount(Binary binary, const CommandDef& command, const std::vector<std::string>& positional) {
  size_t required = static_cast<size_t>(std::count_if(command.arguments.begin(), command.arguments.end(),
                                                      [](const ArgumentDef& a) { return a.required; }));
  if (positional.size() >= required && positional.size() <= command.arguments.size()) return;
  if (command.arguments.empty())
    fail(ErrorCode::CommandInvalid, "command '{}' takes no arguments, but was given '{}'", command.name,
         join(positional, "', '"));
  std::vector<std::string> usage;
  for (const auto& a : command.arguments) usage.push_back(argumentUsage(a));
  fail(ErrorCode::CommandInvalid, "command '{}' expects {}, but was given {} argument{}: see '{} help {}'",
       command.name, join(usage, " "), positional.size(), positional.size() == 1 ? "" : "s", binaryName(binary),
       command.name);
}

class Parser {
 public:
  Parser(Binary binary, const CommandDef& command, const Environment& env)
      : binary_(binary), command_(command), env_(env) {}

  void readCommandLine(const std::vector<CommandLineOption>& options) {
    for (const auto& option : options) {
      const OptionDef& def = *option.ref.def;
      std::string name = displayName(option.ref);
      if (!optionInBinary(def, binary_))
        fail(ErrorCode::OptionInvalid, "option '{}' is for {}, not {}: set it in that program's configuration", name,
             binaryName(otherBinary(binary_)), binaryName(binary_));
      if (!optionValidFor(def, command_.name))
        fail(ErrorCode::OptionInvalid, "option '{}' is not valid for the {} command; it applies to: {}", name,
             command_.name, commandsOf(def, binary_));
      Level& level = levels_[kCommandLine];
      if (auto it = level.find(keyOf(option.ref)); it != level.end()) {
        if (it->second.reset != option.reset)
          fail(ErrorCode::OptionInvalid, "option '{}' is both set and reset on the command line: keep one", name);
        if (option.reset || option.negate || it->second.negated || !repeatable(def))
          fail(ErrorCode::OptionInvalid,
               "option '{}' is given more than once on the command line; only list and "
               "map options repeat",
               name);
      }
      Candidate& candidate = level[keyOf(option.ref)];
      candidate.source.kind = ValueSource::Kind::CommandLine;
      if (option.reset) {
        candidate.reset = true;
      } else if (option.negate && def.type != OptionType::Bool) {
        candidate.negated = true;
      } else {
        ValueSource source{.kind = ValueSource::Kind::CommandLine};
        addItems(candidate, option.ref, option.negate ? "n" : *option.value, source, false);
      }
    }
  }

  void readEnvironment() {
    constexpr std::string_view kPrefix = "PGBR_";
    for (const auto& [variable, text] : env_) {
      if (!variable.starts_with(kPrefix)) continue;
      std::string name = variable.substr(kPrefix.size());
      for (auto& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto ref = parseOptionName(name);
      if (!ref) {
        // Other tools (and pgbr's test harness) use the prefix too: only a near miss is reported.
        if (!suggestOption(name, binary_).empty())
          warnings_.push_back(
              unknownOptionMessage(name, binary_, fmt::format(" in environment variable {}", variable)));
        continue;
      }
      // The environment may serve both programs and every command: take what applies.
      if (!optionValidFor(*ref->def, command_.name) || levels_[kCommandLine].contains(keyOf(*ref))) continue;
      ValueSource source{.kind = ValueSource::Kind::Environment, .where = variable};
      auto [it, added] = levels_[kEnvironment].try_emplace(keyOf(*ref));
      if (!added)
        fail(ErrorCode::OptionInvalid, "option '{}' is set by both environment variables {} and {}: unset one",
             displayName(*ref), it->second.source.where, variable);
      addItems(it->second, *ref, text, source, true);
    }
    if (const Candidate* stanza = explicitValue("stanza")) stanza_ = stanza->items.front();
  }

  void readFiles() {
    const OptionDef& configDef = *findOption("config");
    if (!optionValidFor(configDef, command_.name)) return;
    const Candidate* config = explicitValue("config");
    const Candidate* include = explicitValue("config-include-path");
    std::vector<IniFile> files;
    if (!config || !config->negated) {
      configFile_ = config ? config->items.front() : std::string(configDef.defaultValue);
      std::error_code ec;
      if (std::filesystem::exists(configFile_, ec))
        files.push_back(readIni(configFile_));
      else if (config)
        fail(ErrorCode::ConfigInvalid,
             "configuration file '{}' (given {}) does not exist: correct the path, or "
             "run without a file with --no-config",
             configFile_, config->source.describe());
    }
    if (include || !config) {
      std::filesystem::path dir = include ? include->items.front() : findOption("config-include-path")->defaultValue;
      std::error_code ec;
      if (std::filesystem::is_directory(dir, ec)) {
        std::vector<std::filesystem::path> paths;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
          if (entry.path().extension() == ".conf" && entry.is_regular_file(ec)) paths.push_back(entry.path());
        if (ec)
          fail(ErrorCode::ConfigInvalid, "cannot list configuration include directory '{}': {}", dir.string(),
               ec.message());
        std::sort(paths.begin(), paths.end());
        for (const auto& path : paths) files.push_back(readIni(path));
      } else if (include) {
        fail(ErrorCode::ConfigInvalid,
             "configuration include directory '{}' (given {}) does not exist: correct the "
             "path or leave the option out",
             dir.string(), include->source.describe());
      }
    }
    // Sections and keys are checked across all files together: a key repeated in another file's
    // copy of the same section is as much a duplicate as one repeated within a file.
    std::map<std::pair<std::string, Key>, IniLocation> seen;
    for (const auto& file : files) {
      for (const auto& section : file.sections) sections_.try_emplace(section.name, parseSection(section));
      for (const auto& entry : file.entries) applyEntry(entry, sections_.at(entry.section), seen);
    }
  }

  Config finish(const std::vector<std::string>& positional) {
    std::map<Key, OptionValue> values;
    std::set<Key> keys;
    for (const auto& level : levels_)
      for (const auto& [key, candidate] : level) keys.insert(key);
    for (const Key& key : keys) {
      for (const auto& level : levels_) {
        auto it = level.find(key);
        if (it == level.end()) continue;
        const Candidate& c = it->second;
        if (!c.reset) values.emplace(key, OptionValue{findOption(key.first), key.second, c.items, c.source, c.negated});
        break;
      }
    }
    for (const auto& family : indexFamilies()) inUse_[family.prefix] = usedIndexes(values, family.prefix);

    for (const auto& def : optionTable()) {
      std::string_view fallback = optionDefault(def, command_.name);
      if (!optionValidFor(def, command_.name) || fallback.empty()) continue;
      for (unsigned index : indexesOf(def))
        values.try_emplace(Key{def.name, index}, OptionValue{&def, index, {std::string(fallback)}, ValueSource{}});
    }

    applyDependencies(values);
    checkRequired(values);

    std::vector<OptionValue> result;
    for (auto& [key, value] : values) result.push_back(std::move(value));
    return Config(binary_, command_, positional, std::move(result), std::move(warnings_));
  }

 private:
  // The command-line or environment candidate of a non-indexed option, if any.
  const Candidate* explicitValue(std::string_view name) const {
    for (int level : {kCommandLine, kEnvironment}) {
      auto it = levels_[level].find(Key{name, 0});
      if (it != levels_[level].end() && !it->second.reset) return &it->second;
    }
    return nullptr;
  }

  // Resolves ENV:<name>, splits environment lists at ':', checks and appends each item.
  void addItems(Candidate& candidate, OptionRef ref, std::string_view text, ValueSource source, bool splitList) {
    std::string value(text);
    if (value.starts_with(kEnvPrefix)) {
      std::string variable = value.substr(kEnvPrefix.size());
      auto it = env_.find(variable);
      if (variable.empty() || it == env_.end())
        fail(ErrorCode::OptionInvalidValue,
             "option '{}' {} is {}, but environment variable '{}' is not set: export "
             "it, or give the value directly",
             displayName(ref), source.describe(), value, variable);
      source.envRef = variable;
      value = it->second;
    }
    if (candidate.items.empty()) candidate.source = source;
    std::vector<std::string> items = splitList && repeatable(*ref.def) ? split(value, ':') : std::vector{value};
    for (const auto& item : items) {
      CheckedValue checked = checkOptionValue(*ref.def, command_.name, item);
      if (!checked.ok()) {
        std::string shown = ref.def->secret ? std::string() : fmt::format(" '{}'", item);
        fail(ErrorCode::OptionInvalidValue, "invalid value{} for option '{}' {}: {}", shown, displayName(ref),
             source.describe(), checked.problem);
      }
      if (ref.def->type == OptionType::Map) {
        std::string key = checked.value.substr(0, checked.value.find('='));
        for (const auto& existing : candidate.items)
          if (existing.substr(0, existing.find('=')) == key)
            fail(ErrorCode::OptionInvalidValue, "option '{}' {} sets key '{}' a second time: give each key once",
                 displayName(ref), source.describe(), key);
      }
      candidate.items.push_back(std::move(checked.value));
    }
  }

  SectionInfo parseSection(const IniSection& section) const {
    std::string_view name = section.name;
    size_t colon = name.find(':');
    SectionInfo info;
    std::string_view base = name.substr(0, colon);
    std::string_view command = colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
    if (colon != std::string_view::npos && (command.empty() || command.find(':') != std::string_view::npos))
      fail(ErrorCode::ConfigInvalid,
           "{}:{}: malformed section [{}]: expected [global], [global:<command>], "
           "[<stanza>] or [<stanza>:<command>]",
           section.where.file, section.where.line, name);
    info.global = base == "global";
    if (!info.global) {
      std::string problem = findOption("stanza")->check(base);
      if (!problem.empty())
        fail(ErrorCode::ConfigInvalid, "{}:{}: section [{}] does not name a stanza: {}", section.where.file,
             section.where.line, name, problem);
      info.stanza = std::string(base);
    }
    info.command = std::string(command);
    if (!command.empty() && !findCommand(binary_, command)) {
      info.otherBinary = findCommand(otherBinary(binary_), command) != nullptr;
      if (!info.otherBinary) {
        std::string suggestion = suggestCommand(command, binary_);
        fail(ErrorCode::ConfigInvalid, "{}:{}: section [{}] names unknown command '{}'{}", section.where.file,
             section.where.line, name, command,
             suggestion.empty() ? std::string() : fmt::format(": did you mean [{}:{}]?", base, suggestion));
      }
    }
    return info;
  }

  void applyEntry(const IniEntry& entry, const SectionInfo& info,
                  std::map<std::pair<std::string, Key>, IniLocation>& seen) {
    std::string where = fmt::format(" in {}:{}", entry.where.file, entry.where.line);
    auto ref = parseOptionName(entry.key);
    if (!ref) throw Error(ErrorCode::OptionInvalid, unknownOptionMessage(entry.key, binary_, where));
    if (info.otherBinary) return;
    const OptionDef& def = *ref->def;
    std::string name = displayName(*ref);
    if (def.section == OptionSection::CommandLine)
      fail(ErrorCode::OptionInvalid,
           "option '{}'{} may only be given on the command line (--{}=...) or in the "
           "environment ({}): remove it from the file",
           name, where, name, optionEnvName(def, ref->index));
    // One file may configure both programs: the other program's options are not this one's concern.
    if (!optionInBinary(def, binary_)) return;
    if (def.section == OptionSection::Global && !info.global)
      fail(ErrorCode::OptionInvalid,
           "option '{}'{} is not allowed in stanza section [{}]: it applies to every "
           "stanza, so move it to [global]",
           name, where, entry.section);
    if (def.section == OptionSection::Stanza && info.global)
      fail(ErrorCode::OptionInvalid,
           "option '{}'{} is not allowed in section [{}]: it describes one stanza's "
           "cluster, so move it to that stanza's section, such as [main]",
           name, where, entry.section);
    if (!info.command.empty() && !optionValidFor(def, info.command))
      fail(ErrorCode::OptionInvalid,
           "option '{}'{} is not valid for the {} command of section [{}]; it applies "
           "to: {}",
           name, where, info.command, entry.section, commandsOf(def, binary_));
    auto [previous, inserted] = seen.try_emplace(std::pair{entry.section, keyOf(*ref)}, entry.where);
    if (!inserted && !repeatable(def))
      fail(ErrorCode::OptionInvalid,
           "option '{}'{} is already set in section [{}] at {}:{}: remove one of them "
           "(only list and map options repeat)",
           name, where, entry.section, previous->second.file, previous->second.line);
    if (!info.global) stanzaSectionsSeen_.insert(info.stanza);
    bool relevant = optionValidFor(def, command_.name) && (info.global || info.stanza == stanza_) &&
                    (info.command.empty() || info.command == command_.name);
    if (!relevant) return;
    LevelIndex level = info.global ? (info.command.empty() ? kGlobal : kGlobalCommand)
                                   : (info.command.empty() ? kStanza : kStanzaCommand);
    ValueSource source{.kind = ValueSource::Kind::File, .where = entry.where.file, .line = entry.where.line};
    addItems(levels_[level][keyOf(*ref)], *ref, entry.value, source, false);
  }

  static std::vector<unsigned> usedIndexes(const std::map<Key, OptionValue>& values, std::string_view family) {
    std::set<unsigned> used;
    for (const auto& [key, value] : values)
      if (value.def->indexed && optionFamily(*value.def).prefix == family) used.insert(value.index);
    if (used.empty()) used.insert(1);
    return {used.begin(), used.end()};
  }

  std::vector<unsigned> indexesOf(const OptionDef& def) const {
    return def.indexed ? inUse_.at(optionFamily(def).prefix) : std::vector<unsigned>{0};
  }

  // Whether `def` at `index` may have a value given the other values; `actual` gets what the
  // option it depends on holds, for the message.
  static bool dependencyHolds(const OptionDef& def, unsigned index, const std::map<Key, OptionValue>& values,
                              std::string* actual = nullptr) {
    if (!def.depend) return true;
    const OptionDef& other = *findOption(def.depend->option);
    unsigned otherIndex = other.indexed ? (def.indexed ? index : 1) : 0;
    auto it = values.find(Key{other.name, otherIndex});
    if (it == values.end() || it->second.negated) {
      if (actual) *actual = "it is not set";
      return false;
    }
    const std::string& value = it->second.items.front();
    if (actual) *actual = fmt::format("it is '{}' ({})", value, it->second.source.describe());
    const auto& allowed = def.depend->values;
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
  }

  // Values whose dependency does not hold are dropped (repeatedly, since a dropped value can be
  // another's dependency); given on the command line, they are an error.
  void applyDependencies(std::map<Key, OptionValue>& values) const {
    for (bool changed = true; changed;) {
      changed = false;
      for (auto it = values.begin(); it != values.end();) {
        const OptionValue& v = it->second;
        if (v.source.kind != ValueSource::Kind::CommandLine && !dependencyHolds(*v.def, v.index, values)) {
          it = values.erase(it);
          changed = true;
        } else {
          ++it;
        }
      }
    }
    for (const auto& [key, v] : values) {
      std::string actual;
      if (dependencyHolds(*v.def, v.index, values, &actual)) continue;
      const Dependency& depend = *v.def->depend;
      const OptionDef& other = *findOption(depend.option);
      std::string otherName = optionDisplayName(other, other.indexed ? (v.def->indexed ? v.index : 1) : 0);
      std::string wanted = depend.values.empty() ? "set" : "one of " + quotedList(depend.values);
      fail(ErrorCode::OptionInvalid, "option '{}' on the command line only applies when option '{}' is {}, and {}",
           optionDisplayName(*v.def, v.index), otherName, wanted, actual);
    }
  }

  void checkRequired(const std::map<Key, OptionValue>& values) const {
    for (const auto& def : optionTable()) {
      if (!optionRequiredFor(def, command_.name)) continue;
      for (unsigned index : indexesOf(def)) {
        auto it = values.find(Key{def.name, index});
        if (it != values.end() && !it->second.negated) continue;
        if (!dependencyHolds(def, index, values)) continue;
        fail(ErrorCode::OptionRequired, "option '{}' is required for the {} command: {}", optionDisplayName(def, index),
             command_.name, requiredHint(def, index));
      }
    }
  }

  std::string requiredHint(const OptionDef& def, unsigned index) const {
    std::string name = optionDisplayName(def, index);
    std::string give = fmt::format("--{}=<{}>", name, def.name == "stanza" ? "name" : "value");
    if (def.section == OptionSection::CommandLine) return "give " + give;
    std::string file = configFile_.empty() ? std::string("the configuration file") : configFile_;
    std::string stanzaSection = stanza_.empty() ? std::string("[<stanza>]") : fmt::format("[{}]", stanza_);
    std::string sections = def.section == OptionSection::Global   ? std::string("[global]")
                           : def.section == OptionSection::Stanza ? stanzaSection
                                                                  : "[global] or " + stanzaSection;
    std::string hint = fmt::format("set {}=<value> in {} of {}, or give {}", name, sections, file, give);
    if (!stanza_.empty() && def.section == OptionSection::Stanza && !stanzaSectionsSeen_.contains(stanza_))
      hint += fmt::format(" (no configuration file has a [{}] section: is the stanza name right?)", stanza_);
    return hint;
  }

  Binary binary_;
  const CommandDef& command_;
  const Environment& env_;
  std::array<Level, kLevelCount> levels_;
  std::vector<std::string> warnings_;
  std::string stanza_;
  std::string configFile_;
  std::map<std::string, SectionInfo> sections_;
  std::set<std::string> stanzaSectionsSeen_;
  std::map<std::string_view, std::vector<unsigned>> inUse_;
};

}  // namespace

Environment processEnvironment() {
  Environment env;
  for (char** entry = ::environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    size_t eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

Config parseConfig(Binary binary, std::span<const std::string> args, const Environment& env) {
  CommandLine line = splitCommandLine(binary, args);
  bool informational = line.help || line.version || !line.command;
  const CommandDef& command = resolveCommand(binary, line);
  checkArgumentCount(binary, command, line.positional);
  if (informational) return Config(binary, command, line.positional, {}, {});
  Parser parser(binary, command, env);
  parser.readCommandLine(line.options);
  parser.readEnvironment();
  parser.readFiles();
  return parser.finish(line.positional);
}

Config parseConfig(Binary binary, int argc, const char* const* argv, const Environment& env) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parseConfig(binary, args, env);
}

}  // namespace pgbr
