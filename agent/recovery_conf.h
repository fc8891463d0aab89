// The recovery settings a restore leaves for PostgreSQL: which signal file to write
// (recovery.signal, or standby.signal for type=standby), the settings for postgresql.auto.conf
// (restore_command pointing back to this pgbr-agent, the recovery target of --type/--target,
// target action and timeline, archive_mode=off, recovery-option extras), and the edit of
// postgresql.auto.conf itself: settings from the backed-up cluster that would steer the restored
// one (an old restore_command, recovery_target*) are commented out, not silently dropped.
// Pure functions and values; thread-safe.
#pragma once

#include "common/config/config.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbr::agent {

struct RecoveryOptions {
  std::string type = "default";  // default, immediate, time, xid, lsn, name, standby, preserve, none
  std::string target;            // time, xid, lsn, name
  bool targetExclusive = false;
  std::optional<std::string> targetAction;    // only when given
  std::optional<std::string> targetTimeline;  // only when given
  std::map<std::string, std::string> extra;   // recovery-option
  bool archiveModeOff = false;
  std::string restoreCommand;
};

// From type, target, target-exclusive, target-action, target-timeline, recovery-option and
// archive-mode of a restore command. The target is checked for its type (restore_target.h):
// OptionInvalidValue naming --target for a malformed one.
RecoveryOptions recoveryOptions(const Config& config, std::string restoreCommand);

using Settings = std::vector<std::pair<std::string, std::string>>;

// The settings to write, in order.
Settings recoverySettings(const RecoveryOptions& options);
// "recovery.signal", "standby.signal", or empty (preserve, none).
std::string_view signalFileName(const RecoveryOptions& options);
// Whether stale recovery settings from the backup are to be commented out (all types but preserve).
bool replacesRecoverySettings(const RecoveryOptions& options);

// postgresql.auto.conf with every line that sets one of `settings`' names (and, when
// removeRecovery, restore_command or a recovery_target* setting) commented out as
// "# Removed by pgbr restore: <line>", and the settings appended as name = 'value'.
std::string editAutoConf(std::string_view content, const Settings& settings, bool removeRecovery);

// A configuration-file string literal: 'it''s', backslashes doubled.
std::string quoteConfValue(std::string_view value);
// A shell word: as it is when it is plainly safe, else in single quotes.
std::string shellQuote(std::string_view word);
// <agent> --config=<config> --stanza=<stanza> archive-get %f "%p"
std::string restoreCommand(std::string_view agentPath, std::string_view configPath, std::string_view stanza);

}  // namespace pgbr::agent
