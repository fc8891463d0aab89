// Backups from a streaming standby (backup-standby=y|prefer): the backup is started and stopped
// on the primary (pg1), which writes the WAL and the backup_label that make it consistent, and
// the files are read from a standby (the first pg<n>, n ≥ 2, with a pg-path), so the primary's
// disks are spared the reads.
//
// Why it is sound: before any file is read the standby has replayed past the primary's backup
// start (its checkpoint record included) and has made a restartpoint there, so every page on the
// standby's disk is at least as new as at the start; pages changed while they are read are
// rewritten by replaying the WAL from the start, as for a backup of the primary (full-page writes
// are forced during a backup). Recovery ends at the primary's backup-end record.
//
// Plain values and blocking functions, for the backup's main thread.
#pragma once

#include "agent/cluster.h"
#include "common/config/config.h"
#include "common/pg/connection.h"
#include "common/pg/lsn.h"

#include <chrono>
#include <optional>
#include <string>

namespace pgbr::agent {

struct StandbySource {
  unsigned index = 0;  // pg<index>
  std::string path;    // its data directory (pg<index>-path)
  pg::PgConnection connection;
  LocalCluster cluster;
};

// The standby to read from, or nullopt to read from the primary. With backup-standby=n nullopt;
// with y, Error(ConfigInvalid) when no pg<n>-path is configured, and the connection's or the
// check's error when the standby is not reachable, not in recovery, or not a copy of `primary`;
// with prefer, those problems are logged as warnings and the primary is used.
std::optional<StandbySource> chooseStandby(const Config& config, const LocalCluster& primary);

// Waits until the standby has replayed the primary's WAL up to `primaryLsn` (the primary's insert
// position after pg_backup_start), then makes a restartpoint on it and checks that its redo
// point is at or after the backup's start. Throws ArchiveTimeout naming the standby when replay
// does not get there within `timeout`, PgMismatch when the restartpoint is behind the start.
void syncStandby(StandbySource& standby, pg::Lsn backupStart, pg::Lsn primaryLsn, std::chrono::milliseconds timeout);

}  // namespace pgbr::agent
