#include "repo-server/manifest_store.h"

#include "common/storage/fault_storage.h"
#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

namespace {

ManifestHeader header(const std::string& label) {
  ManifestHeader h;
  h.stanza = "main";
  h.label = label;
  h.type = "full";
  h.startLsn = "0/1000028";
  h.stopLsn = "0/2000100";
  h.timeline = 1;
  h.systemId = kSystemId;
  h.pgVersion = 15;
  h.fileCount = 2;
  return h;
}

std::vector<ManifestEntry> entries() {
  ManifestEntry dir;
  dir.type = EntryType::Directory;
  dir.path = "base";
  dir.mode = 0700;
  ManifestEntry file;
  file.path = "base/1";
  file.size = 3;
  file.checksum = "00";
  return {dir, file};
}

uint64_t write(ManifestStore& store, const ManifestHeader& h) {
  auto list = entries();
  size_t next = 0;
  return store.write(h, [&]() -> std::optional<ManifestEntry> {
    if (next == list.size()) return std::nullopt;
    return list[next++];
  });
}

}  // namespace

TEST_CASE_TEMPLATE("a manifest is written under its label, encrypted, and reads back whole", Backend, InMemory,
                   OnDisk) {
  Backend backend;
  Storage& storage = backend.storage;
  Repository repo(storage, testOptions());
  auto& store = repo.manifests();
  CHECK(write(store, header("20261125-034319F")) > 0);
  CHECK(storage.exists("stanzas/main/backups/20261125-034319F.manifest"));
  auto stored = storage.read("stanzas/main/backups/20261125-034319F.manifest");
  CHECK(std::string(stored.begin(), stored.end()).find("base/1") == std::string::npos);  // no plaintext on disk
  CHECK(store.readHeader("main", "20261125-034319F").stopLsn == "0/2000100");
  auto source = store.open("main", "20261125-034319F");
  ManifestReader reader(*source, "test");
  CHECK(reader.next() == entries()[0]);
  CHECK(reader.next() == entries()[1]);
  CHECK_FALSE(reader.next());
}

TEST_CASE_TEMPLATE("labels list oldest first, latest resolves to the newest, an unknown label is BackupMissing",
                   Backend, InMemory, OnDisk) {
  Backend backend;
  Storage& storage = backend.storage;
  Repository repo(storage, testOptions());
  auto& store = repo.manifests();
  CHECK(thrown([&] { store.resolve("main", "latest"); }).code() == ErrorCode::BackupMissing);
  write(store, header("20261125-034319F"));
  write(store, header("20261125-034319F_20261125-050000I"));
  write(store, header("20261126-010000F"));
  CHECK(store.labels("main") ==
        std::vector<std::string>{"20261125-034319F", "20261125-034319F_20261125-050000I", "20261126-010000F"});
  CHECK(store.resolve("main", "latest") == "20261126-010000F");
  CHECK(thrown([&] { store.resolve("main", "20200101-000000F"); }).code() == ErrorCode::BackupMissing);
  CHECK(thrown([&] { store.open("main", "20200101-000000F"); }).code() == ErrorCode::BackupMissing);
  CHECK(thrown([&] { write(store, header("20261126-010000F")); }).code() == ErrorCode::Internal);
  CHECK(thrown([&] { store.path("main", "../x"); }).code() == ErrorCode::Format);
}

TEST_CASE("a manifest that cannot be written completely leaves nothing visible") {
  MemoryStorage memory;
  { Repository repo(memory, testOptions()); }
  FaultStorage full(memory, FaultPlan{.failFinishCall = 1});
  Repository repo(full, testOptions());
  CHECK(thrown([&] { write(repo.manifests(), header("20261125-034319F")); }).code() == ErrorCode::FileWrite);
  CHECK(repo.manifests().labels("main").empty());
}
