// Timelines end to end: a cluster restored from a backup and promoted archives on its new timeline
// (the .history file and its segments) into the same stanza while the original goes on writing
// on the old one. A later restore to the latest timeline follows the history file to the promoted
// cluster's data, and a restore to a time on the old timeline (--target-timeline=1) reaches the
// original's later data, starting from a backup on that timeline although a newer backup, of the
// promoted branch, ended before the target; without --set the latest timeline's restore starts
// from that newer backup.
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

void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

std::string origins(PgCluster& pg) { return pg.psql("SELECT string_agg(DISTINCT origin, ',' ORDER BY origin) FROM t"); }

// pg_switch_wal(), then waits until this cluster's archiver has archived the segment it closed.
void switchAndWait(PgCluster& pg) {
  std::string segment = pg.psql("SELECT pg_walfile_name(pg_switch_wal())");
  bool archived = waitUntil([&] {
    return pg.psql("SELECT coalesce(last_archived_wal, '') >= '" + segment + "' FROM pg_stat_archiver") == "t";
  });
  REQUIRE_MESSAGE(archived, ("segment " + segment + " was not archived; server log:\n" + pg.log()));
}

std::string restore(AgentCluster& cluster, RestoredCluster& into, std::vector<std::string> args) {
  args.insert(args.begin(), "--pg1-path=" + into.dataDirectory().string());
  args.push_back("restore");
  return std::string(trim(cluster.agentOk(args)));
}

}  // namespace

TEST_CASE("a promoted restore archives a new timeline, restores follow it to latest, or stay on the old one") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& original = cluster.pg();
  original.start();
  cluster.agentOk({"stanza-create"});
  original.psql("CREATE TABLE t (id serial PRIMARY KEY, origin text); INSERT INTO t (origin) VALUES ('base')");
  std::string first(trim(cluster.agentOk({"--type=full", "backup"})));
  original.psql("INSERT INTO t (origin) SELECT 'one' FROM generate_series(1, 10)");
  switchAndWait(original);

  // The branch: restored to the end of the archive, promoted to timeline 2, archiving (the backed-up
  // archive_command) into the same stanza.
  RestoredCluster branch;
  restore(cluster, branch, {"--set=" + first});
  branch.startAndWaitForRecovery();
  REQUIRE(branch.pg().psql("SELECT timeline_id FROM pg_control_checkpoint()") == "2");
  branch.pg().psql("INSERT INTO t (origin) SELECT 'two' FROM generate_series(1, 10)");
  switchAndWait(branch.pg());
  // A backup of the branch, on timeline 2.
  fs::path branchConfig = repo.writeAgentConfig(
      "agent",
      fmt::format("\n[main]\npg1-path={}\npg1-port={}\npg1-socket-path={}\npg1-user=postgres\nstart-fast=y\n",
                  branch.dataDirectory().string(), branch.pg().port(), branch.pg().socketDirectory().string()),
      repo.dir() / "branch.conf");
  RunResult branchBackup =
      run({agentBinary().string(), "--config=" + branchConfig.string(), "--stanza=main", "--type=full", "backup"},
          {.timeout = std::chrono::seconds(900)});
  REQUIRE_MESSAGE(branchBackup.exitCode == 0, describeRun("backup of the branch", branchBackup));
  std::string second(trim(branchBackup.out));
  branch.pg().stop();

  // The original goes on along timeline 1, after the branch's backup.
  tick();
  original.psql("INSERT INTO t (origin) SELECT 'three' FROM generate_series(1, 10)");
  std::string afterThree = original.psql("SELECT clock_timestamp()");
  // Recovery to a time stops at the first commit after it: without one in the archive it would end
  // before reaching the target, which PostgreSQL refuses.
  tick();
  original.psql("INSERT INTO t (origin) SELECT 'four' FROM generate_series(1, 10)");
  switchAndWait(original);

  // The history file is in the archive and comes back as it was written.
  TempDir files("pgbr-history");
  fs::permissions(files.path(), fs::perms::all);
  RunResult history =
      cluster.agentAsPostgres({"archive-get", "00000002.history", (files.path() / "history").string()});
  REQUIRE_MESSAGE(history.exitCode == 0, describeRun("archive-get 00000002.history", history));
  CHECK(readFile(files.path() / "history") == readFile(branch.dataDirectory() / "pg_wal" / "00000002.history"));
  std::string info = cluster.agentOk({"info"});
  CHECK_MESSAGE(contains(info, "wal archive min/max: 000000010000000000000001/00000002"), info);

  {
    INFO("latest: from the first backup, through the history file, to the branch's data");
    RestoredCluster latest;
    restore(cluster, latest, {"--archive-mode=off", "--set=" + first});
    latest.startAndWaitForRecovery();
    CHECK(origins(latest.pg()) == "base,one,two");
    CHECK(latest.pg().psql("SELECT timeline_id FROM pg_control_checkpoint()") == "3");
  }
  {
    INFO("a time on timeline 1: the backup of the branch ended before it, but cannot reach it");
    RestoredCluster old;
    std::string label = restore(cluster, old,
                                {"--archive-mode=off", "--type=time", "--target=" + afterThree,
                                 "--target-timeline=1", "--target-action=promote"});
    CHECK(label == first);
    old.startAndWaitForRecovery();
    CHECK(origins(old.pg()) == "base,one,three");
  }
  {
    INFO("latest without --set: the newest backup on the latest timeline's history is the branch's");
    RestoredCluster newest;
    std::string label = restore(cluster, newest, {"--archive-mode=off"});
    CHECK(label == second);
    newest.startAndWaitForRecovery();
    CHECK(origins(newest.pg()) == "base,one,two");
  }
}
