// Help and version text of pgbr-agent and pgbr-repo, generated from the option and command
// tables: `help`, `help <command>`, `help <command> <option>`, `--help` and `version`. The
// functions return text and print nothing; main() writes it to stdout.
#pragma once

#include "common/config/option_def.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

// The project's version (CMake's PROJECT_VERSION).
std::string_view pgbrVersion();

// "pgbr-agent [options] --stanza=<stanza> archive-get <wal-file> <destination>"
std::string commandUsage(const CommandDef& command);

// "pgbr-agent 0.1.0\n"
std::string versionText(Binary binary);

// args are the help command's arguments: none, <command>, or <command> <option>. Throws
// Error(CommandInvalid) for an unknown command and Error(OptionInvalid) for an option the
// command does not take, each with a suggestion when one is close.
std::string helpText(Binary binary, std::span<const std::string> args);

// One line of facts about an option, shared by help and docs/configuration.md.
struct OptionFact {
  std::string label;  // "default"
  std::string value;  // "1MiB"
};
// The facts of `option` for one command, or for every command when `command` is empty.
std::vector<OptionFact> optionFacts(const OptionDef& option, std::string_view command);

// Wraps paragraphs (separated by blank lines) to `width` columns, each line indented by `indent`.
std::string wrapText(std::string_view text, size_t indent, size_t width = 80);

}  // namespace pgbr
