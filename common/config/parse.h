// Building a Config from `<binary> [options] <command> [arguments] [options]`, the PGBR_*
// environment and the configuration files, as the option table says. Precedence, highest first:
// command line, environment, [<stanza>:<command>], [<stanza>], [global:<command>], [global],
// default. The parser keeps no state between calls: the environment is an argument, so tests
// pass their own; only the configuration files are read from disk.
#pragma once

#include "common/config/config.h"

#include <map>
#include <span>
#include <string>

namespace pgbr {

using Environment = std::map<std::string, std::string>;

// The process environment, for main(); the parser itself never reads it.
Environment processEnvironment();

// `args` are the arguments after the program name. Throws Error with OptionInvalid,
// OptionInvalidValue, OptionRequired, ConfigInvalid or CommandInvalid, naming the option, the
// file and line or variable it came from, and what to do. `--help` anywhere (or no command)
// gives the help command, `--version` the version command; neither reads configuration files.
Config parseConfig(Binary binary, std::span<const std::string> args, const Environment& env);

// The same from main()'s argc/argv (argv[0] is skipped).
Config parseConfig(Binary binary, int argc, const char* const* argv, const Environment& env);

}  // namespace pgbr
