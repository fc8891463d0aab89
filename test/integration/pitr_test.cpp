// Point-in-time recovery end to end, against a real PostgreSQL 15 archiving asynchronously through
// pgbr-agent into a real pgbr-repo over mutual TLS: rows committed, a time recorded, rows changed;
// restores to that time, to a named restore point, to an xid, to an LSN, to the backup's
// consistency point and as a standby each bring back exactly what they should. The backup for a
// time target is chosen automatically, one restore runs on another host's certificate (its
// restore_command too), WAL comes back through asynchronous archive-get, and bad targets, or a
// target before the oldest backup, are refused before anything is written.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Enough for a clock tick between what happens before and after a recorded time.
void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

struct Restored {
  std::string label;  // what the restore printed
  std::unique_ptr<RestoredCluster> cluster;
};

// Restores into a new directory with `args` (pg1-path and archive-mode=off added) using `config`,
// and starts PostgreSQL on it.
Restored restoreAndStart(const fs::path& config, std::vector<std::string> args) {
  Restored restored{{}, std::make_unique<RestoredCluster>()};
  std::vector<std::string> argv = {agentBinary().string(), "--config=" + config.string(), "--stanza=main",
                                   "--pg1-path=" + restored.cluster->dataDirectory().string(), "--archive-mode=off"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("restore");
  RunResult result = run(argv, {.timeout = std::chrono::seconds(900)});
  REQUIRE_MESSAGE(result.exitCode == 0, describeRun("restore " + join(args, " "), result));
  restored.label = std::string(trim(result.out));
  restored.cluster->start();
  return restored;
}

void waitForRecoveryEnd(RestoredCluster& restored) {
  bool done = waitUntil([&] { return restored.pg().tryPsql("SELECT pg_is_in_recovery()").out.starts_with("f"); });
  REQUIRE_MESSAGE(done, ("recovery did not finish; server log:\n" + restored.pg().log()));
}

std::string rows(PgCluster& pg) { return pg.psql("SELECT count(*) || ' ' || coalesce(min(id), 0) || '-' || coalesce(max(id), 0) FROM t"); }

}  // namespace

TEST_CASE("restores to a time, a restore point, an xid, an lsn, immediate and standby bring back exactly their rows") {
  RepoFixture repo({.auth = {{"agent", "*"}, {"db2", "main"}}});
  AgentCluster cluster(repo, "start-fast=y\nprocess-max=2\narchive-async=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.psql("CREATE TABLE t (id int PRIMARY KEY, phase text)");
  std::string beforeBackups = pg.psql("SELECT clock_timestamp()");
  tick();
  std::string first(trim(cluster.agentOk({"--type=full", "backup"})));

  // Phase one: rows 1-100 in one transaction, whose id, end and restore point are targets.
  std::string xid = pg.psql("BEGIN; INSERT INTO t SELECT i, 'one' FROM generate_series(1, 100) i; "
                            "SELECT txid_current(); COMMIT;");
  std::string lsn = pg.psql("SELECT pg_current_wal_insert_lsn()");
  pg.psql("SELECT pg_create_restore_point('after phase one')");
  tick();
  std::string afterOne = pg.psql("SELECT clock_timestamp()");
  tick();
  // A second backup ends after the recorded time: the time target must not pick it.
  std::string second(trim(cluster.agentOk({"--type=full", "backup"})));
  // Phase two: rows 101-200 arrive, rows 1-100 are deleted by mistake.
  pg.psql("INSERT INTO t SELECT i, 'two' FROM generate_series(101, 200) i");
  pg.psql("DELETE FROM t WHERE id <= 100");
  cluster.switchWalAndWaitArchived();
  REQUIRE(rows(pg) == "100 101-200");

  // Sections in sequence (not SUBCASEs, which would make the cluster and backups again for each).
  {
    INFO("a target before the oldest backup is refused before anything is written");
    TempDir dir("pgbr-pitr-refused");
    fs::path target = dir.path() / "data";
    RunResult refused = cluster.agent({"--pg1-path=" + target.string(), "--type=time", "--target=" + beforeBackups,
                                       "restore"});
    CHECK(refused.exitCode == 65);
    CHECK_MESSAGE(contains(refused.err, "is before the end of the oldest backup of stanza 'main' that recovery could "
                                        "start from, " + first),
                  refused.err);
    CHECK_FALSE(fs::exists(target));
  }

  {
    INFO("time, with the backup chosen for it, on another host's certificate");
    fs::path otherHost = repo.writeAgentConfig("db2", "[main]\nprocess-max=2\narchive-async=y\n",
                                               repo.dir() / "db2.conf");
    auto restored = restoreAndStart(otherHost, {"--type=time", "--target=" + afterOne, "--target-action=promote"});
    CHECK(restored.label == first);
    waitForRecoveryEnd(*restored.cluster);
    CHECK(rows(restored.cluster->pg()) == "100 1-100");
    std::string conf = readFile(restored.cluster->dataDirectory() / "postgresql.auto.conf");
    CHECK_MESSAGE(contains(conf, "--config=" + otherHost.string()), conf);
    CHECK_MESSAGE(contains(conf, "recovery_target_time = '" + afterOne + "'"), conf);
    // WAL came through the asynchronous archive-get of the other host's configuration.
    CHECK(contains(readFile(repo.dir() / "agent-log" / "main-archive-get-async.log"), "fetched WAL segment"));
  }

  {
    INFO("a named restore point, paused there for inspection");
    // A name does not tell which backup precedes it: --set picks the one before the restore point.
    auto restored =
        restoreAndStart(cluster.config(), {"--type=name", "--target=after phase one", "--set=" + first});
    bool paused = waitUntil([&] {
      return restored.cluster->pg().tryPsql("SELECT pg_get_wal_replay_pause_state()").out.starts_with("paused");
    });
    REQUIRE_MESSAGE(paused, restored.cluster->pg().log());
    CHECK(rows(restored.cluster->pg()) == "100 1-100");
  }

  {
    INFO("an xid, inclusive");
    auto restored = restoreAndStart(cluster.config(),
                                    {"--type=xid", "--target=" + xid, "--target-action=promote", "--set=" + first});
    waitForRecoveryEnd(*restored.cluster);
    CHECK(rows(restored.cluster->pg()) == "100 1-100");
  }

  {
    INFO("an lsn, with the backup chosen for it");
    auto restored = restoreAndStart(cluster.config(), {"--type=lsn", "--target=" + lsn, "--target-action=promote"});
    CHECK(restored.label == first);
    waitForRecoveryEnd(*restored.cluster);
    CHECK(rows(restored.cluster->pg()) == "100 1-100");
  }

  {
    INFO("immediate: the backup's consistency point");
    auto restored =
        restoreAndStart(cluster.config(), {"--type=immediate", "--target-action=promote", "--set=" + first});
    waitForRecoveryEnd(*restored.cluster);
    CHECK(rows(restored.cluster->pg()) == "0 0-0");
  }

  {
    INFO("standby: replays the archive and stays in recovery");
    auto restored = restoreAndStart(cluster.config(), {"--type=standby"});
    CHECK(restored.label == second);
    CHECK(fs::exists(restored.cluster->dataDirectory() / "standby.signal"));
    CHECK_FALSE(fs::exists(restored.cluster->dataDirectory() / "recovery.signal"));
    bool caughtUp = waitUntil([&] { return restored.cluster->pg().tryPsql("SELECT count(*) FROM t WHERE id > 100").out
                                               .starts_with("100"); });
    REQUIRE_MESSAGE(caughtUp, restored.cluster->pg().log());
    CHECK(restored.cluster->pg().psql("SELECT pg_is_in_recovery()") == "t");
  }
}

TEST_CASE("an unknown restore type, a missing or malformed target are clear errors and nothing is written") {
  RepoFixture repo;
  AgentCluster cluster(repo);
  TempDir dir("pgbr-bad-target");
  fs::path target = dir.path() / "data";
  auto attempt = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "--pg1-path=" + target.string());
    args.push_back("restore");
    return cluster.agent(args);
  };

  RunResult unknown = attempt({"--type=yesterday"});
  CHECK(unknown.exitCode == 12);
  CHECK_MESSAGE(contains(unknown.err, "yesterday"), unknown.err);
  CHECK_MESSAGE(contains(unknown.err, "immediate, time, xid, lsn, name, standby, preserve, none"), unknown.err);

  RunResult noTarget = attempt({"--type=time"});
  CHECK(noTarget.exitCode == 13);
  CHECK_MESSAGE(contains(noTarget.err, "target"), noTarget.err);

  RunResult badTime = attempt({"--type=time", "--target=2026-02-30 12:00:00"});
  CHECK(badTime.exitCode == 12);
  CHECK_MESSAGE(contains(badTime.err, "--target '2026-02-30 12:00:00' is not a valid target for --type=time: "
                                      "expected 'YYYY-MM-DD HH:MM:SS'"),
                badTime.err);

  RunResult badXid = attempt({"--type=xid", "--target=12ab"});
  CHECK(badXid.exitCode == 12);
  CHECK_MESSAGE(contains(badXid.err, "expected a transaction id"), badXid.err);

  RunResult badLsn = attempt({"--type=lsn", "--target=16-B374D848"});
  CHECK(badLsn.exitCode == 12);
  CHECK_MESSAGE(contains(badLsn.err, "expected a WAL location"), badLsn.err);

  RunResult badTimeline = attempt({"--target-timeline=newest"});
  CHECK(badTimeline.exitCode == 12);
  CHECK_MESSAGE(contains(badTimeline.err, "current, latest or a timeline number"), badTimeline.err);

  CHECK_FALSE(fs::exists(target));
}
