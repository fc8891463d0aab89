// End-to-end checks of the agent's commands and of what goes wrong, against a real PostgreSQL 15
// and a real pgbr-repo over mutual TLS: server-ping, stanza-create (idempotent, wrong pg1-path),
// info, PostgreSQL not running, a second backup while one runs, archive-push/archive-get (a
// segment of another cluster, a missing file, a round trip, a conflicting file), and a corrupted
// pack, which a restore refuses naming the file, without writing wrong data.
#include "common/pg/page.h"
#include "common/pg/relation.h"
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

void flipByte(const fs::path& file, uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(stream);
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.get(byte);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.put(static_cast<char>(byte ^ 0x5a));
  REQUIRE(stream);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The text between `before` and the next `after` in text; empty when absent.
std::string between(const std::string& text, const std::string& before, char after) {
  size_t start = text.find(before);
  if (start == std::string::npos) return {};
  start += before.size();
  size_t end = text.find(after, start);
  return end == std::string::npos ? std::string() : text.substr(start, end - start);
}

// A child's output so far (the file appears only once the child has started).
std::string outputOf(const fs::path& file) { return fs::exists(file) ? readFile(file) : std::string(); }

}  // namespace

TEST_CASE("server-ping, stanza-create twice, and a pg1-path that is not the running cluster's") {
  RepoFixture repo;
  AgentCluster cluster(repo);
  cluster.pg().start();

  std::string ping = cluster.agentOk({"server-ping"});
  CHECK(contains(ping, "pgbr-repo"));
  CHECK(contains(ping, "round trip"));

  CHECK(contains(cluster.agentOk({"stanza-create"}), "stanza 'main' created"));
  CHECK(contains(cluster.agentOk({"stanza-create"}), "already exists"));

  TempDir empty("pgbr-not-data");
  RunResult notData = cluster.agent({"--pg1-path=" + empty.path().string(), "stanza-create"});
  CHECK(notData.exitCode == 20);
  CHECK_MESSAGE(contains(notData.err, "pg1-path '" + empty.path().string() + "' is not a PostgreSQL data directory"),
                notData.err);

  PgCluster other;  // another cluster's data directory, not running
  RunResult otherData = cluster.agent({"--pg1-path=" + other.dataDirectory().string(), "stanza-create"});
  CHECK(otherData.exitCode == 52);
  CHECK_MESSAGE(contains(otherData.err, "is not the data directory of the PostgreSQL server at socket directory"),
                otherData.err);

  // The other cluster, running, claims the stanza: the repository refuses it.
  other.start();
  fs::path otherConfig =
      repo.writeAgentConfig("agent",
                            fmt::format("\n[main]\npg1-path={}\npg1-port={}\npg1-socket-path={}\npg1-user=postgres\n",
                                        other.dataDirectory().string(), other.port(), other.socketDirectory().string()),
                            repo.dir() / "other.conf");
  RunResult claimed =
      run({agentBinary().string(), "--config=" + otherConfig.string(), "--stanza=main", "stanza-create"});
  CHECK(claimed.exitCode == 52);
  CHECK_MESSAGE(contains(claimed.err, other.controldataValue("Database system identifier")), claimed.err);

  std::string info = cluster.agentOk({"info"});
  CHECK(contains(info, "stanza: main"));
  CHECK(contains(info, "status: error (no valid backups)"));
}

TEST_CASE(
    "a second backup while one runs is refused, an interrupted one releases the lock, and no server means pg-connect") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "1"});

  // With archiving failing, the first backup waits for its WAL while holding the stanza's lock.
  pg.psql("ALTER SYSTEM SET archive_command = 'false'");
  pg.psql("SELECT pg_reload_conf()");
  fs::path firstOutput = repo.dir() / "first-backup.out";
  Child first({agentBinary().string(), "--config=" + cluster.config().string(), "--stanza=main",
               "--log-level-console=info", "--archive-timeout=900", "--type=full", "backup"},
              firstOutput);
  bool waiting = waitUntil([&] {
    return contains(outputOf(firstOutput), "waiting for the repository to receive the WAL") || !first.running();
  });
  REQUIRE_MESSAGE(waiting, outputOf(firstOutput));
  REQUIRE_MESSAGE(first.running(), outputOf(firstOutput));

  RunResult second = cluster.agent({"--type=full", "backup"});
  CHECK(second.exitCode == 61);
  CHECK_MESSAGE(contains(second.err, "backup-in-progress"), second.err);

  // Interrupted, the first backup gives up at once and the repository releases its lock.
  first.signal(SIGINT);
  auto interrupted = first.wait(std::chrono::seconds(300));
  CHECK_MESSAGE(interrupted == 45, outputOf(firstOutput));
  CHECK_MESSAGE(contains(outputOf(firstOutput), "interrupted by signal"), outputOf(firstOutput));

  pg.psql("ALTER SYSTEM RESET archive_command");
  pg.psql("SELECT pg_reload_conf()");
  // The server notices the disconnection at its next look at the archive and then drops the lock.
  RunResult third;
  bool done = waitUntil([&] {
    third = cluster.agent({"--type=full", "backup"});
    return third.exitCode != 61;
  });
  REQUIRE_MESSAGE((done && third.exitCode == 0), describeRun("backup after the interrupted one", third));
  std::string label(trim(third.out));

  std::string info = cluster.agentOk({"info"});
  CHECK(contains(info, "status: ok"));
  CHECK(contains(info, "full backup: " + label));
  auto json = nlohmann::json::parse(cluster.agentOk({"--output=json", "info"}));
  REQUIRE(json.size() == 1);
  CHECK(json[0]["backups"][0]["label"] == label);
  CHECK(json[0]["backups"][0]["files"].get<uint64_t>() > 900);

  pg.stop();
  RunResult down = cluster.agent({"--type=full", "backup"});
  CHECK(down.exitCode == 50);
  CHECK_MESSAGE(
      contains(down.err, fmt::format("socket directory '{}' port {}", pg.socketDirectory().string(), pg.port())),
      down.err);
}

TEST_CASE("archive-push refuses another cluster's segment and archive-get fetches exactly what was pushed") {
  RepoFixture repo;
  AgentCluster cluster(repo);
  cluster.pg().start();
  cluster.agentOk({"stanza-create"});

  PgCluster other;  // initdb wrote its first segment with its own system identifier
  fs::path foreign = other.dataDirectory() / "pg_wal" / "000000010000000000000001";
  RunResult pushed = cluster.agentAsPostgres({"archive-push", foreign.string()});
  CHECK(pushed.exitCode == 52);
  CHECK_MESSAGE(contains(pushed.err, other.controldataValue("Database system identifier")), pushed.err);
  CHECK_MESSAGE(contains(pushed.err, cluster.pg().controldataValue("Database system identifier")), pushed.err);

  TempDir files("pgbr-archive-files");
  fs::path fetched = files.path() / "RECOVERYXLOG";
  RunResult missing = cluster.agentAsPostgres({"archive-get", "0000000100000000000000AA", fetched.string()});
  CHECK(missing.exitCode == 1);
  CHECK(missing.err.empty());
  CHECK_FALSE(fs::exists(fetched));

  // A history file is archived as it is (no header check) and must come back byte for byte.
  fs::path history = files.path() / "00000007.history";
  writeFile(history, "1\t0/3000000\tno recovery target specified\n");
  fs::permissions(files.path(), fs::perms::all);
  for (int i = 0; i < 2; ++i) {  // the second time identical: a success without a write
    RunResult push = cluster.agentAsPostgres({"archive-push", history.string()});
    REQUIRE_MESSAGE(push.exitCode == 0, describeRun("archive-push", push));
  }
  RunResult got = cluster.agentAsPostgres({"archive-get", "00000007.history", fetched.string()});
  REQUIRE_MESSAGE(got.exitCode == 0, describeRun("archive-get", got));
  CHECK(readFile(fetched) == readFile(history));
  CHECK_FALSE(fs::exists(fetched.string() + ".pgbr-tmp"));

  writeFile(history, "1\t0/4000000\tanother history\n");
  RunResult conflict = cluster.agentAsPostgres({"archive-push", history.string()});
  CHECK(conflict.exitCode == 63);

  // A damaged archive copy is refused naming the file, and PostgreSQL gets nothing.
  int stored = 0;
  for (const auto& entry : fs::recursive_directory_iterator(repo.repoPath() / "stanzas"))
    if (entry.is_regular_file() && entry.path().filename().string().starts_with("00000007.history.")) {
      flipByte(entry.path(), 48 + 3);
      ++stored;
    }
  REQUIRE(stored == 1);
  fs::path damaged = files.path() / "RECOVERYHISTORY";
  RunResult corrupt = cluster.agentAsPostgres({"archive-get", "00000007.history", damaged.string()});
  CHECK(corrupt.exitCode == 31);
  CHECK_MESSAGE(contains(corrupt.err, "00000007.history"), corrupt.err);
  CHECK_FALSE(fs::exists(damaged));
  CHECK_FALSE(fs::exists(damaged.string() + ".pgbr-tmp"));

  // The cluster's own segments arrive through archive_command, and come back intact.
  cluster.switchWalAndWaitArchived();
  std::string segment = cluster.pg().psql("SELECT last_archived_wal FROM pg_stat_archiver");
  fs::path restoredSegment = files.path() / "segment";
  RunResult wal = cluster.agentAsPostgres({"archive-get", segment, restoredSegment.string()});
  REQUIRE_MESSAGE(wal.exitCode == 0, describeRun("archive-get", wal));
  CHECK(fs::file_size(restoredSegment) == 16u * 1024 * 1024);
}

TEST_CASE("restores need an empty pg1-path and a certificate granted the stanza, and refuse a corrupted pack") {
  RepoFixture repo({.auth = {{"agent", "*"}, {"restorer", "main"}, {"stranger", "other"}}});
  AgentCluster cluster(repo, "start-fast=y\nprocess-max=2\n");
  cluster.pg().start();
  cluster.agentOk({"stanza-create"});
  cluster.pg().pgbench({"-i", "-s", "1"});
  std::string label(trim(cluster.agentOk({"--type=full", "backup"})));

  TempDir elsewhere("pgbr-restore-elsewhere");
  writeFile(elsewhere.path() / "full" / "PG_VERSION", "15\n");
  RunResult notEmpty = cluster.agent({"--pg1-path=" + (elsewhere.path() / "full").string(), "restore"});
  CHECK(notEmpty.exitCode == 24);
  CHECK_MESSAGE(contains(notEmpty.err, "pg1-path '" + (elsewhere.path() / "full").string() + "' is not empty"),
                notEmpty.err);
  CHECK_MESSAGE(contains(notEmpty.err, "stop PostgreSQL and use --delta"), notEmpty.err);

  // Another host's certificate restores when it is granted the stanza, and is refused when not.
  for (std::string cn : {"restorer", "stranger"}) {
    fs::path config = repo.writeAgentConfig(cn, "", repo.dir() / (cn + ".conf"));
    RunResult result = run({agentBinary().string(), "--config=" + config.string(), "--stanza=main",
                            "--pg1-path=" + (elsewhere.path() / cn).string(), "restore"});
    if (cn == "restorer") {
      CHECK_MESSAGE(result.exitCode == 0, describeRun("restore as " + cn, result));
      CHECK(fs::exists(elsewhere.path() / cn / "global" / "pg_control"));
    } else {
      CHECK(result.exitCode == 42);
    }
  }

  // One byte in the first envelope's payload of every pack (packs start with a 16-byte header,
  // envelopes with a 48-byte one).
  int packs = 0;
  for (const auto& entry : fs::recursive_directory_iterator(repo.repoPath() / "packs"))
    if (entry.is_regular_file() && entry.path().extension() == ".pack") {
      flipByte(entry.path(), 16 + 48 + 7);
      ++packs;
    }
  REQUIRE(packs > 0);

  RestoredCluster restored;
  RunResult result = cluster.agent({"--pg1-path=" + restored.dataDirectory().string(), "--set=" + label, "restore"});
  CHECK(result.exitCode == 31);
  std::string named = between(result.err, "cannot restore '", '\'');
  REQUIRE_MESSAGE(!named.empty(), result.err);
  INFO("named file: ", named);
  // The restore never finished: PostgreSQL cannot be started on what it left.
  CHECK_FALSE(fs::exists(restored.dataDirectory() / "global" / "pg_control"));
  CHECK_FALSE(fs::exists(restored.dataDirectory() / "backup_label"));
  // What was written of the named file is zero (never written) or valid pages, never the damage.
  fs::path file = restored.dataDirectory() / named;
  auto relation = pg::parseRelationFileName(file.filename().string());
  if (fs::exists(file) && relation) {
    std::string bytes = readFile(file);
    for (size_t page = 0; (page + 1) * pg::kPageSize <= bytes.size(); ++page) {
      std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(bytes.data()) + page * pg::kPageSize,
                                    pg::kPageSize);
      auto check = pg::checkPage(data, relation->blockNumber(static_cast<uint32_t>(page)), {.checksums = true});
      CHECK_MESSAGE(check.ok(), "page ", page, " of ", named, " is ", pg::pageStateName(check.state));
    }
  }
}

TEST_CASE("a page with a bad checksum is reported and recorded, and the backup still completes") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.psql(
      "CREATE TABLE damaged (id int, payload text); INSERT INTO damaged SELECT i, md5(i::text) FROM "
      "generate_series(1, 5000) i; CHECKPOINT;");
  std::string file = pg.psql("SELECT pg_relation_filepath('damaged')");
  // Damage a tuple of block 1 while the server is down; nothing reads the table afterwards.
  pg.stop();
  flipByte(pg.dataDirectory() / file, pg::kPageSize + 4000);
  pg.start();

  RunResult backup = cluster.agent({"--type=full", "backup"});
  REQUIRE_MESSAGE(backup.exitCode == 0, describeRun("backup", backup));
  CHECK_MESSAGE(contains(backup.err, "invalid page checksums found in file " + file + " at blocks 1"), backup.err);
  auto json = nlohmann::json::parse(cluster.agentOk({"--output=json", "info"}));
  CHECK(json[0]["backups"][0]["pageErrors"] == 1);
  CHECK(contains(cluster.agentOk({"info"}), "page checksum errors: 1"));
}
