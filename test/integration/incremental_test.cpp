// Page-level incrementals end to end (DESIGN §5): a real PostgreSQL 15 under pgbench, a real
// pgbr-repo over mutual TLS. A full, then incr, diff and incr (by content: --delta) after rounds
// of pgbench: each backup restores on its own (its manifest alone) to a cluster whose pg_dumpall
// equals the original's at that backup's end, also once the full's manifest is gone from the
// repository; an incr after a little pgbench stores a small fraction of what the full stored.
// And an incr whose agent is killed half way resumes: the next incr does not send again what
// the repository already holds, and restores correctly.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Bytes the repository holds for backups, as `du` would count them: packs, their index segments
// and the manifests (not the WAL archive, which grows with the workload, not with the backups).
uint64_t backupBytes(const fs::path& repo) {
  uint64_t total = 0;
  for (const fs::path& dir : {repo / "packs", repo / "index", repo / "stanzas" / "main" / "backups"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

// The backup summary the agent logs: what follows "committed: " on its line.
std::string summaryOf(const std::string& output) {
  size_t start = output.find("committed: ");
  return start == std::string::npos ? std::string() : output.substr(start, output.find('\n', start) - start);
}

// N in the backup summary's "N already stored", 0 when absent.
uint64_t storedCount(const std::string& summary) {
  size_t at = summary.find(" already stored");
  if (at == std::string::npos) return 0;
  size_t start = at;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(summary[start - 1]))) --start;
  return start == at ? 0 : std::stoull(summary.substr(start, at - start));
}

struct Taken {
  std::string label;
  std::string dump;       // pg_dumpall at the backup's end
  uint64_t growth = 0;    // bytes the repository grew by (backupBytes)
  std::string summary;    // the agent's info output
};

// Takes a backup of `type` while nothing writes, so the cluster at the backup's end is the
// cluster as dumped right after it.
Taken take(AgentCluster& cluster, RepoFixture& repo, const std::string& type, bool delta = false) {
  uint64_t before = backupBytes(repo.repoPath());
  std::vector<std::string> args = {"--log-level-console=info", "--type=" + type, "backup"};
  if (delta) args.insert(args.begin(), "--delta");
  RunResult result = cluster.agent(args);
  REQUIRE_MESSAGE(result.exitCode == 0, (describeRun(type + " backup", result) + "\nserver:\n" + repo.output()));
  Taken taken;
  taken.label = std::string(trim(result.out));
  taken.summary = result.err;
  cluster.switchWalAndWaitArchived();
  taken.growth = backupBytes(repo.repoPath()) - before;
  taken.dump = comparableDump(cluster.pg().dumpall());
  MESSAGE(type, " backup ", taken.label, ": packs, index and manifests grew by ", taken.growth, " bytes; ",
          summaryOf(result.err));
  return taken;
}

// Restores `label` alone into a new cluster, recovers to its consistency point and compares.
void checkRestore(AgentCluster& cluster, const Taken& taken) {
  RestoredCluster restored;
  cluster.agentOk({"--pg1-path=" + restored.dataDirectory().string(), "--archive-mode=off", "--type=immediate",
                   "--target-action=promote", "--set=" + taken.label, "restore"});
  restored.startAndWaitForRecovery();
  std::string actual = comparableDump(restored.pg().dumpall());
  if (actual != taken.dump) {
    writeFile(fs::temp_directory_path() / ("pgbr-dump-expected-" + taken.label + ".sql"), taken.dump);
    writeFile(fs::temp_directory_path() / ("pgbr-dump-actual-" + taken.label + ".sql"), actual);
  }
  CHECK_MESSAGE(actual == taken.dump, "backup ", taken.label,
                " restored differs from the original at its end: see pgbr-dump-*-", taken.label,
                ".sql in the temporary directory");
  auto check = restored.pg().amcheck();
  CHECK_MESSAGE(check.ok, check.output);
}

// Random updates, as a workload touching a few pages in nearly every chunk.
void runPgbench(PgCluster& pg, int transactionsPerClient) {
  pg.pgbench({"-c", "2", "-j", "1", "-t", std::to_string(transactionsPerClient), "-n"});
}

}  // namespace

TEST_CASE("full, incr, diff, incr under pgbench each restore on their own, also once the full's manifest is gone") {
  RepoFixture repo;
  AgentCluster cluster(repo, "compress-type=zstd\nprocess-max=2\nstart-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "3"});
  // Files written more than the timestamp margin before the full are trusted unchanged by the
  // incr when their size and mtime have not changed since.
  pg.psql("CHECKPOINT");
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // Without a full, an incr becomes a full and says why.
  Taken full = take(cluster, repo, "incr");
  CHECK(full.label.ends_with("F"));
  CHECK_MESSAGE(contains(full.summary, "taking a full backup"), full.summary);

  runPgbench(pg, 500);
  Taken incr1 = take(cluster, repo, "incr");
  CHECK(incr1.label.starts_with(full.label + "_"));
  CHECK(incr1.label.ends_with("I"));
  // Unchanged files are not read, changed relation chunks go as their changed pages.
  CHECK_MESSAGE(contains(incr1.summary, "unchanged, not read"), incr1.summary);
  CHECK_MESSAGE(contains(incr1.summary, "changed pages"), incr1.summary);

  runPgbench(pg, 500);
  Taken diff = take(cluster, repo, "diff");
  CHECK(diff.label.starts_with(full.label + "_"));
  CHECK(diff.label.ends_with("D"));

  runPgbench(pg, 500);
  // --delta trusts no timestamp: every file is read and compared by content.
  Taken incr2 = take(cluster, repo, "incr", true);
  CHECK(incr2.label.ends_with("I"));
  CHECK_MESSAGE(!contains(incr2.summary, "unchanged, not read"), incr2.summary);
  CHECK_MESSAGE(contains(incr2.summary, "changed pages"), incr2.summary);

  auto info = nlohmann::json::parse(cluster.agentOk({"--output=json", "info"}));
  auto& backups = info[0]["backups"];
  REQUIRE(backups.size() == 4);
  CHECK(backups[1]["prior"] == full.label);
  CHECK(backups[2]["prior"] == full.label);  // a diff builds on the full
  CHECK(backups[3]["prior"] == diff.label);  // an incr on the newest backup
  // What users see: a little pgbench costs the repository a small fraction of the full.
  CHECK_MESSAGE(incr1.growth * 5 < full.growth, "incr grew the repository by ", incr1.growth, ", the full by ",
                full.growth);
  CHECK_MESSAGE(incr2.growth * 5 < full.growth, "incr grew the repository by ", incr2.growth, ", the full by ",
                full.growth);
  CHECK(backups[1]["repoSize"].get<uint64_t>() * 5 < backups[0]["repoSize"].get<uint64_t>());

  checkRestore(cluster, full);
  // Every backup restores from its own manifest: the full's is not needed.
  fs::path fullManifest = repo.repoPath() / "stanzas" / "main" / "backups" / (full.label + ".manifest");
  REQUIRE(fs::exists(fullManifest));
  fs::remove(fullManifest);
  checkRestore(cluster, incr1);
  checkRestore(cluster, diff);
  checkRestore(cluster, incr2);
}

TEST_CASE("an incr whose agent is killed half way resumes without sending again what was stored") {
  RepoFixture repo;
  AgentCluster cluster(repo, "compress-type=zstd\nprocess-max=1\nstart-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "3"});
  take(cluster, repo, "full");
  const uint64_t afterFull = backupBytes(repo.repoPath());

  // Every page of pgbench_accounts changes: the incr has about 40 MiB to read and send.
  // Vacuumed and frozen now, and no autovacuum later, so the pages stay as the killed incr read
  // them and the resumed one finds the same chunks.
  pg.psql("ALTER TABLE pgbench_accounts SET (autovacuum_enabled = false)");
  pg.psql("UPDATE pgbench_accounts SET filler = md5(aid::text)");
  pg.psql("VACUUM (FREEZE) pgbench_accounts");
  pg.psql("CHECKPOINT");
  std::string file = pg.psql("SELECT pg_relation_filepath('pgbench_accounts')");
  uint64_t changed = fs::file_size(pg.dataDirectory() / file);

  fs::path output = repo.dir() / "killed-incr.out";
  Child first({agentBinary().string(), "--config=" + cluster.config().string(), "--stanza=main",
               "--log-level-console=info", "--type=incr", "backup"},
              output);
  // Killed (SIGKILL, as a crash) once it has read about half of what changed.
  fs::path io = fs::path("/proc") / std::to_string(first.pid()) / "io";
  // Polled every few milliseconds: the whole incr takes about a second on a quiet machine.
  auto readSoFar = [&]() -> uint64_t {
    std::ifstream stream(io);
    std::string key;
    uint64_t value = 0;
    while (stream >> key >> value)
      if (key == "rchar:") return value;
    return 0;
  };
  bool halfWay = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
       !halfWay && first.running() && std::chrono::steady_clock::now() < deadline;) {
    halfWay = readSoFar() > changed / 2;
    if (!halfWay) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE_MESSAGE(halfWay, readFile(output));
  first.signal(SIGKILL);
  first.wait(std::chrono::seconds(30));
  // What the killed agent had sent stays in the repository, durable.
  bool kept =
      waitUntil([&] { return backupBytes(repo.repoPath()) > afterFull + 256 * 1024; }, std::chrono::seconds(60));
  CHECK_MESSAGE(kept, "the repository holds ", backupBytes(repo.repoPath()) - afterFull,
                " bytes more after the killed incr; server:\n", repo.output());
  const uint64_t afterKill = backupBytes(repo.repoPath());

  // The server notices the lost connection and releases the stanza's lock.
  RunResult resumed;
  bool done = waitUntil([&] {
    resumed = cluster.agent({"--log-level-console=info", "--type=incr", "backup"});
    return resumed.exitCode != 61;
  });
  REQUIRE_MESSAGE((done && resumed.exitCode == 0), describeRun("the resumed incr", resumed));
  MESSAGE("the killed incr left ", afterKill - afterFull,
          " bytes in the repository; resumed: ", summaryOf(resumed.err));
  // Chunks the killed backup stored are not sent again.
  CHECK_MESSAGE(storedCount(resumed.err) >= 20, resumed.err);
  cluster.switchWalAndWaitArchived();
  Taken taken{.label = std::string(trim(resumed.out)), .dump = comparableDump(pg.dumpall())};
  CHECK(taken.label.ends_with("I"));
  checkRestore(cluster, taken);
}
