// Backups from a streaming standby (backup-standby): started and stopped on the primary, files
// read from the standby. The backup restores to the primary's data at its end; with the standby
// down, prefer falls back to the primary and y fails naming the standby.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a backup read from a streaming standby restores to the primary's data, and prefer falls back") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\nprocess-max=2\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "1"});
  pg.psql("CREATE TABLE marks (id int, note text); INSERT INTO marks SELECT i, md5(i::text) FROM generate_series(1, 1000) i");
  auto standby = PgCluster::standbyOf(pg);
  standby->start();
  REQUIRE(standby->psql("SELECT pg_is_in_recovery()") == "t");
  const std::vector<std::string> pg2 = {"--pg2-path=" + standby->dataDirectory().string(),
                                        "--pg2-port=" + std::to_string(standby->port()),
                                        "--pg2-socket-path=" + standby->socketDirectory().string(),
                                        "--pg2-user=postgres"};
  auto withStandby = [&](std::vector<std::string> args) {
    std::vector<std::string> all = pg2;
    all.insert(all.end(), args.begin(), args.end());
    return all;
  };

  pg.pgbench({"-c", "2", "-t", "200", "-n"});
  RunResult backup =
      cluster.agent(withStandby({"--backup-standby=y", "--log-level-console=info", "--type=full", "backup"}));
  REQUIRE_MESSAGE(backup.exitCode == 0, (describeRun("standby backup", backup) + "\nserver:\n" + repo.output()));
  CHECK_MESSAGE(contains(backup.err, "reading files from standby pg2"), backup.err);
  std::string label(trim(backup.out));
  cluster.switchWalAndWaitArchived();
  std::string expected = comparableDump(pg.dumpall());

  // An incr from the standby after more changes, then both restore.
  pg.pgbench({"-c", "2", "-t", "200", "-n"});
  pg.psql("INSERT INTO marks SELECT i, 'after' FROM generate_series(1001, 1100) i");
  RunResult incr =
      cluster.agent(withStandby({"--backup-standby=y", "--log-level-console=info", "--type=incr", "backup"}));
  REQUIRE_MESSAGE(incr.exitCode == 0, describeRun("standby incr", incr));
  std::string incrLabel(trim(incr.out));
  cluster.switchWalAndWaitArchived();
  std::string incrExpected = comparableDump(pg.dumpall());

  for (const auto& [set, dump] : {std::pair{label, expected}, std::pair{incrLabel, incrExpected}}) {
    RestoredCluster restored;
    cluster.agentOk({"--pg1-path=" + restored.dataDirectory().string(), "--archive-mode=off", "--type=immediate",
                     "--target-action=promote", "--set=" + set, "restore"});
    restored.startAndWaitForRecovery();
    CHECK_MESSAGE(comparableDump(restored.pg().dumpall()) == dump, "backup ", set, " read from the standby differs");
    auto check = restored.pg().amcheck();
    CHECK_MESSAGE(check.ok, check.output);
    CHECK(restored.pg().controldataValue("Database system identifier") ==
          pg.controldataValue("Database system identifier"));
  }

  // With the standby down: prefer reads from the primary, y fails naming the standby.
  standby->stop();
  RunResult preferred =
      cluster.agent(withStandby({"--backup-standby=prefer", "--log-level-console=info", "--type=incr", "backup"}));
  REQUIRE_MESSAGE(preferred.exitCode == 0, describeRun("prefer without a standby", preferred));
  CHECK_MESSAGE(contains(preferred.err, "reading files from the primary"), preferred.err);
  RunResult required = cluster.agent(withStandby({"--backup-standby=y", "--type=incr", "backup"}));
  CHECK(required.exitCode == 50);
  CHECK_MESSAGE(contains(required.err, standby->socketDirectory().string()), required.err);
}
