// Asynchronous archiving end to end, against a real PostgreSQL 15 (1 MiB WAL segments, so that a
// short run makes many) and a real pgbr-repo over mutual TLS: under pgbench load the .ready files
// stay few and every segment reaches the repository; with the repository stopped for 30 s
// PostgreSQL retries and archiving catches up without a gap; beyond archive-push-queue-max WAL is
// dropped with a warning in PostgreSQL's log, PostgreSQL goes on, and info and check show the gap.
// Asynchronous archive-get serves what the archive has and prefetches the following segments,
// exits 1 quietly for what it lacks, and refuses a damaged segment naming it, handing over nothing.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

PgClusterOptions smallSegments() { return {.initdbArgs = {"--wal-segsize=1"}}; }

size_t readyFiles(PgCluster& pg) {
  size_t count = 0;
  std::error_code ec;
  for (fs::directory_iterator it(pg.dataDirectory() / "pg_wal" / "archive_status", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".ready") ++count;
  return count;
}

// Inserts a row and switches to a new segment; returns the segment closed.
std::string newSegment(PgCluster& pg) {
  pg.psql("INSERT INTO filler SELECT 1");
  return pg.psql("SELECT pg_walfile_name(pg_switch_wal())");
}

bool archivedUpTo(PgCluster& pg, const std::string& segment) {
  return pg.psql("SELECT coalesce(last_archived_wal, '') >= '" + segment + "' FROM pg_stat_archiver") == "t";
}

nlohmann::json archiveInfo(AgentCluster& cluster) {
  auto info = nlohmann::json::parse(cluster.agentOk({"--output=json", "info"}));
  REQUIRE(info.size() == 1);
  return info[0]["archive"];
}

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

fs::path storedWal(RepoFixture& repo, const std::string& name) {
  for (const auto& entry : fs::recursive_directory_iterator(repo.repoPath() / "stanzas"))
    if (entry.is_regular_file() && entry.path().filename().string().starts_with(name + ".")) return entry.path();
  return {};
}

}  // namespace

TEST_CASE("asynchronous archive-push under pgbench load keeps few .ready files and loses no segment") {
  RepoFixture repo;
  AgentCluster cluster(repo, "archive-async=y\nprocess-max=2\n", "main", smallSegments());
  PgCluster& pg = cluster.pg();
  pg.start();
  // Archiving begins with the segment in use at the first start: initdb fills the ones before it
  // (several, with 1 MiB segments), and PostgreSQL never marks those for archiving.
  std::string firstArchived = pg.psql("SELECT pg_walfile_name(pg_current_wal_lsn())");
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "2"});
  // Commits without waiting for the disk, so that the load makes WAL quickly even on a slow one.
  pg.psql("ALTER SYSTEM SET synchronous_commit = off");
  pg.psql("SELECT pg_reload_conf()");

  // As fast as the machine goes: every few hundred transactions fill a 1 MiB segment.
  std::vector<std::string> argv = {(pgBinDir() / "pgbench").string(), "-h", pg.socketDirectory().string(), "-p",
                                   std::to_string(pg.port()), "-c", "2", "-j", "1", "-T", "15", "postgres"};
  Child load(argv, pg.root() / "pgbench.log", {.cwd = pg.root(), .user = "postgres"});
  size_t mostReady = 0;
  std::string firstDuringLoad = pg.psql("SELECT pg_walfile_name(pg_current_wal_lsn())");
  while (load.running()) {
    mostReady = std::max(mostReady, readyFiles(pg));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE_MESSAGE(load.wait(std::chrono::seconds(60)) == 0, readFile(pg.root() / "pgbench.log"));
  std::string last = pg.psql("SELECT pg_walfile_name(pg_switch_wal())");
  bool caughtUp = waitUntil([&] { return archivedUpTo(pg, last); });
  REQUIRE_MESSAGE(caughtUp, pg.log());
  MESSAGE("segments from ", firstDuringLoad, " to ", last, "; at most ", mostReady, " .ready files at once");
  CHECK(last > firstDuringLoad);
  // PostgreSQL's archiver stays within a few seconds of WAL (a few segments) of the load.
  CHECK(mostReady <= 64);

  auto archive = archiveInfo(cluster);
  CHECK(archive["min"].get<std::string>() <= firstArchived);
  CHECK(archive["max"].get<std::string>() >= last);
  CHECK_MESSAGE(archive["gaps"].empty(), archive.dump());
  std::string log = readFile(repo.dir() / "agent-log" / "main-archive-push-async.log");
  CHECK(contains(log, "archive-push background process started"));
  CHECK(contains(log, "pushing "));
}

TEST_CASE("with the repository server stopped for 30 s, PostgreSQL retries and archiving catches up without a gap") {
  RepoFixture repo;
  AgentCluster cluster(repo, "archive-async=y\nprocess-max=2\n", "main", smallSegments());
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.psql("CREATE TABLE filler (n int)");
  cluster.switchWalAndWaitArchived();

  repo.stop();
  std::string last;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    last = newSegment(pg);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  CHECK(pg.psql("SELECT failed_count > 0 FROM pg_stat_archiver") == "t");
  CHECK_FALSE(archivedUpTo(pg, last));
  CHECK(contains(pg.log(), "archive command failed"));

  repo.start();
  std::string after = newSegment(pg);
  bool caughtUp = waitUntil([&] { return archivedUpTo(pg, after); });
  REQUIRE_MESSAGE(caughtUp, pg.log());
  auto archive = archiveInfo(cluster);
  CHECK(archive["max"].get<std::string>() >= after);
  CHECK_MESSAGE(archive["gaps"].empty(), archive.dump());
}

TEST_CASE("beyond archive-push-queue-max WAL is dropped with a warning, and info and check report the gap") {
  RepoFixture repo;
  AgentCluster cluster(repo, "archive-async=y\narchive-push-queue-max=4MiB\n", "main", smallSegments());
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.psql("CREATE TABLE filler (n int)");
  cluster.switchWalAndWaitArchived();

  // Unreachable repository: segments pile up until there are more than 4 MiB of them, then all
  // of them go, and PostgreSQL counts them as archived.
  repo.stop();
  std::string last;
  bool dropped = waitUntil([&] {
    last = newSegment(pg);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return contains(pg.log(), "because the WAL waiting to be archived exceeded archive-push-queue-max (4.0 MiB)");
  }, std::chrono::seconds(60));  // a few segments past 4 MiB: seconds, not minutes
  REQUIRE_MESSAGE(dropped, pg.log());
  CHECK(contains(pg.log(), "dropped WAL file '0000000100000000000000"));
  CHECK(pg.psql("SELECT 1") == "1");

  // A new segment after the gap (newSegment writes a row first: pg_switch_wal() on an idle cluster
  // would not switch, and the last dropped segment would count as archived).
  repo.start();
  std::string after = newSegment(pg);
  REQUIRE_MESSAGE(waitUntil([&] { return archivedUpTo(pg, after); }), pg.log());
  auto archive = archiveInfo(cluster);
  CHECK(archive["max"].get<std::string>() >= after);
  REQUIRE_MESSAGE(!archive["gaps"].empty(), archive.dump());
  CHECK(archive["gaps"][0]["segments"].get<uint64_t>() >= 4);
  CHECK(contains(cluster.agentOk({"info"}), "wal archive gap: "));
  std::string check = cluster.agentOk({"check"});
  CHECK_MESSAGE(contains(check, "warning: the archive has a gap: "), check);
  CHECK_MESSAGE(contains(check, "check of stanza 'main' passed"), check);
}

TEST_CASE("asynchronous archive-get prefetches, exits 1 quietly for a missing segment and refuses a damaged one") {
  RepoFixture repo;
  AgentCluster cluster(repo, "archive-async=y\nprocess-max=2\narchive-get-queue-max=4MiB\n", "main", smallSegments());
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.psql("CREATE TABLE filler (n int)");
  std::vector<std::string> segments;
  for (int i = 0; i < 6; ++i) segments.push_back(newSegment(pg));
  REQUIRE(waitUntil([&] { return archivedUpTo(pg, segments.back()); }));

  TempDir files("pgbr-async-get");
  fs::permissions(files.path(), fs::perms::all);
  fs::path spool = repo.dir() / "agent-spool" / "archive" / "main" / "in";
  auto get = [&](const std::string& name, const fs::path& to) {
    return cluster.agentAsPostgres({"archive-get", name, to.string()});
  };

  // The first request fetches its segment and the three after it (4 MiB of 1 MiB segments).
  RunResult got = get(segments[0], files.path() / "RECOVERYXLOG");
  REQUIRE_MESSAGE(got.exitCode == 0, describeRun("archive-get", got));
  RunResult sync = cluster.agentAsPostgres(
      {"--no-archive-async", "archive-get", segments[0], (files.path() / "direct").string()});
  REQUIRE_MESSAGE(sync.exitCode == 0, describeRun("archive-get --no-archive-async", sync));
  CHECK(readFile(files.path() / "RECOVERYXLOG") == readFile(files.path() / "direct"));
  CHECK(waitForFile(spool / segments[3]));
  CHECK_FALSE(fs::exists(spool / segments[0]));
  got = get(segments[1], files.path() / "RECOVERYXLOG");
  REQUIRE_MESSAGE(got.exitCode == 0, describeRun("archive-get", got));
  CHECK_FALSE(fs::exists(spool / segments[1]));

  RunResult missing = get("0000000100000000000000AA", files.path() / "missing");
  CHECK(missing.exitCode == 1);
  CHECK(missing.err.empty());
  CHECK_FALSE(fs::exists(files.path() / "missing"));

  // A damaged archived segment, not fetched yet: refused by name, nothing handed over or kept.
  const std::string& damaged = segments[5];
  REQUIRE_FALSE(fs::exists(spool / damaged));
  fs::path stored = storedWal(repo, damaged);
  REQUIRE(!stored.empty());
  flipByte(stored, 48 + 100);
  RunResult corrupt = get(damaged, files.path() / "damaged");
  CHECK(corrupt.exitCode == 31);
  CHECK_MESSAGE(contains(corrupt.err, damaged), corrupt.err);
  CHECK_FALSE(fs::exists(files.path() / "damaged"));
  CHECK_FALSE(fs::exists(spool / damaged));
}

TEST_CASE("asynchronous archive-push refuses another cluster's segment naming both system identifiers") {
  RepoFixture repo;
  AgentCluster cluster(repo, "archive-async=y\n");
  cluster.pg().start();
  cluster.agentOk({"stanza-create"});

  PgCluster other;  // its first segment, marked ready as PostgreSQL would before calling archive_command
  fs::path foreign = other.dataDirectory() / "pg_wal" / "000000010000000000000001";
  writeFile(other.dataDirectory() / "pg_wal" / "archive_status" / "000000010000000000000001.ready", "");
  RunResult pushed = cluster.agentAsPostgres({"archive-push", foreign.string()});
  CHECK(pushed.exitCode == 52);
  CHECK_MESSAGE(contains(pushed.err, other.controldataValue("Database system identifier")), pushed.err);
  CHECK_MESSAGE(contains(pushed.err, cluster.pg().controldataValue("Database system identifier")), pushed.err);
  CHECK(contains(readFile(repo.dir() / "agent-log" / "main-archive-push-async.log"), "could not push WAL file"));
}
