// The verify command end to end: a repository that went through backups, WAL archiving and a
// server killed in the middle of a backup verifies clean; a damaged pack and an altered WAL file
// are each reported, naming the object, with exit code corrupt.
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string outputOf(const fs::path& file) { return fs::exists(file) ? readFile(file) : std::string(); }

void flipByte(const fs::path& file, uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(stream);
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.get(byte);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.put(static_cast<char>(byte ^ 0x01));
  REQUIRE(stream);
}

std::vector<fs::path> filesUnder(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().string().ends_with(suffix)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("verify passes after backups, archiving and a server killed in the middle of a backup") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "2"});
  cluster.agentOk({"--type=full", "backup"});

  // A second backup holds its chunks in the repository while it waits for WAL that cannot
  // come (archiving fails); then the server dies.
  pg.psql("ALTER SYSTEM SET archive_command = 'false'");
  pg.psql("SELECT pg_reload_conf()");
  pg.pgbench({"-n", "-t", "200"});
  fs::path output = repo.dir() / "killed-backup.out";
  Child backup({agentBinary().string(), "--config=" + cluster.config().string(), "--stanza=main",
                "--log-level-console=info", "--archive-timeout=900", "--type=full", "backup"},
               output);
  bool waiting = waitUntil([&] {
    return contains(outputOf(output), "waiting for the repository to receive the WAL") || !backup.running();
  });
  REQUIRE_MESSAGE(waiting, outputOf(output));
  repo.kill();
  CHECK(backup.wait(std::chrono::seconds(300)).value_or(0) != 0);
  pg.psql("ALTER SYSTEM RESET archive_command");
  pg.psql("SELECT pg_reload_conf()");
  repo.start();

  cluster.agentOk({"--type=full", "backup"});
  cluster.switchWalAndWaitArchived();
  RunResult verify = cluster.agent({"verify"});
  CHECK_MESSAGE(verify.exitCode == 0, describeRun("verify", verify));
  CHECK(contains(verify.out, "status: ok"));
  auto json = nlohmann::json::parse(cluster.agentOk({"--output=json", "verify"}));
  CHECK(json.at("summary").at("errors") == 0);
  CHECK(json.at("summary").at("manifests") == 2);  // the killed backup was never committed
  CHECK(json.at("summary").at("packs").get<uint64_t>() > 0);
  CHECK(json.at("summary").at("walFiles").get<uint64_t>() > 0);
}

TEST_CASE("verify names a damaged pack and an altered WAL file") {
  RepoFixture repo;
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "1"});
  cluster.agentOk({"--type=full", "backup"});
  cluster.switchWalAndWaitArchived();
  REQUIRE(cluster.agent({"verify"}).exitCode == 0);

  auto packs = filesUnder(repo.repoPath() / "packs", ".pack");
  REQUIRE_FALSE(packs.empty());
  flipByte(packs.front(), fs::file_size(packs.front()) / 2);
  auto wal = filesUnder(repo.repoPath() / "stanzas" / "main" / "wal", ".wal");
  REQUIRE_FALSE(wal.empty());
  flipByte(wal.front(), fs::file_size(wal.front()) - 20);

  RunResult verify = cluster.agent({"verify"});
  CHECK(verify.exitCode == 31);
  CHECK_MESSAGE(contains(verify.out, "ERROR pack packs/" + packs.front().parent_path().filename().string() + "/" +
                                         packs.front().filename().string()),
                describeRun("verify", verify));
  std::string segment = wal.front().filename().string().substr(0, 24);
  CHECK_MESSAGE(contains(verify.out, "ERROR WAL main/" + segment), describeRun("verify", verify));
  CHECK(contains(verify.err, "verify found"));
}
