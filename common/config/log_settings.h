// The logging settings a command runs with, derived from its Config: console and file levels,
// the log file <log-path>/<stanza>-<command>.log (all-<command>.log without a stanza),
// timestamps, and the process and stanza that prefix each line.
#pragma once

#include "common/config/config.h"
#include "common/log.h"

namespace pgbr {

// For commands without log options (help, version): console at warn, no file.
LogSettings logSettings(const Config& config);

// The command's log file name for `stanza` ("all" when empty); empty when the command has none.
std::string logFileName(const CommandDef& command, std::string_view stanza);

}  // namespace pgbr
