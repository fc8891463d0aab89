#include "common/pg/data_dir.h"

#include "common/pg/connection.h"
#include "common/pg/control.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

#include <map>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

TEST_CASE("the backup rules on a running data directory with a tablespace, unlogged and temporary tables") {
  PgCluster cluster;
  auto location = cluster.makeTablespaceDirectory("ts1");
  cluster.start();
  cluster.psql("CREATE TABLESPACE ts1 LOCATION '" + location.string() +
               "';"
               "CREATE TABLE logged AS SELECT generate_series(1, 1000) AS i;"
               "CREATE UNLOGGED TABLE unlogged AS SELECT generate_series(1, 1000) AS i;"
               "CREATE TABLE in_ts TABLESPACE ts1 AS SELECT generate_series(1, 1000) AS i;"
               "CHECKPOINT;");
  std::string tablespaceOid = cluster.psql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'");
  std::string loggedPath = cluster.psql("SELECT pg_relation_filepath('logged')");
  std::string unloggedPath = cluster.psql("SELECT pg_relation_filepath('unlogged')");
  std::string inTsPath = cluster.psql("SELECT pg_relation_filepath('in_ts')");

  // A temporary table exists only while its session lives.
  PgConnection session(cluster.connectOptions());
  session.execute("CREATE TEMP TABLE scratch AS SELECT generate_series(1, 1000) AS i");
  std::string tempPath = session.queryString("SELECT pg_relation_filepath('scratch')");
  // A temporary file as a query spilling to disk leaves it.
  writeFile(cluster.dataDirectory() / "base/pgsql_tmp/pgsql_tmp4242.0", "spill");

  ControlData control = readControl(cluster.dataDirectory());
  DataDirectoryRules rules(control.version.major, control.catalogVersion);
  std::map<std::string, DataDirEntry> seen;
  walkDataDirectory(cluster.dataDirectory(), rules, [&](const DataDirEntry& entry) { seen[entry.path] = entry; });

  auto disposition = [&](const std::string& path) {
    INFO(path);
    REQUIRE(seen.count(path) == 1);
    return seen[path].decision.disposition;
  };
  auto nothingBelow = [&](const std::string& directory) {
    for (const auto& [path, entry] : seen) CHECK_MESSAGE(path.rfind(directory + "/", 0) != 0, path);
  };

  CHECK(disposition("postmaster.pid") == Disposition::Exclude);
  CHECK(disposition("postmaster.opts") == Disposition::Exclude);
  CHECK(disposition("PG_VERSION") == Disposition::Include);
  CHECK(disposition("postgresql.conf") == Disposition::Include);

  CHECK(disposition("pg_wal") == Disposition::Include);
  CHECK(disposition("pg_wal/archive_status") == Disposition::IncludeEmpty);
  CHECK(disposition("pg_wal/000000010000000000000001") == Disposition::Exclude);
  nothingBelow("pg_wal/archive_status");
  CHECK(disposition("pg_stat_tmp") == Disposition::IncludeEmpty);
  CHECK(disposition("pg_replslot") == Disposition::IncludeEmpty);
  CHECK(disposition("pg_subtrans") == Disposition::IncludeEmpty);
  nothingBelow("pg_subtrans");
  CHECK(disposition("pg_xact/0000") == Disposition::Include);

  CHECK(seen["global/pg_control"].decision.fileClass == FileClass::Control);
  CHECK(seen["global/1262"].decision.fileClass == FileClass::Relation);
  if (seen.count("global/pg_internal.init")) CHECK(disposition("global/pg_internal.init") == Disposition::Exclude);

  CHECK(disposition(loggedPath) == Disposition::Include);
  CHECK(seen[loggedPath].decision.fileClass == FileClass::Relation);
  CHECK(disposition(unloggedPath) == Disposition::Exclude);
  CHECK(disposition(unloggedPath + "_init") == Disposition::Include);
  CHECK(disposition(tempPath) == Disposition::Exclude);
  CHECK(disposition("base/pgsql_tmp") == Disposition::Exclude);
  nothingBelow("base/pgsql_tmp");

  auto link = seen["pg_tblspc/" + tablespaceOid];
  CHECK(link.type == EntryType::Symlink);
  CHECK(link.linkTarget == location.string());
  CHECK(link.decision.tablespaceOid == static_cast<uint32_t>(std::stoul(tablespaceOid)));
  CHECK(inTsPath.rfind("pg_tblspc/" + tablespaceOid + "/PG_15_", 0) == 0);
  CHECK(disposition(inTsPath) == Disposition::Include);
  CHECK(seen[inTsPath].decision.fileClass == FileClass::Relation);
  CHECK(seen[inTsPath].size > 0);

  // Nothing is visited below an excluded directory, and every relation file knows its fork.
  for (const auto& [path, entry] : seen) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) {
      INFO(path);
      CHECK(seen.at(path.substr(0, slash)).decision.disposition == Disposition::Include);
    }
    if (entry.decision.fileClass == FileClass::Relation) CHECK(entry.decision.relation.has_value());
  }
}
