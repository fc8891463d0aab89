#include "common/config/log_settings.h"

#include <string>

namespace pgbr {
namespace {

std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

}  // namespace

LogSettings logSettings(const Config& config) {
  LogSettings settings;
  settings.process = std::string(binaryName(config.binary()));
  settings.stanza = config.stanza();
  settings.file = LogLevel::Off;
  const OptionDef& console = *findOption("log-level-console");
  if (!optionValidFor(console, config.commandName())) return settings;
  settings.console = *parseLogLevel(config.choice("log-level-console"));
  settings.timestamps = config.flag("log-timestamp");
  std::string name = logFileName(config.command(), settings.stanza);
  if (name.empty()) return settings;
  settings.file = *parseLogLevel(config.choice("log-level-file"));
  std::string dir = config.str("log-path");
  settings.filePath = dir == "/" ? "/" + name : dir + "/" + name;
  return settings;
}

std::string logFileName(const CommandDef& command, std::string_view stanza) {
  std::string name = replaceAll(std::string(command.logFile), "{stanza}", stanza.empty() ? "all" : stanza);
  return replaceAll(name, "{command}", command.name);
}

}  // namespace pgbr
