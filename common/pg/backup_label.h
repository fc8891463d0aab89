// The backup_label content pg_backup_stop returns (and the ".backup" history file PostgreSQL
// archives, which adds the STOP lines): where recovery of a backup must start. Pure functions and
// value types; thread-safe.
#pragma once

#include "common/pg/lsn.h"
#include "common/pg/wal_name.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::pg {

struct BackupLabel {
  Lsn startWalLocation;          // START WAL LOCATION
  std::string startWalFile;      // the "(file ...)" part of START WAL LOCATION
  Lsn checkpointLocation;        // CHECKPOINT LOCATION
  TimeLineId startTimeline = 0;  // START TIMELINE (or the timeline of startWalFile)
  std::string backupMethod;      // BACKUP METHOD ("streamed")
  std::string backupFrom;        // BACKUP FROM ("primary" or "standby")
  std::string startTime;         // START TIME, as PostgreSQL formatted it
  std::string label;             // LABEL
  // Present in ".backup" history files only.
  std::optional<Lsn> stopWalLocation;
  std::optional<std::string> stopWalFile;
  std::optional<std::string> stopTime;
  std::optional<TimeLineId> stopTimeline;
  // Every "KEY: value" line, including ones this struct has no field for (PostgreSQL 17's
  // INCREMENTAL FROM LSN, for example).
  std::map<std::string, std::string> fields;
};

// Parses backup_label or ".backup" content. source names it in messages. Throws Error(Format)
// when START WAL LOCATION or CHECKPOINT LOCATION is missing or malformed, or a line is not
// "KEY: value".
BackupLabel parseBackupLabel(std::string_view content, std::string_view source);

}  // namespace pgbr::pg
