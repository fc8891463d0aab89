// Delta restore end to end (PostgreSQL 15, pgbr-repo over mutual TLS): a cluster restored from a
// backup is started, promoted and stopped, pages of a relation file are overwritten behind
// PostgreSQL's back, stray files are added; `restore --delta` over it must give exactly what a
// fresh restore of the same backup gives (every file, byte for byte, with its mode and mtime, the
// tablespace included), remove the strays, and fetch far fewer bytes than the backup holds.
// `--force` finds a change hidden behind an unchanged size and mtime; a running cluster, a stale
// postmaster.pid and a directory that is not a data directory are refused.
#include "common/text.h"
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

struct Item {
  char type = 'f';  // f file, d directory, l link
  std::string content;  // file bytes, link target
  unsigned mode = 0;
  int64_t mtime = 0;
  bool operator==(const Item&) const = default;
};

// Every entry below a restored data directory, tablespace links followed into their directories;
// the tablespace directory's own path (which differs between two restores) is replaced by "<ts>".
void collect(const fs::path& dir, const std::string& prefix, const fs::path& tablespaces,
             std::map<std::string, Item>& out) {
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string path = prefix + entry.path().filename().string();
    struct stat st {};
    REQUIRE(::lstat(entry.path().c_str(), &st) == 0);
    Item item;
    item.mode = st.st_mode & 07777;
    item.mtime = st.st_mtim.tv_sec;
    if (S_ISLNK(st.st_mode)) {
      item.type = 'l';
      item.content = replaceAll(fs::read_symlink(entry.path()).string(), tablespaces.string(), "<ts>");
      item.mode = 0;
      item.mtime = 0;
      if (prefix == "pg_tblspc/") collect(fs::read_symlink(entry.path()), path + "/", tablespaces, out);
    } else if (S_ISDIR(st.st_mode)) {
      item.type = 'd';
      collect(entry.path(), path + "/", tablespaces, out);
    } else {
      item.content = readFile(entry.path());
      if (path == "tablespace_map") item.content = replaceAll(item.content, tablespaces.string(), "<ts>");
      // Written by the restore itself, at the time it runs.
      if (path == "backup_label" || path == "tablespace_map" || path == "postgresql.auto.conf" ||
          path == "recovery.signal")
        item.mtime = 0;
    }
    out[path] = std::move(item);
  }
}

// "" when both trees are the same, else the first differences.
std::string compareTrees(const fs::path& a, const fs::path& aSpaces, const fs::path& b, const fs::path& bSpaces) {
  std::map<std::string, Item> left, right;
  collect(a, "", aSpaces, left);
  collect(b, "", bSpaces, right);
  std::string out;
  int shown = 0;
  for (const auto& [path, item] : left) {
    auto other = right.find(path);
    if (other == right.end())
      out += "only in the delta restore: " + path + "\n";
    else if (!(other->second == item))
      out += fmt::format("differs: {} (type {}/{}, size {}/{}, mode {:o}/{:o}, mtime {}/{}, same bytes {})\n", path,
                         item.type, other->second.type, item.content.size(), other->second.content.size(), item.mode,
                         other->second.mode, item.mtime, other->second.mtime, item.content == other->second.content);
    else
      continue;
    if (++shown == 20) break;
  }
  for (const auto& [path, item] : right)
    if (!left.contains(path) && shown++ < 20) out += "only in the fresh restore: " + path + "\n";
  return out;
}

// The bytes a restore's summary line says it fetched ("fetched 1.5 MiB from the repository").
uint64_t fetchedBytes(const std::string& log) {
  std::string marker = "fetched ";
  size_t at = log.rfind(" from the repository (");
  REQUIRE_MESSAGE(at != std::string::npos, log);
  size_t start = log.rfind(marker, at);
  REQUIRE(start != std::string::npos);
  std::string text = log.substr(start + marker.size(), at - start - marker.size());
  double value = std::stod(text);
  std::string unit = text.substr(text.find(' ') + 1);
  double scale = unit == "B" ? 1 : unit == "KiB" ? 1024.0 : unit == "MiB" ? 1024.0 * 1024 : 1024.0 * 1024 * 1024;
  return static_cast<uint64_t>(value * scale);
}

void overwrite(const fs::path& file, uint64_t offset, const std::string& bytes) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(stream);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(stream.good());
}

struct Scenario {
  RepoFixture repo;
  AgentCluster cluster{repo, "start-fast=y\nprocess-max=2\n"};
  std::string label;
  fs::path location;
  uint64_t backupSize = 0;

  Scenario() {
    PgCluster& pg = cluster.pg();
    pg.start();
    cluster.agentOk({"stanza-create"});
    pg.pgbench({"-i", "-s", "2"});
    location = pg.makeTablespaceDirectory("ts1");
    pg.psql("CREATE TABLESPACE ts1 LOCATION '" + location.string() + "'");
    pg.psql(
        "CREATE TABLE spaced (id int, payload text) TABLESPACE ts1;"
        "INSERT INTO spaced SELECT i, md5(i::text) FROM generate_series(1, 50000) i;");
    // Files last written before the backup's start second: a delta restore trusts their size and mtime.
    pg.psql("CHECKPOINT");
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    label = std::string(trim(cluster.agentOk({"--type=full", "backup"})));
    cluster.switchWalAndWaitArchived();
    for (const auto& entry : fs::recursive_directory_iterator(pg.dataDirectory()))
      if (entry.is_regular_file()) backupSize += entry.file_size();
  }

  std::vector<std::string> restoreArgs(const fs::path& data, const fs::path& spaces) const {
    return {"--pg1-path=" + data.string(), "--tablespace-map-all=" + spaces.string(), "--archive-mode=off",
            "--set=" + label, "--log-level-console=info"};
  }

  RunResult restore(const fs::path& data, const fs::path& spaces, std::vector<std::string> extra) {
    auto args = restoreArgs(data, spaces);
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("restore");
    return cluster.agent(args);
  }
};

}  // namespace

TEST_CASE("a delta restore over a changed cluster equals a fresh restore and fetches only what differs") {
  Scenario s;
  RestoredCluster restored;
  TempDir spaces("pgbr-delta-spaces");
  RunResult first = s.restore(restored.dataDirectory(), spaces.path(), {});
  REQUIRE_MESSAGE(first.exitCode == 0, describeRun("restore", first));
  restored.startAndWaitForRecovery();
  std::string accounts = restored.pg().psql("SELECT pg_relation_filepath('pgbench_accounts')");
  std::string spaced = restored.pg().psql("SELECT pg_relation_filepath('spaced')");
  restored.pg().psql("INSERT INTO spaced SELECT i, 'after the restore' FROM generate_series(1, 1000) i");
  restored.pg().stop();

  // Pages changed behind PostgreSQL's back, a relation file cut short, strays here and there.
  fs::path data = restored.dataDirectory();
  for (uint64_t page : {3, 700, 1500}) overwrite(data / accounts, page * 8192 + 100, std::string(64, 'X'));
  fs::resize_file(data / spaced, fs::file_size(data / spaced) / 2);
  writeFile(data / "stray.txt", "not in the backup");
  writeFile(data / fs::path(accounts).parent_path() / "999999", std::string(8192, 'S'));
  fs::create_directories(data / "stray_dir" / "deeper");
  writeFile(data / "stray_dir" / "deeper" / "file", "x");

  RunResult delta = s.restore(data, spaces.path(), {"--delta"});
  REQUIRE_MESSAGE(delta.exitCode == 0, describeRun("restore --delta", delta));
  CHECK(trim(delta.out) == s.label);
  MESSAGE("delta restore: ", delta.err.substr(delta.err.rfind("restored backup")));
  CHECK_FALSE(fs::exists(data / "stray.txt"));
  CHECK_FALSE(fs::exists(data / "stray_dir"));
  CHECK_FALSE(fs::exists(data / fs::path(accounts).parent_path() / "999999"));
  CHECK_FALSE(fs::exists(data / "postmaster.pid"));
  CHECK(contains(delta.err, "(delta)"));
  uint64_t fetched = fetchedBytes(delta.err);
  INFO("fetched ", fetched, " of ", s.backupSize, " bytes");
  CHECK(fetched > 0);
  CHECK(fetched * 10 < s.backupSize);

  // The same backup restored fresh elsewhere: every file, mode and mtime the same.
  TempDir fresh("pgbr-delta-fresh");
  TempDir freshSpaces("pgbr-delta-fresh-spaces");
  RunResult full = s.restore(fresh.path() / "data", freshSpaces.path(), {});
  REQUIRE_MESSAGE(full.exitCode == 0, describeRun("restore", full));
  uint64_t fetchedFresh = fetchedBytes(full.err);
  MESSAGE("fresh restore fetched ", fetchedFresh, " bytes, the delta restore ", fetched);
  CHECK(fetched * 5 < fetchedFresh);
  std::string differences = compareTrees(data, spaces.path(), fresh.path() / "data", freshSpaces.path());
  CHECK_MESSAGE(differences.empty(), differences);

  // And it recovers to the backup's data, sound.
  restored.startAndWaitForRecovery();
  CHECK(restored.pg().psql("SELECT count(*) FROM pgbench_accounts") == "200000");
  CHECK(restored.pg().psql("SELECT count(*) FROM spaced") == "50000");
  auto check = restored.pg().amcheck();
  CHECK_MESSAGE(check.ok, check.output);
  restored.pg().stop();
}

TEST_CASE("--force finds a change behind an unchanged size and mtime, which --delta alone trusts") {
  Scenario s;
  TempDir dir("pgbr-delta-force");
  fs::path data = dir.path() / "data";
  fs::path spaces = dir.path() / "spaces";
  RunResult first = s.restore(data, spaces, {});
  REQUIRE_MESSAGE(first.exitCode == 0, describeRun("restore", first));

  // Damage a page of pgbench_accounts' file, then put its mtime back as touch -d would.
  fs::path victim;
  uint64_t largest = 0;
  for (const auto& entry : fs::recursive_directory_iterator(data / "base"))
    if (entry.is_regular_file() && entry.file_size() > largest) {
      largest = entry.file_size();
      victim = entry.path();
    }
  REQUIRE(largest > 16 * 8192);
  std::string before = readFile(victim);
  auto mtime = fs::last_write_time(victim);
  overwrite(victim, 9 * 8192 + 200, std::string(32, 'Z'));
  fs::last_write_time(victim, mtime);
  REQUIRE(readFile(victim) != before);

  RunResult trusting = s.restore(data, spaces, {"--delta"});
  REQUIRE_MESSAGE(trusting.exitCode == 0, describeRun("restore --delta", trusting));
  CHECK(readFile(victim) != before);  // same size and mtime: kept as it is, by design

  RunResult forced = s.restore(data, spaces, {"--delta", "--force"});
  REQUIRE_MESSAGE(forced.exitCode == 0, describeRun("restore --delta --force", forced));
  CHECK(readFile(victim) == before);
  CHECK(contains(forced.err, "1 files updated"));
  // One 256 KiB chunk (compressed) and pg_control, not the relation.
  CHECK(fetchedBytes(forced.err) < 512 * 1024);

  // --force alone is refused: it only qualifies --delta.
  RunResult alone = s.restore(data, spaces, {"--force"});
  CHECK(alone.exitCode == 12);
  CHECK_MESSAGE(contains(alone.err, "--force only goes with --delta"), alone.err);
}

TEST_CASE("a delta restore refuses a running cluster, a stale postmaster.pid and, without --force, a directory without PG_VERSION") {
  Scenario s;
  PgCluster& pg = s.cluster.pg();
  TempDir spaces("pgbr-delta-refused");
  std::string pidLine = readFile(pg.dataDirectory() / "postmaster.pid");
  std::string pid = pidLine.substr(0, pidLine.find('\n'));

  RunResult running = s.restore(pg.dataDirectory(), spaces.path(), {"--delta"});
  CHECK(running.exitCode == 53);
  CHECK_MESSAGE(contains(running.err, "PostgreSQL is running in '" + pg.dataDirectory().string() +
                                          "' (postmaster.pid names PID " + pid + ", which is alive)"),
                running.err);
  CHECK(pg.psql("SELECT count(*) FROM pgbench_branches") == "2");  // untouched

  TempDir dir("pgbr-delta-stale");
  fs::path data = dir.path() / "data";
  RunResult first = s.restore(data, spaces.path() / "a", {});
  REQUIRE_MESSAGE(first.exitCode == 0, describeRun("restore", first));
  writeFile(data / "postmaster.pid", "999999999\n" + data.string() + "\n");
  RunResult stale = s.restore(data, spaces.path() / "a", {"--delta"});
  CHECK(stale.exitCode == 53);
  CHECK_MESSAGE(contains(stale.err, "remove postmaster.pid and run the restore again"), stale.err);
  CHECK(fs::exists(data / "global" / "pg_control"));  // nothing was touched

  fs::path other = dir.path() / "not-a-cluster";
  writeFile(other / "precious.txt", "keep me");
  RunResult notData = s.restore(other, spaces.path() / "b", {"--delta"});
  CHECK(notData.exitCode == 25);
  CHECK_MESSAGE(contains(notData.err, "has no PG_VERSION"), notData.err);
  CHECK(readFile(other / "precious.txt") == "keep me");
  // With --force the operator says it is theirs to overwrite: a restore like any other.
  RunResult forced = s.restore(other, spaces.path() / "b", {"--delta", "--force"});
  REQUIRE_MESSAGE(forced.exitCode == 0, describeRun("restore --delta --force", forced));
  CHECK_MESSAGE(!fs::exists(other / "precious.txt"), forced.err);
  CHECK(fs::exists(other / "global" / "pg_control"));
  CHECK(fs::exists(other / "backup_label"));
}
