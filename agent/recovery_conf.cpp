#include "agent/recovery_conf.h"

#include "agent/restore_target.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pgbr::agent {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The setting name a configuration line sets, lower-cased; empty for comments and blank lines.
std::string settingName(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  size_t start = i;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == '.'))
    ++i;
  return lower(line.substr(start, i - start));
}

bool isRecoverySetting(const std::string& name) {
  return name == "restore_command" || name.starts_with("recovery_target");
}

}  // namespace

RecoveryOptions recoveryOptions(const Config& config, std::string restoreCommand) {
  RecoveryOptions options;
  options.type = std::string(config.choice("type"));
  // Checked before anything is written, and in the form PostgreSQL will read.
  if (config.has("target")) options.target = checkTarget(options.type, config.str("target"));
  if (config.has("target-exclusive")) options.targetExclusive = config.flag("target-exclusive");
  if (config.isSet("target-action")) options.targetAction = std::string(config.choice("target-action"));
  if (config.has("target-timeline")) options.targetTimeline = config.str("target-timeline");
  if (config.has("recovery-option")) options.extra = config.map("recovery-option");
  options.archiveModeOff = config.choice("archive-mode") == "off";
  options.restoreCommand = std::move(restoreCommand);
  return options;
}

Settings recoverySettings(const RecoveryOptions& o) {
  Settings settings;
  if (o.type == "preserve") return settings;
  if (o.archiveModeOff) settings.emplace_back("archive_mode", "off");
  if (o.type == "none") return settings;
  if (!o.extra.contains("restore_command")) settings.emplace_back("restore_command", o.restoreCommand);
  if (o.type == "immediate")
    settings.emplace_back("recovery_target", "immediate");
  else if (o.type == "time" || o.type == "xid" || o.type == "lsn" || o.type == "name")
    settings.emplace_back("recovery_target_" + o.type, o.target);
  if (o.targetExclusive && (o.type == "time" || o.type == "xid" || o.type == "lsn"))
    settings.emplace_back("recovery_target_inclusive", "false");
  if (o.targetAction && o.type != "default" && o.type != "standby")
    settings.emplace_back("recovery_target_action", *o.targetAction);
  if (o.targetTimeline) settings.emplace_back("recovery_target_timeline", *o.targetTimeline);
  for (const auto& [name, value] : o.extra) settings.emplace_back(name, value);
  return settings;
}

std::string_view signalFileName(const RecoveryOptions& options) {
  if (options.type == "preserve" || options.type == "none") return {};
  return options.type == "standby" ? "standby.signal" : "recovery.signal";
}

bool replacesRecoverySettings(const RecoveryOptions& options) { return options.type != "preserve"; }

std::string editAutoConf(std::string_view content, const Settings& settings, bool removeRecovery) {
  std::string out;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    std::string_view line = content.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? content.size() : end + 1;
    std::string name = settingName(line);
    bool replaced = !name.empty() && std::any_of(settings.begin(), settings.end(),
                                                 [&](const auto& s) { return lower(s.first) == name; });
    if (replaced || (removeRecovery && isRecoverySetting(name))) out += "# Removed by pgbr restore: ";
    out += line;
    out += '\n';
  }
  for (const auto& [name, value] : settings) out += fmt::format("{} = {}\n", name, quoteConfValue(value));
  return out;
}

std::string quoteConfValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'')
      out += "''";
    else if (c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string shellQuote(std::string_view word) {
  bool safe = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_-./=:,+@").find(c) != std::string_view::npos;
  });
  if (safe) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string restoreCommand(std::string_view agentPath, std::string_view configPath, std::string_view stanza) {
  // PostgreSQL expands %f, %p, %r and %% in restore_command: a literal % must be doubled.
  auto word = [](std::string_view text) {
    std::string quoted = shellQuote(text), out;
    for (char c : quoted) out += c == '%' ? std::string("%%") : std::string(1, c);
    return out;
  };
  return fmt::format("{} {} {} archive-get %f \"%p\"", word(agentPath), word(fmt::format("--config={}", configPath)),
                     word(fmt::format("--stanza={}", stanza)));
}

}  // namespace pgbr::agent
