// Forwarding to an object store end to end (DESIGN §8, docs/object-stores.md): a pgbr-repo with
// repo1 on its disk and repo2 on S3 (s3rver on loopback) forwards the packs, index segments,
// manifests, WAL and keys of a backup; with its local packs gone, or its whole disk gone, a
// restore still works through repo2 and verify passes.
#include "test/integration/agent_cluster.h"

#include "common/objectstore/s3_storage.h"
#include "test/support/object_store_servers.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "forwarded";

std::vector<std::string> repo2Options(const S3rverServer& s3) {
  return {"repo2-type=s3",
          std::string("repo2-path=/") + kPrefix,
          std::string("repo2-s3-bucket=") + S3rverServer::kBucket,
          "repo2-s3-endpoint=" + s3.endpoint(),
          "repo2-s3-region=us-east-1",
          std::string("repo2-s3-key=") + S3rverServer::kAccessKey,
          std::string("repo2-s3-key-secret=") + S3rverServer::kSecretKey,
          "repo2-s3-uri-style=path"};
}

objectstore::S3Storage bucketOf(const S3rverServer& s3) {
  objectstore::S3Settings settings;
  settings.bucket = S3rverServer::kBucket;
  settings.endpoint = objectstore::parseEndpoint(s3.endpoint(), "endpoint");
  settings.uriStyle = objectstore::UriStyle::Path;
  settings.credentials = {S3rverServer::kAccessKey, S3rverServer::kSecretKey, ""};
  settings.prefix = kPrefix;
  return objectstore::S3Storage(settings);
}

// The repository's objects below a directory of the local repository, as relative paths.
std::set<std::string> localObjects(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string path = fs::relative(entry.path(), root).string();
    if (path == "pgbr-repository.lock" || path.starts_with("forward/")) continue;
    out.insert(path);
  }
  return out;
}

// Waits until every object of the local repository is in the bucket and the queue is empty.
bool forwarded(const fs::path& repoPath, objectstore::S3Storage& bucket) {
  return waitUntil([&] {
    std::set<std::string> remote;
    for (const auto& entry : bucket.list("", true)) remote.insert(entry.path);
    for (const auto& path : localObjects(repoPath))
      if (!remote.contains(path)) return false;
    return !fs::exists(repoPath / "forward" / "repo2") || fs::is_empty(repoPath / "forward" / "repo2");
  });
}

std::string restoreAndCount(AgentCluster& cluster) {
  RestoredCluster restored;
  cluster.agentOk({"--pg1-path=" + restored.dataDirectory().string(), "--archive-mode=off", "restore"});
  restored.startAndWaitForRecovery();
  return restored.pg().psql("SELECT count(*) FROM pgbench_accounts");
}

}  // namespace

TEST_CASE("a server forwards a backup and its WAL to S3 and restores from there once its packs are lost") {
  S3rverServer s3;
  auto bucket = bucketOf(s3);
  RepoFixtureOptions options;
  options.serverOptions = repo2Options(s3);
  RepoFixture repo(options);
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "2"});
  cluster.agentOk({"--type=full", "backup"});
  cluster.switchWalAndWaitArchived();

  REQUIRE_MESSAGE(forwarded(repo.repoPath(), bucket), repo.output());
  CHECK(bucket.exists("pgbr-repository.json"));
  CHECK(bucket.exists("keys/key-1.json"));
  CHECK_FALSE(bucket.list("packs", true).empty());
  CHECK_FALSE(bucket.list("index").empty());
  CHECK(bucket.list("stanzas/main/backups").size() == 1);
  CHECK_FALSE(bucket.list("stanzas/main/wal", true).empty());
  auto identity = bucket.read("pgbr-repository.json");
  CHECK(std::string(identity.begin(), identity.end()) == readFile(repo.repoPath() / "pgbr-repository.json"));

  // The server's packs are lost; everything else stays.
  repo.stop();
  fs::remove_all(repo.repoPath() / "packs");
  repo.start();
  CHECK(restoreAndCount(cluster) == "200000");
  RunResult verify = cluster.agent({"verify"});
  CHECK_MESSAGE(verify.exitCode == 0, describeRun("verify", verify));
  CHECK_FALSE(fs::exists(repo.repoPath() / "packs"));  // read from repo2, not copied back
}

TEST_CASE("a server whose disk was lost recovers its repository from S3 and restores") {
  S3rverServer s3;
  auto bucket = bucketOf(s3);
  RepoFixtureOptions options;
  options.serverOptions = repo2Options(s3);
  RepoFixture repo(options);
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "1"});
  cluster.agentOk({"--type=full", "backup"});
  cluster.switchWalAndWaitArchived();
  REQUIRE_MESSAGE(forwarded(repo.repoPath(), bucket), repo.output());

  repo.stop();
  fs::remove_all(repo.repoPath());
  repo.start();
  CHECK(repo.output().find("recovering the repository's metadata") != std::string::npos);
  CHECK(restoreAndCount(cluster) == "100000");
  RunResult verify = cluster.agent({"verify"});
  CHECK_MESSAGE(verify.exitCode == 0, describeRun("verify", verify));

  // New WAL still reaches repo2 after the recovery.
  pg.psql("CREATE TABLE after_recovery AS SELECT 1 AS x");
  cluster.switchWalAndWaitArchived();
  CHECK(forwarded(repo.repoPath(), bucket));
}

TEST_CASE("a server keeps its repository in S3: backup, WAL, restore and verify") {
  S3rverServer s3;
  TempDir local("pgbr-server-path");
  RepoFixtureOptions options;
  options.repoPath = "/in-bucket";
  options.serverOptions = {"repo1-type=s3",
                           std::string("repo1-s3-bucket=") + S3rverServer::kBucket,
                           "repo1-s3-endpoint=" + s3.endpoint(),
                           "repo1-s3-region=us-east-1",
                           std::string("repo1-s3-key=") + S3rverServer::kAccessKey,
                           std::string("repo1-s3-key-secret=") + S3rverServer::kSecretKey,
                           "repo1-s3-uri-style=path",
                           "server-path=" + local.path().string()};
  RepoFixture repo(options);
  AgentCluster cluster(repo, "start-fast=y\n");
  PgCluster& pg = cluster.pg();
  pg.start();
  cluster.agentOk({"stanza-create"});
  pg.pgbench({"-i", "-s", "1"});
  cluster.agentOk({"--type=full", "backup"});
  cluster.switchWalAndWaitArchived();

  objectstore::S3Settings settings;
  settings.bucket = S3rverServer::kBucket;
  settings.endpoint = objectstore::parseEndpoint(s3.endpoint(), "endpoint");
  settings.uriStyle = objectstore::UriStyle::Path;
  settings.credentials = {S3rverServer::kAccessKey, S3rverServer::kSecretKey, ""};
  settings.prefix = "in-bucket";
  objectstore::S3Storage bucket(settings);
  CHECK(bucket.exists("pgbr-repository.json"));
  CHECK(bucket.list("stanzas/main/backups").size() == 1);
  CHECK_FALSE(bucket.list("packs", true).empty());
  CHECK(fs::exists(local.path() / "pgbr-server.lock"));
  CHECK_FALSE(fs::exists(local.path() / "packs"));

  // A restart reads the index segments back (from the local cache) and the backup restores.
  repo.restart();
  CHECK(restoreAndCount(cluster) == "100000");
  RunResult verify = cluster.agent({"verify"});
  CHECK_MESSAGE(verify.exitCode == 0, describeRun("verify", verify));
}
