#include "agent/backup_standby.h"

#include "common/error.h"
#include "common/log.h"
#include "common/pg/server.h"

#include <fmt/format.h>

#include <thread>

namespace pgbr::agent {

namespace {

// The standby pg<index> checked: running, in recovery, a copy of the primary.
StandbySource openStandby(const Config& config, unsigned index, const LocalCluster& primary) {
  std::string path = config.str("pg-path", index);
  pg::PgConnection connection(pgConnectOptions(config, index));
  LocalCluster cluster = inspectCluster(connection, path);
  if (!pg::isInRecovery(connection))
    fail(ErrorCode::PgMismatch,
         "pg{} at {} is not a standby (it is not in recovery): backup-standby reads files from a streaming standby",
         index, connection.options().describe());
  if (cluster.identity.systemId != primary.identity.systemId)
    fail(ErrorCode::PgMismatch, "pg{} at {} has system identifier {}, the primary {}: it is not a standby of pg1", index,
         connection.options().describe(), cluster.identity.systemId, primary.identity.systemId);
  return StandbySource{.index = index, .path = path, .connection = std::move(connection), .cluster = cluster};
}

}  // namespace

std::optional<StandbySource> chooseStandby(const Config& config, const LocalCluster& primary) {
  const std::string_view mode = config.choice("backup-standby");
  if (mode == "n") return std::nullopt;
  std::optional<unsigned> index;
  for (unsigned i : config.indexes("pg"))
    if (i >= 2 && config.has("pg-path", i)) {
      index = i;
      break;
    }
  if (!index) {
    if (mode == "prefer") {
      logWarn("backup-standby=prefer but no standby is configured (pg2-path): reading files from the primary");
      return std::nullopt;
    }
    fail(ErrorCode::ConfigInvalid,
         "backup-standby=y needs a standby: set pg2-path (and pg2-port, pg2-socket-path or pg2-host) to a streaming "
         "standby of pg1");
  }
  try {
    StandbySource standby = openStandby(config, *index, primary);
    logInfo("reading files from standby pg{} at {} ({})", *index, standby.connection.options().describe(),
            standby.path);
    return standby;
  } catch (const Error& error) {
    if (mode != "prefer") throw;
    logWarn("backup-standby=prefer: standby pg{} cannot be used ({}): reading files from the primary", *index,
            error.what());
    return std::nullopt;
  }
}

void syncStandby(StandbySource& standby, pg::Lsn backupStart, pg::Lsn primaryLsn, std::chrono::milliseconds timeout) {
  const std::string where = fmt::format("standby pg{} at {}", standby.index, standby.connection.options().describe());
  auto replayed = [&] {
    auto text = standby.connection.queryValue("SELECT pg_last_wal_replay_lsn()");
    return text ? pg::Lsn::parseOrFail(*text, "pg_last_wal_replay_lsn()") : pg::Lsn();
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto interval = std::chrono::milliseconds(20);
  pg::Lsn at = replayed();
  while (at < primaryLsn) {
    if (std::chrono::steady_clock::now() >= deadline)
      fail(ErrorCode::Timeout,
           "{} has replayed the WAL up to {} but the backup needs {} (the primary's position after pg_backup_start) "
           "within archive-timeout ({} s): is it streaming from the primary?",
           where, at, primaryLsn, timeout.count() / 1000.0);
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 2, std::chrono::milliseconds(500));
    at = replayed();
  }
  // A restartpoint at the replayed backup-start checkpoint writes every page changed before the
  // start to the standby's disk, as pg_backup_start's checkpoint does on the primary.
  standby.connection.execute("CHECKPOINT");
  pg::Lsn redo = pg::Lsn::parseOrFail(standby.connection.queryString("SELECT redo_lsn FROM pg_control_checkpoint()"),
                                      "pg_control_checkpoint()");
  if (redo < backupStart)
    fail(ErrorCode::PgMismatch,
         "{}: its restartpoint is at {}, before the backup's start at {}; files read now could miss changes written "
         "on the primary before the start",
         where, redo, backupStart);
  logInfo("{} has replayed to {} and made a restartpoint at {}: reading files from it", where, at, redo);
}

}  // namespace pgbr::agent
