// What a repository server does when its filesystem fills up: the backup that runs into the full
// disk fails with an error that says so, nothing of it is committed, the server keeps serving,
// and the backup taken before still restores. The repository lives on a small tmpfs mounted for
// the test (CI runs as root).
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/mount.h>

#include <cstring>
#include <filesystem>

using namespace pgbr;
using namespace pgbr::test;
namespace fs = std::filesystem;

namespace {

// A tmpfs of a given size, unmounted (lazily, so a leftover open file cannot keep it) at the end.
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& where, const std::string& size) : path_(where) {
    fs::create_directories(where);
    std::string options = "size=" + size + ",mode=0755";
    mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool mounted_ = false;
  std::string why_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Rows of incompressible data: compression cannot hide them from the filesystem.
void insertRandom(PgCluster& pg, int fromRow, int rows) {
  pg.psql(fmt::format(
      "INSERT INTO public.noise SELECT g, public.gen_random_bytes(1024) || public.gen_random_bytes(1024) || "
      "public.gen_random_bytes(1024) || public.gen_random_bytes(1024) FROM generate_series({}, {}) g",
      fromRow, fromRow + rows - 1));
}

}  // namespace

TEST_CASE("a full repository filesystem fails the backup clearly and loses nothing already stored") {
  TempDir scratch("pgbr-tmpfs");
  TmpfsMount mount(scratch / "repo", "40m");
  REQUIRE_MESSAGE(mount.mounted(), "cannot mount a tmpfs (this test needs root): " << mount.why());

  RepoFixture repo({.repoPath = mount.path()});
  AgentCluster cluster(repo);
  cluster.pg().start();
  cluster.pg().psql(
      "CREATE EXTENSION pgcrypto; CREATE TABLE public.noise (id int PRIMARY KEY, payload bytea);"
      "ALTER TABLE public.noise ALTER payload SET STORAGE EXTERNAL");
  insertRandom(cluster.pg(), 1, 1000);  // 4 MB
  cluster.agentOk({"stanza-create"});
  std::string first = cluster.agentOk({"--start-fast", "--type=full", "backup"});
  first = first.substr(0, first.find('\n'));
  REQUIRE_FALSE(first.empty());

  insertRandom(cluster.pg(), 1001, 12000);  // 48 MB: more than the repository's filesystem holds
  RunResult full = cluster.agent({"--start-fast", "--type=full", "--archive-timeout=30", "backup"});
  CHECK(full.exitCode == 23);  // file-write
  CHECK_MESSAGE((contains(full.err, "filesystem is full") || contains(full.err, "No space left on device")),
                describeRun("backup on a full repository", full));

  // The server is still up, and the only committed backup is the first one.
  cluster.agentOk({"server-ping"});
  auto info = nlohmann::json::parse(cluster.agentOk({"--output=json", "info"}));
  auto backups = info.at(0).at("backups");
  REQUIRE(backups.size() == 1);
  CHECK(backups.at(0).at("label") == first);

  // The first backup restores, consistent at its end: exactly its 1000 rows.
  RestoredCluster restored;
  RunResult restore = cluster.agent({"--pg1-path=" + restored.dataDirectory().string(), "--set=" + first,
                                     "--type=immediate", "--target-action=promote", "restore"});
  REQUIRE_MESSAGE(restore.exitCode == 0, describeRun("restore", restore));
  restored.startAndWaitForRecovery();
  CHECK(restored.pg().psql("SELECT count(*) FROM public.noise") == "1000");
  CHECK(restored.pg().amcheck().ok);
}
