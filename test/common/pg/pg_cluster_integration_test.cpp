#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>

using namespace pgbr::test;

namespace {

pid_t postmasterPid(const PgCluster& cluster) {
  std::ifstream in(cluster.dataDirectory() / "postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

}  // namespace

TEST_CASE("a test cluster runs SQL, pgbench, pg_dumpall and pg_amcheck, and its destructor stops it") {
  pid_t pid = 0;
  std::filesystem::path root;
  {
    PgCluster cluster;
    root = cluster.root();
    cluster.start();
    REQUIRE(cluster.running());
    pid = postmasterPid(cluster);
    CHECK(pid > 0);
    CHECK(cluster.psql("SELECT 1 + 1") == "2");
    CHECK(cluster.psql("SHOW data_checksums") == "on");
    CHECK(cluster.psql("SHOW listen_addresses").empty());
    cluster.pgbench({"-i", "-s", "1", "-q"});
    CHECK(cluster.psql("SELECT count(*) FROM pgbench_accounts") == "100000");
    cluster.pgbench({"-t", "20", "-c", "2"});
    CHECK(cluster.dumpall().find("CREATE TABLE public.pgbench_accounts") != std::string::npos);
    auto check = cluster.amcheck();
    CHECK_MESSAGE(check.ok, check.output);
    CHECK(cluster.controldataValue("Database cluster state") == "in production");
  }
  CHECK(::kill(pid, 0) != 0);
  CHECK_FALSE(std::filesystem::exists(root));
}

TEST_CASE("psql stops at the first failing statement and reports it") {
  PgCluster cluster;
  cluster.start();
  auto result = cluster.tryPsql("CREATE TABLE t(i int);\nSELECT nope;\nCREATE TABLE u(i int);\n");
  CHECK(result.exitCode != 0);
  CHECK(result.err.find("column \"nope\" does not exist") != std::string::npos);
  CHECK(cluster.psql("SELECT count(*) FROM pg_class WHERE relname IN ('t', 'u')") == "1");
  CHECK_THROWS_WITH_AS(cluster.psql("SELECT nope"), doctest::Contains("column \"nope\" does not exist"),
                       std::runtime_error);
}

TEST_CASE("a test cluster stops fast or immediately and restarts with its data") {
  PgCluster cluster({.checksums = false});
  cluster.start();
  cluster.psql("CREATE TABLE kept AS SELECT generate_series(1, 10) AS i");
  cluster.stop(StopMode::Immediate);
  CHECK_FALSE(cluster.running());
  CHECK(cluster.controldataValue("Database cluster state") == "in production");  // a crash leaves it so
  cluster.start();
  CHECK(cluster.psql("SELECT sum(i) FROM kept") == "55");
  cluster.restart();
  CHECK(cluster.psql("SHOW data_checksums") == "off");
  cluster.stop();
  CHECK(cluster.controldataValue("Database cluster state") == "shut down");
}

TEST_CASE("extra settings and the archive command reach postgresql.conf") {
  PgCluster cluster({.archiveCommand = "test ! -f /nonexistent/%f", .settings = {"work_mem = '7MB'"}});
  cluster.start();
  CHECK(cluster.psql("SHOW archive_mode") == "on");
  CHECK(cluster.psql("SHOW archive_command") == "test ! -f /nonexistent/%f");
  CHECK(cluster.psql("SHOW work_mem") == "7MB");
  CHECK(cluster.psql("SHOW wal_level") == "replica");
}

TEST_CASE("a standby made with pg_basebackup streams the primary's changes, tablespace included") {
  PgCluster primary;
  auto location = primary.makeTablespaceDirectory("ts1");
  primary.start();
  primary.psql("CREATE TABLESPACE ts1 LOCATION '" + location.string() + "'");
  primary.psql("CREATE TABLE t (i int) TABLESPACE ts1; INSERT INTO t SELECT generate_series(1, 100)");

  auto standby = PgCluster::standbyOf(primary);
  CHECK(std::filesystem::exists(standby->dataDirectory() / "standby.signal"));
  standby->start();
  CHECK(standby->psql("SELECT pg_is_in_recovery()") == "t");
  CHECK(standby->psql("SELECT count(*) FROM t") == "100");
  // The standby's tablespace lives in its own directory, not the primary's.
  auto link = std::filesystem::read_symlink(standby->dataDirectory() / "pg_tblspc" /
                                            primary.psql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'"));
  CHECK(link.string().rfind(standby->root().string(), 0) == 0);

  primary.psql("INSERT INTO t SELECT generate_series(101, 250)");
  CHECK(waitUntil([&] { return standby->psql("SELECT count(*) FROM t") == "250"; }));
}
