// The shape of pgbr's option and command tables: one entry per option and per command, from
// which the parser, `help` and docs/ are all derived. The tables are immutable data built once
// on first use; every pointer and string_view they hand out lives as long as the process.
//
// Adding an option is one entry in option_table.cpp; adding a command is one entry in
// command_table.cpp (and naming it in the `commands` of the options it accepts).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

// The two programs that read the same configuration files.
enum class Binary { Agent, Repo };
std::string_view binaryName(Binary binary);  // "pgbr-agent", "pgbr-repo"

enum class OptionType {
  String,
  Path,     // absolute; trailing slashes are removed
  Bool,     // y or n; --name, --no-name on the command line
  Integer,  // signed 64-bit, optionally with a range
  Size,     // bytes: "512", "256KiB", "64MB" (binary multiples)
  Time,     // seconds with up to three decimals: "60", "1.5"
  Enum,     // one of `allowed` (per command when an override says so)
  List,     // repeatable: every occurrence adds an item
  Map,      // repeatable key=value: every occurrence adds a key
};
std::string_view optionTypeName(OptionType type);

// Where an option may be set. Every option may be given on the command line and in the
// environment (PGBR_<NAME>); the section says which configuration-file sections accept it.
enum class OptionSection {
  CommandLine,  // no file section: a file that sets it is an error
  Global,       // [global] and [global:<command>] only
  Any,          // [global], [global:<command>], [<stanza>] and [<stanza>:<command>]
  Stanza,       // [<stanza>] and [<stanza>:<command>] only
};

// Headings that group options in help and docs/configuration.md, in display order.
enum class OptionGroup { General, Log, Archive, Backup, Restore, Pg, RepoHost, Repo, RepoS3, RepoAzure, Server };
std::string_view optionGroupTitle(OptionGroup group);

// An indexed family: options named <prefix>-<rest> are set as <prefix><n>-<rest>.
struct IndexFamily {
  std::string_view prefix;  // "pg", "repo"
  unsigned maxIndex;        // 8, 4
  std::string_view what;    // "PostgreSQL cluster", "repository"
};
std::span<const IndexFamily> indexFamilies();

// An option that only means something when another option has one of some values (same index
// when both are of one family). Set on the command line otherwise, it is an error; set in a
// file or the environment, it is ignored (a [global] value may serve only some stanzas).
struct Dependency {
  std::string_view option;
  std::vector<std::string_view> values;  // any value when empty
};

// Per-command default and allowed values, for options like `type` whose meaning differs.
struct CommandOverride {
  std::string_view command;
  std::string_view defaultValue;          // replaces OptionDef::defaultValue when not empty
  std::vector<std::string_view> allowed;  // replaces OptionDef::allowed when not empty
};

// Text bounds, parsed as the option's own type: {"1", "64"}, {"16KiB", "16MiB"}, {"0.1", "3600"}.
struct Range {
  std::string_view min;
  std::string_view max;
};

// Extra validation of one value (one item for List and Map): returns what is wrong, or empty.
using ValueCheck = std::string (*)(std::string_view value);

struct OptionDef {
  std::string_view name;  // for an indexed option the name without index: "pg-path"
  OptionType type = OptionType::String;
  OptionGroup group = OptionGroup::General;
  OptionSection section = OptionSection::Any;
  std::vector<std::string_view> commands;     // commands that accept it (of either binary)
  std::vector<std::string_view> requiredFor;  // commands that need a value (when `depend` holds)
  std::string_view defaultValue;              // empty: no default
  std::vector<std::string_view> allowed;      // Enum values
  std::optional<Range> range;                 // Integer, Size, Time
  std::vector<CommandOverride> overrides;
  std::optional<Dependency> depend;
  ValueCheck check = nullptr;
  bool secret = false;           // shown as <redacted> in logs, help and errors
  bool indexed = false;          // pg1-…, repo1-…: see IndexFamily
  bool negatable = false;        // non-Bool option that takes --no-<name> (config: read no file)
  std::string_view summary;      // one line, for help listings
  std::string_view description;  // paragraphs separated by blank lines, for help and docs
};

enum class StanzaUse { None, Optional, Required };

struct ArgumentDef {
  std::string_view name;  // "wal-path"
  bool required = true;
  std::string_view summary;
};

struct CommandDef {
  std::string_view name;
  Binary binary = Binary::Agent;
  StanzaUse stanza = StanzaUse::None;
  std::vector<ArgumentDef> arguments;  // positional, in order; optional ones last
  std::string_view logFile;  // in log-path: "{stanza}-{command}.log" ({stanza} is "all" without one); empty: none
  std::string_view summary;
  std::string_view description;
};

// "<wal-file>" for a required argument, "[option]" for an optional one.
std::string argumentUsage(const ArgumentDef& argument);

// The tables, in display order.
std::span<const OptionDef> optionTable();
std::span<const CommandDef> commandTable();

const OptionDef* findOption(std::string_view name);  // by table name ("pg-path"), or nullptr
const CommandDef* findCommand(Binary binary, std::string_view name);

bool optionValidFor(const OptionDef& option, std::string_view command);
bool optionRequiredFor(const OptionDef& option, std::string_view command);
bool optionInBinary(const OptionDef& option, Binary binary);  // valid for any of its commands
const IndexFamily& optionFamily(const OptionDef& option);     // indexed options only
std::string_view optionDefault(const OptionDef& option, std::string_view command);
std::span<const std::string_view> optionAllowed(const OptionDef& option, std::string_view command);

// An option as a user names it: "pg2-path" is {pg-path, 2}; "pg-path" is {pg-path, 1};
// "stanza" is {stanza, 0}. nullopt when unknown or when the index is out of range.
struct OptionRef {
  const OptionDef* def = nullptr;
  unsigned index = 0;
};
std::optional<OptionRef> parseOptionName(std::string_view name);
// The name a user writes: "pg2-path", "stanza".
std::string optionDisplayName(const OptionDef& option, unsigned index);
// PGBR_PG2_PATH
std::string optionEnvName(const OptionDef& option, unsigned index);

// Why `name` is not an option (unknown, or an index out of range), with a "did you mean" for
// the closest option of `binary` when one is close enough. `where` follows the name: " in
// /etc/pgbr/pgbr.conf:3", " on the command line".
std::string unknownOptionMessage(std::string_view name, Binary binary, std::string_view where);
// The option name of `binary` closest to `name` (with `name`'s index when it has a valid one),
// or empty when none is close enough to be a typo of it.
std::string suggestOption(std::string_view name, Binary binary);
// The closest command name of `binary`, or empty.
std::string suggestCommand(std::string_view name, Binary binary);
// Why `name` is not a command of `binary`: the other program's, or unknown (with a suggestion).
std::string unknownCommandMessage(std::string_view name, Binary binary);
// Edit distance counting insertions, deletions, substitutions and adjacent transpositions.
size_t editDistance(std::string_view a, std::string_view b);

}  // namespace pgbr
