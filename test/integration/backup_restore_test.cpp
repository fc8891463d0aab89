// End to end: a real PostgreSQL 15 archiving through pgbr-agent into a real pgbr-repo over mutual
// TLS; a full backup (under pgbench load, or quiet), a restore into another directory with the
// tablespace moved, PostgreSQL started on another port, recovery to the end, and the judges: the
// restored cluster's pg_dumpall equals the original's, pg_amcheck --all passes, and the system
// identifier is the original's.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

struct Cycle {
  bool cipher = true;
  std::string compress = "zstd";
  bool load = true;  // pgbench runs while the backup is taken
  std::string restoreType = "default";
  bool incremental = false;  // restore an incr taken after the full (every backup restores on its own)
};

// pgbench tables, a table of large toasted values (half random, half repetitive) and a table and
// index in a tablespace. Returns the tablespace's location.
fs::path makeData(PgCluster& pg) {
  pg.pgbench({"-i", "-s", "2"});
  pg.psql(
      "CREATE TABLE toasted (id int PRIMARY KEY, random text, repeated text);"
      "INSERT INTO toasted SELECT i, (SELECT string_agg(md5(random()::text || i || j), '') FROM "
      "generate_series(1, 3000) j), repeat('pgbr ' || i, 40000) FROM generate_series(1, 40) i;");
  fs::path location = pg.makeTablespaceDirectory("ts1");
  pg.psql("CREATE TABLESPACE ts1 LOCATION '" + location.string() + "'");
  pg.psql(
      "CREATE TABLE spaced (id int, payload text) TABLESPACE ts1;"
      "INSERT INTO spaced SELECT i, md5(i::text) FROM generate_series(1, 100000) i;"
      "CREATE INDEX spaced_id ON spaced (id) TABLESPACE ts1;");
  return location;
}

std::unique_ptr<Child> startLoad(PgCluster& pg, int seconds) {
  std::vector<std::string> argv = {(pgBinDir() / "pgbench").string(),
                                   "-h",
                                   pg.socketDirectory().string(),
                                   "-p",
                                   std::to_string(pg.port()),
                                   "-c",
                                   "2",
                                   "-j",
                                   "1",
                                   "-T",
                                   std::to_string(seconds),
                                   "postgres"};
  RunOptions options;
  options.user = "postgres";
  options.cwd = pg.root();
  auto child = std::make_unique<Child>(argv, pg.root() / "pgbench.log", options);
  // The backup starts once transactions are being committed, so it runs under load.
  bool running = waitUntil([&] { return pg.psql("SELECT count(*) > 0 FROM pgbench_history") == "t"; });
  REQUIRE_MESSAGE(running, ("pgbench did not start: " + readFile(pg.root() / "pgbench.log")));
  return child;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

void backupAndRestore(const Cycle& cycle) {
  RepoFixture repo({.cipher = cycle.cipher});
  AgentCluster cluster(repo, fmt::format("compress-type={}\nprocess-max=2\nstart-fast=y\n", cycle.compress));
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  fs::path location = makeData(pg);

  std::unique_ptr<Child> load;
  if (cycle.load) load = startLoad(pg, 30);
  std::string label(trim(cluster.agentOk({"--type=full", "backup"})));
  CHECK(label.ends_with("F"));
  if (load) {
    auto code = load->wait(std::chrono::seconds(600));
    REQUIRE_MESSAGE(code == 0, ("pgbench: " + readFile(pg.root() / "pgbench.log")));
  }
  if (cycle.incremental) {
    pg.psql("INSERT INTO spaced SELECT i, 'after the full' FROM generate_series(100001, 100100) i");
    std::string incr(trim(cluster.agentOk({"backup"})));  // type incr is the default
    CHECK(incr.starts_with(label + "_"));
    CHECK(incr.ends_with("I"));
    label = incr;
  }
  cluster.switchWalAndWaitArchived();
  std::string expected = comparableDump(pg.dumpall());

  RestoredCluster restored;
  TempDir tablespaces("pgbr-tablespaces");
  std::vector<std::string> args = {"--pg1-path=" + restored.dataDirectory().string(),
                                   "--tablespace-map-all=" + tablespaces.path().string(), "--archive-mode=off",
                                   "--type=" + cycle.restoreType, "--set=" + label};
  if (cycle.restoreType == "immediate") args.push_back("--target-action=promote");
  args.push_back("restore");
  CHECK(trim(cluster.agentOk(args)) == label);
  CHECK(fs::exists(tablespaces.path() / "ts1"));
  CHECK_FALSE(fs::exists(restored.dataDirectory() / "postmaster.pid"));
  CHECK(fs::exists(restored.dataDirectory() / "backup_label"));
  CHECK(fs::exists(restored.dataDirectory() / "recovery.signal"));

  restored.startAndWaitForRecovery();
  std::string actual =
      comparableDump(replaceAll(restored.pg().dumpall(), (tablespaces.path() / "ts1").string(), location.string()));
  if (actual != expected) {
    writeFile(fs::temp_directory_path() / "pgbr-dump-expected.sql", expected);
    writeFile(fs::temp_directory_path() / "pgbr-dump-actual.sql", actual);
  }
  CHECK_MESSAGE(actual == expected,
                "the dumps differ: see pgbr-dump-expected.sql and pgbr-dump-actual.sql in the temporary directory");
  auto check = restored.pg().amcheck();
  CHECK_MESSAGE(check.ok, check.output);
  CHECK(restored.pg().controldataValue("Database system identifier") ==
        pg.controldataValue("Database system identifier"));
  CHECK(restored.pg().psql("SELECT count(*) FROM spaced") == (cycle.incremental ? "100100" : "100000"));
  CHECK(restored.pg().psql("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts1'") ==
        (tablespaces.path() / "ts1").string());
}

}  // namespace

TEST_CASE("full backup under pgbench load, encrypted with zstd, restores elsewhere and recovers to the same data") {
  backupAndRestore({.cipher = true, .compress = "zstd", .load = true, .restoreType = "default"});
}

TEST_CASE("an incr after a full, without encryption, with lz4, restores to its consistency point with type immediate") {
  backupAndRestore(
      {.cipher = false, .compress = "lz4", .load = false, .restoreType = "immediate", .incremental = true});
}

TEST_CASE("thousands of small files share a few chunk uploads and restore byte for byte") {
  RepoFixture repo({.cipher = false});
  AgentCluster cluster(repo, "compress-type=zstd\nprocess-max=2\nstart-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  // 3000 files of 1 KiB, each different, in a directory PostgreSQL does not know (backed up as is).
  constexpr int kFiles = 3000;
  fs::path small = pg.dataDirectory() / "pgbr_small";
  fs::create_directory(small);
  for (int i = 0; i < kFiles; ++i)
    writeFile(small / fmt::format("f{:04}", i), fmt::format("{:1024}", fmt::format("small file {} of {}", i, kFiles)));
  REQUIRE(run({"chown", "-R", "postgres:postgres", small.string()}).exitCode == 0);

  RunResult backup = cluster.agent({"--log-level-console=info", "--type=full", "backup"});
  REQUIRE_MESSAGE(backup.exitCode == 0, (describeRun("full backup", backup) + "\nserver:\n" + repo.output()));
  std::string label(trim(backup.out));
  // "... already stored) in N uploads; ...": batches end by size, not after a fixed number of
  // chunks, so the small files travel together instead of 16 to an upload (which made > 250).
  size_t at = backup.err.find(" uploads;");
  REQUIRE_MESSAGE(at != std::string::npos, backup.err);
  size_t start = backup.err.rfind(' ', at - 1) + 1;
  uint64_t uploads = std::stoull(backup.err.substr(start, at - start));
  CHECK_MESSAGE(uploads > 0, backup.err);
  CHECK_MESSAGE(uploads <= 60, backup.err);

  RestoredCluster restored;
  CHECK(trim(cluster.agentOk({"--pg1-path=" + restored.dataDirectory().string(), "--archive-mode=off",
                              "--set=" + label, "restore"})) == label);
  for (int i = 0; i < kFiles; i += 7) {
    std::string name = fmt::format("f{:04}", i);
    CHECK_MESSAGE(readFile(restored.dataDirectory() / "pgbr_small" / name) == readFile(small / name), name);
  }
  CHECK(std::distance(fs::directory_iterator(restored.dataDirectory() / "pgbr_small"), fs::directory_iterator()) ==
        kFiles);
}
