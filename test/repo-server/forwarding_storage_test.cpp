// Forwarding (repo-server/forwarding_storage.h) on in-memory repositories: order, persistence
// of the queue across restarts, catching up, removals, fall-back reads and retries after a
// failing target.
#include "repo-server/forwarding_storage.h"

#include "common/error.h"
#include "common/storage/fault_storage.h"
#include "common/storage/memory_storage.h"
#include "test/common/storage/storage_test_util.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <mutex>

using namespace pgbr;
using namespace pgbr::repo;
using pgbr::test::bytesOf;

namespace {

// A target that records the order of the objects it receives.
class RecordingStorage final : public Storage {
 public:
  std::string describe(std::string_view path) const override { return "recorded:" + std::string(path); }
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset,
                                          std::optional<uint64_t> length) override {
    return inner.openRead(path, offset, length);
  }
  WriteResult write(std::string_view path, std::span<const uint8_t> data, WriteMode mode) override {
    record(path);
    return inner.write(path, data, mode);
  }
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode) override {
    record(path);
    return inner.openWrite(path, mode);
  }
  std::vector<ListEntry> list(std::string_view directory, bool recursive) override {
    return inner.list(directory, recursive);
  }
  bool exists(std::string_view path) override { return inner.exists(path); }
  std::optional<ObjectInfo> info(std::string_view path) override { return inner.info(path); }
  bool remove(std::string_view path) override { return inner.remove(path); }
  void removeTree(std::string_view path) override { inner.removeTree(path); }
  void createDirectory(std::string_view path) override { inner.createDirectory(path); }

  std::vector<std::string> order() {
    std::lock_guard lock(mutex);
    return received;
  }

  MemoryStorage inner;

 private:
  void record(std::string_view path) {
    std::lock_guard lock(mutex);
    received.emplace_back(path);
  }
  std::mutex mutex;
  std::vector<std::string> received;
};

ForwardingOptions fastRetries() {
  ForwardingOptions options;
  options.firstRetryDelay = std::chrono::milliseconds(10);
  options.maxRetryDelay = std::chrono::milliseconds(50);
  return options;
}

constexpr auto kWait = std::chrono::seconds(60);

}  // namespace

TEST_CASE("forwarding copies committed objects to the target in the order they were written") {
  test::TempDir queues;
  MemoryStorage primary;
  RecordingStorage target;
  ForwardingStorage forwarding(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
  forwarding.start();
  forwarding.write("packs/ab/ab12.pack", bytesOf("pack"));
  forwarding.write("index/ab12.idx", bytesOf("index"));
  auto manifest = forwarding.openWrite("stanzas/main/backups/L.manifest", WriteMode::IfAbsent);
  manifest->write(bytesOf("manifest"));
  CHECK(forwarding.exists("packs/ab/ab12.pack"));
  manifest->finish();
  REQUIRE(forwarding.waitIdle(kWait));
  CHECK(target.order() ==
        std::vector<std::string>{"packs/ab/ab12.pack", "index/ab12.idx", "stanzas/main/backups/L.manifest"});
  CHECK(target.inner.read("stanzas/main/backups/L.manifest") == bytesOf("manifest"));
  auto status = forwarding.status();
  REQUIRE(status.size() == 1);
  CHECK(status[0]["name"] == "repo2");
  CHECK(status[0]["pending"] == 0);
  CHECK(status[0]["forwarded"] == 3);
}

TEST_CASE("the forward queue survives a restart and is applied after it") {
  test::TempDir queues;
  MemoryStorage primary;
  MemoryStorage target;
  {
    ForwardingStorage stopped(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
    stopped.write("keys/key-1.json", bytesOf("key"));
    stopped.write("pgbr-repository.json", bytesOf("{}"));
    CHECK(stopped.status()[0]["pending"] == 2);
  }  // never started: a crash before forwarding
  CHECK(target.list("", true).empty());
  ForwardingStorage restarted(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
  CHECK(restarted.status()[0]["pending"] == 2);
  restarted.start();
  REQUIRE(restarted.waitIdle(kWait));
  CHECK(target.read("pgbr-repository.json") == bytesOf("{}"));
  CHECK(target.read("keys/key-1.json") == bytesOf("key"));
}

TEST_CASE("a target added later catches up in dependency order, and queue files are not repository objects") {
  test::TempDir queues;
  MemoryStorage primary;
  primary.write("stanzas/main/backups/L.manifest", bytesOf("m"));
  primary.write("pgbr-repository.json", bytesOf("{}"));
  primary.write("index/1.idx", bytesOf("i"));
  primary.write("packs/01/1.pack", bytesOf("p"));
  primary.write("keys/key-1.json", bytesOf("k"));
  primary.write("stanzas/main/wal/1/0000000100000000/000000010000000000000001.abc.wal", bytesOf("w"));
  RecordingStorage target;
  target.inner.write("packs/01/1.pack", bytesOf("p"));  // already there: not sent again
  ForwardingStorage forwarding(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
  forwarding.start();
  REQUIRE(forwarding.waitIdle(kWait));
  CHECK(target.order() == std::vector<std::string>{"keys/key-1.json", "index/1.idx",
                                                   "stanzas/main/wal/1/0000000100000000/000000010000000000000001.abc.wal",
                                                   "pgbr-repository.json", "stanzas/main/backups/L.manifest"});
}

TEST_CASE("a removal is forwarded after the writes before it") {
  test::TempDir queues;
  MemoryStorage primary;
  MemoryStorage target;
  ForwardingStorage forwarding(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
  forwarding.start();
  forwarding.write("index/old.idx", bytesOf("old"));
  forwarding.write("index/merged.idx", bytesOf("merged"));
  CHECK(forwarding.remove("index/old.idx"));
  REQUIRE(forwarding.waitIdle(kWait));
  CHECK(test::entryPaths(target.list("index")) == std::vector<std::string>{"merged.idx"});
}

TEST_CASE("reads of objects the primary lacks fall back to the target, and packs/ lists both") {
  test::TempDir queues;
  MemoryStorage primary;
  MemoryStorage target;
  primary.write("packs/aa/local.pack", bytesOf("local"));
  target.write("packs/aa/local.pack", bytesOf("local"));
  target.write("packs/bb/remote.pack", bytesOf("remote pack"));
  target.write("stanzas/main/backups/L.manifest", bytesOf("m"));
  ForwardingStorage forwarding(primary, {{"repo2", &target}}, queues.path().string(), fastRetries());
  CHECK(forwarding.read("packs/bb/remote.pack") == bytesOf("remote pack"));
  auto reader = forwarding.openRead("packs/bb/remote.pack", 7, 4);
  CHECK(readAll(*reader) == bytesOf("pack"));
  CHECK(forwarding.exists("packs/bb/remote.pack"));
  CHECK(forwarding.info("packs/bb/remote.pack")->size == 11);
  CHECK(test::entryPaths(forwarding.list("packs", true)) == std::vector<std::string>{"aa/local.pack", "bb/remote.pack"});
  // Other directories are the primary's.
  CHECK(forwarding.list("stanzas/main/backups").empty());
  CHECK(test::errorCodeOf([&] { forwarding.read("packs/cc/nowhere.pack"); }) == ErrorCode::FileMissing);
}

TEST_CASE("a failing target is retried until it works, its error visible meanwhile") {
  test::TempDir queues;
  MemoryStorage primary;
  MemoryStorage target;
  FaultStorage flaky(target, FaultPlan{.failWriteCall = 1, .error = EIO});
  ForwardingStorage forwarding(primary, {{"repo2", &flaky}}, queues.path().string(), fastRetries());
  forwarding.write("packs/aa/1.pack", bytesOf("data"));
  forwarding.start();
  REQUIRE(forwarding.waitIdle(kWait));
  CHECK(target.read("packs/aa/1.pack") == bytesOf("data"));
  CHECK(flaky.writeCalls() >= 2);
  CHECK(forwarding.status()[0]["lastError"] == "");
}

TEST_CASE("dependency ranks put packs before index segments before manifests") {
  CHECK(forwardRank("keys/key-1.json") < forwardRank("packs/aa/x.pack"));
  CHECK(forwardRank("packs/aa/x.pack") < forwardRank("index/x.idx"));
  CHECK(forwardRank("index/x.idx") < forwardRank("stanzas/main/identity/0001.json"));
  CHECK(forwardRank("stanzas/main/wal/1/x.wal") < forwardRank("pgbr-repository.json"));
  CHECK(forwardRank("pgbr-repository.json") < forwardRank("stanzas/main/backups/L.manifest"));
}
