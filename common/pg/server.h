// What a backup asks a running PostgreSQL (12 to 17, exact for 15) over a PgConnection: identity,
// settings, the non-exclusive backup start/stop pair, WAL switches and restore points. Each call
// is one query on the caller's connection; threading as PgConnection.
//
// pg_backup_start and pg_backup_stop are non-exclusive: the backup belongs to the session that
// started it, so the same PgConnection must stay open until backupStop (closing it aborts the
// backup on the server, which is the safe outcome of a crash).
#pragma once

#include "common/pg/connection.h"
#include "common/pg/lsn.h"
#include "common/pg/wal_name.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::pg {

struct ServerSettings {
  int versionNum = 0;         // server_version_num: 150004
  std::string dataDirectory;  // data_directory
  std::string archiveMode;    // "off", "on", "always"
  std::string archiveCommand;
  std::string walLevel;  // "minimal", "replica", "logical"
  bool dataChecksums = false;
  uint32_t walSegmentSize = 0;  // bytes
  uint32_t blockSize = 0;       // bytes
};

struct BackupStart {
  Lsn lsn;                  // START WAL LOCATION
  TimeLineId timeline = 0;  // the timeline of the backup's start checkpoint
  std::string walFileName;  // the segment holding lsn: the first one the backup needs
};

struct BackupStop {
  Lsn lsn;                    // the backup is consistent once WAL up to here is replayed
  std::string backupLabel;    // content of backup_label for the restored data directory
  std::string tablespaceMap;  // content of tablespace_map (empty without tablespaces)
};

struct WalSwitch {
  Lsn lsn;                  // end of the segment just completed (or the insert position if none was)
  std::string walFileName;  // that segment
};

struct Tablespace {
  uint32_t oid = 0;
  std::string name;
  std::string location;  // pg_tablespace_location(): absolute, or relative for an in-place tablespace
};

int serverVersionNum(PgConnection& connection);
std::string dataDirectory(PgConnection& connection);
uint64_t systemIdentifier(PgConnection& connection);
bool isInRecovery(PgConnection& connection);
// Settings a backup checks. Throws Error(PgQuery) when one is hidden from the connection's user
// (data_directory and archive_command need superuser or pg_read_all_settings).
ServerSettings serverSettings(PgConnection& connection);

// pg_backup_start(label, fast) (pg_start_backup(label, fast, false) before 15). fast asks for an
// immediate checkpoint instead of a spread one.
BackupStart backupStart(PgConnection& connection, std::string_view label, bool fast);
// pg_backup_stop(waitForArchive) (pg_stop_backup(false, wait) before 15), on the session that
// started the backup. With waitForArchive the server returns only once the last segment the
// backup needs is archived.
BackupStop backupStop(PgConnection& connection, bool waitForArchive);

WalSwitch switchWal(PgConnection& connection);
Lsn currentWalLsn(PgConnection& connection);
std::vector<Tablespace> tablespaces(PgConnection& connection);
// pg_create_restore_point(name): a named target for point-in-time recovery.
Lsn createRestorePoint(PgConnection& connection, std::string_view name);

}  // namespace pgbr::pg
