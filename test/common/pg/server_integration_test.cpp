#include "common/pg/server.h"

#include "common/error.h"
#include "common/pg/backup_label.h"
#include "common/pg/control.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

TEST_CASE("identity and settings of a real cluster") {
  PgCluster cluster({.archiveToDirectory = true});
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  int version = serverVersionNum(connection);
  CHECK(version >= 150000);
  CHECK(version < 160000);
  CHECK(dataDirectory(connection) == cluster.dataDirectory().string());
  CHECK(systemIdentifier(connection) == readControl(cluster.dataDirectory()).systemIdentifier);
  CHECK_FALSE(isInRecovery(connection));

  ServerSettings settings = serverSettings(connection);
  CHECK(settings.versionNum == version);
  CHECK(settings.dataDirectory == cluster.dataDirectory().string());
  CHECK(settings.archiveMode == "on");
  CHECK(settings.archiveCommand.find("cp %p " + cluster.archiveDirectory().string() + "/%f") != std::string::npos);
  CHECK(settings.walLevel == "replica");
  CHECK(settings.dataChecksums);
  CHECK(settings.walSegmentSize == 16u << 20);
  CHECK(settings.blockSize == 8192);
}

TEST_CASE("a non-superuser is told which privilege the settings need") {
  PgCluster cluster;
  cluster.start();
  cluster.psql("CREATE ROLE plain LOGIN");
  auto options = cluster.connectOptions();
  options.user = "plain";
  PgConnection connection(options);
  CHECK_THROWS_WITH_AS(serverSettings(connection), doctest::Contains("grant pg_read_all_settings"), Error);
}

TEST_CASE("pg_backup_start and pg_backup_stop round trip on one session, with a tablespace") {
  PgCluster cluster({.archiveToDirectory = true});
  auto location = cluster.makeTablespaceDirectory("ts1");
  cluster.start();
  cluster.psql("CREATE TABLESPACE ts1 LOCATION '" + location.string() + "'");
  std::string tablespaceOid = cluster.psql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'");

  PgConnection connection(cluster.connectOptions());
  BackupStart start = backupStart(connection, "pgbr test backup", true);
  CHECK(start.lsn.valid());
  CHECK(start.timeline == 1);
  CHECK(start.walFileName == WalSegment::containing(start.lsn, 1, 16u << 20).fileName(16u << 20));

  // Work goes on in other sessions while the backup runs.
  cluster.psql("CREATE TABLE during AS SELECT generate_series(1, 1000) AS i");

  BackupStop stop = backupStop(connection, true);
  CHECK(stop.lsn > start.lsn);
  BackupLabel label = parseBackupLabel(stop.backupLabel, "backup_label");
  CHECK(label.startWalLocation == start.lsn);
  CHECK(label.startWalFile == start.walFileName);
  CHECK(label.startTimeline == 1);
  CHECK(label.label == "pgbr test backup");
  CHECK(label.backupFrom == "primary");
  CHECK(label.checkpointLocation >= start.lsn);
  CHECK(stop.tablespaceMap == tablespaceOid + " " + location.string() + "\n");

  // With wait_for_archive the segment holding the stop LSN is archived before pg_backup_stop returns,
  // together with the backup history file.
  CHECK(std::filesystem::exists(cluster.archiveDirectory() /
                                WalSegment::containing(stop.lsn, 1, 16u << 20).fileName(16u << 20)));
  auto historyFile = cluster.archiveDirectory() / backupHistoryFileName(1, start.lsn, 16u << 20);
  REQUIRE(waitForFile(historyFile));
  BackupLabel history = parseBackupLabel(readFile(historyFile), historyFile.string());
  CHECK(history.stopWalLocation == stop.lsn);
  CHECK(history.label == "pgbr test backup");
}

TEST_CASE("pg_backup_stop without a backup in progress on the session fails with the server's message") {
  PgCluster cluster;
  cluster.start();
  PgConnection starter(cluster.connectOptions());
  backupStart(starter, "started elsewhere", true);
  PgConnection other(cluster.connectOptions());
  CHECK_THROWS_WITH_AS(backupStop(other, false), doctest::Contains("backup is not in progress"), Error);
  CHECK_NOTHROW(backupStop(starter, false));
}

TEST_CASE("switching WAL, the current LSN, restore points and tablespaces") {
  PgCluster cluster;
  auto location = cluster.makeTablespaceDirectory("ts_a");
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  Lsn before = currentWalLsn(connection);
  connection.execute("CREATE TABLE public.t AS SELECT generate_series(1, 1000) AS i");
  WalSwitch switched = switchWal(connection);
  CHECK(switched.lsn > before);
  // The switch ends a segment: the returned LSN is that segment's end, and it is the named one.
  CHECK(switched.walFileName == WalSegment::containing(switched.lsn - 1, 1, 16u << 20).fileName(16u << 20));
  CHECK(currentWalLsn(connection) >= switched.lsn);

  Lsn point = createRestorePoint(connection, "before the change");
  CHECK(point > before);

  CHECK(tablespaces(connection).empty());
  connection.execute("CREATE TABLESPACE ts_a LOCATION '" + location.string() + "'");
  auto list = tablespaces(connection);
  REQUIRE(list.size() == 1);
  CHECK(list[0].name == "ts_a");
  CHECK(list[0].location == location.string());
  CHECK(std::to_string(list[0].oid) == cluster.psql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts_a'"));
}

TEST_CASE("on a streaming standby the cluster is in recovery and a backup starts and stops there") {
  PgCluster primary;
  primary.start();
  primary.psql("CREATE TABLE public.t AS SELECT generate_series(1, 100) AS i");
  auto standby = PgCluster::standbyOf(primary);
  standby->start();
  PgConnection connection(standby->connectOptions());
  CHECK(isInRecovery(connection));
  BackupStart start = backupStart(connection, "from standby", true);
  CHECK(start.timeline == 1);
  BackupStop stop = backupStop(connection, false);
  BackupLabel label = parseBackupLabel(stop.backupLabel, "backup_label");
  CHECK(label.backupFrom == "standby");
  CHECK(label.startWalLocation == start.lsn);
  CHECK(label.startWalFile == start.walFileName);
}
