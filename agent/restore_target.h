// The recovery target of a restore, checked before anything is written, and the backup that can
// reach it. checkTarget() validates --target for its --type and puts it in the form PostgreSQL
// will read (a time without a zone gets this host's offset, so that PostgreSQL and the choice of
// backup read it alike). chooseBackup() picks the backup: --set when given (and refused when it
// cannot reach the target), else the newest backup that ended before a time or LSN target, or the
// newest one; only backups on the history of the timeline recovery will follow are candidates, so
// a restore to a point of an old timeline never starts from a backup of a newer branch.
//
// Pure functions and values, thread-safe, except selectBackup(), which asks the repository.
#pragma once

#include "agent/archive.h"
#include "agent/recovery_conf.h"
#include "agent/repo_client.h"
#include "common/manifest/manifest.h"
#include "common/pg/lsn.h"
#include "common/pg/timeline_history.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

struct TargetTime {
  double unixSeconds = 0;  // the instant, with fractions of a second
  bool zoneGiven = false;  // false: read as this host's local time
  int offsetSeconds = 0;   // east of UTC: the zone given, or the local one at that instant
};

// "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]" or "YYYY-MM-DD", then optionally a zone: Z, UTC, GMT or a
// numeric offset (+HH, +HHMM, +HH:MM, optionally after a space). nullopt for anything else.
std::optional<TargetTime> parseTargetTime(std::string_view text);

// The target for recovery_target_<type>: a time (see parseTargetTime; a time without a zone gets
// this host's offset appended), a transaction id (a decimal number above 2), an LSN (16/B374D848)
// or a restore point name (1 to 63 bytes). Throws OptionInvalidValue naming --target, what was
// wrong and the accepted forms.
std::string checkTarget(std::string_view type, std::string_view target);

// The timeline recovery follows and its history (its ancestors and where each was left).
struct TargetTimeline {
  pg::TimeLineId timeline = 0;
  pg::TimelineHistory history;
};

struct BackupChoice {
  std::string label;
  std::string reason;  // for the log: "the newest backup that ended before the target time"
};

// backups: the stanza's, oldest first. set: --set, or empty to choose. timeline: nullopt when
// recovery stays on the backup's own timeline (--target-timeline=current) or does no archive
// recovery (preserve, none). Throws BackupMissing when there is no backup or no such set, and
// RestoreTarget naming the target, the backup and its end when none can reach the target.
BackupChoice chooseBackup(const std::vector<ManifestHeader>& backups, const RecoveryOptions& recovery,
                          std::string_view set, const std::optional<TargetTimeline>& timeline,
                          std::string_view stanza);

// Asks the repository for the stanza's backups and, unless recovery stays on the backup's
// timeline, for the history of the timeline recovery will follow (the number given, or the newest
// one, found as PostgreSQL finds it: probing for the history files after the backups' timelines),
// then chooses. Throws RestoreTarget when a numbered timeline has no history in the archive.
BackupChoice selectBackup(RepoClient& client, const Config& config, const RepoKeys& keys,
                          const RecoveryOptions& recovery);

}  // namespace pgbr::agent
