// The result of parsing a command line with its environment and configuration files: the
// command, its positional arguments and every option value that applies, each typed and with
// where it came from. A Config is immutable once built (see parse.h) and safe to read from any
// thread; it does not refer to the argv or environment it was built from.
#pragma once

#include "common/config/option_def.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbr {

// Where a value came from, for messages: "on the command line", "in /etc/pgbr/pgbr.conf:12".
struct ValueSource {
  enum class Kind { Default, CommandLine, Environment, File };
  Kind kind = Kind::Default;
  std::string where;   // Environment: the variable; File: the file
  int line = 0;        // File: the line
  std::string envRef;  // set when the value was ENV:<envRef>

  // "by default", "on the command line", "in environment variable PGBR_X",
  // "in /etc/pgbr/pgbr.conf:12", each followed by " (ENV:NAME)" for an indirect value.
  std::string describe() const;
};

struct OptionValue {
  const OptionDef* def = nullptr;
  unsigned index = 0;              // 1.. for indexed options, 0 otherwise
  std::vector<std::string> items;  // canonical text; exactly one for scalar types
  ValueSource source;
  bool negated = false;  // --no-<name> of a negatable non-Bool option (--no-config): no value
};

class Config {
 public:
  Config(Binary binary, const CommandDef& command, std::vector<std::string> args, std::vector<OptionValue> values,
         std::vector<std::string> warnings);

  Binary binary() const { return binary_; }
  const CommandDef& command() const { return *command_; }
  std::string_view commandName() const { return command_->name; }
  const std::vector<std::string>& args() const { return args_; }
  // The stanza, or empty when the command runs without one.
  std::string stanza() const;
  // Non-fatal findings of the parse (an unknown PGBR_ variable); main() logs them once logging is set.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Getters take the option's table name and, for indexed options, the index (0 means 1):
  // config.str("pg-path", 2) is pg2-path. Asking for an option the command does not accept or
  // with the wrong type is a bug (Error Internal); asking for one without a value is an
  // Error(OptionRequired) naming it, so check has() for options that may be unset.
  bool has(std::string_view name, unsigned index = 0) const;
  std::string str(std::string_view name, unsigned index = 0) const;  // any scalar type, canonical text
  bool flag(std::string_view name, unsigned index = 0) const;
  int64_t integer(std::string_view name, unsigned index = 0) const;
  uint64_t bytes(std::string_view name, unsigned index = 0) const;
  std::chrono::milliseconds duration(std::string_view name, unsigned index = 0) const;
  std::string_view choice(std::string_view name, unsigned index = 0) const;  // Enum; points into the table
  std::vector<std::string> list(std::string_view name, unsigned index = 0) const;
  std::map<std::string, std::string> map(std::string_view name, unsigned index = 0) const;

  // Where the value came from; Error(OptionRequired) when it has none.
  const ValueSource& source(std::string_view name, unsigned index = 0) const;
  // True when the value was given by the user (command line, environment or file), not a default.
  bool isSet(std::string_view name, unsigned index = 0) const;
  // "option 'repo1-path' (in /etc/pgbr/pgbr.conf:4)", for messages about a value.
  std::string describe(std::string_view name, unsigned index = 0) const;

  // Indexes of `family` ("pg", "repo") with at least one option set, in order; {1} when none is.
  std::vector<unsigned> indexes(std::string_view family) const;

  // Every value, ordered by display name (pg1-path before pg2-path before repo1-host).
  std::vector<const OptionValue*> values() const;

  // The options as a command line, secrets as <redacted>, defaults left out:
  // "--log-level-console=info --repo1-cipher-pass=<redacted> --stanza=main".
  std::string redactedOptions() const;

 private:
  // The option and its index (1 for index 0 of an indexed option); Error(Internal) for a misuse.
  std::pair<const OptionDef*, unsigned> resolve(std::string_view name, unsigned index) const;
  const OptionValue* lookup(std::string_view name, unsigned index) const;
  const OptionValue& need(std::string_view name, unsigned index, std::initializer_list<OptionType> types) const;

  Binary binary_;
  const CommandDef* command_;
  std::vector<std::string> args_;
  std::map<std::pair<std::string_view, unsigned>, OptionValue> values_;
  std::vector<std::string> warnings_;
};

// "backup command begin 0.1.0: --stanza=main --repo1-cipher-pass=<redacted> …", with the
// positional arguments first in brackets: the line a command logs at info level when it starts.
std::string commandBeginMessage(const Config& config);

}  // namespace pgbr
