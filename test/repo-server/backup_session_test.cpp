#include "repo-server/backup_session.h"

#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_client.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

namespace {

constexpr std::time_t kTime = 1'764'042'199;  // 2025-11-25 03:43:19 UTC

template <typename Backend>
struct Fixture : Backend {
  pgbr::test::TempDir spool{"pgbr-spool"};
  Repository repo{this->storage, testOptions()};
  StanzaIdentity identity = repo.stanzas().create(clusterIdentity()).identity;
  BackupSettings settings{spool.path().string()};

  std::unique_ptr<BackupSession> begin(const std::string& type, std::time_t time = kTime) {
    return std::make_unique<BackupSession>(repo, settings, identity, type, time, "test client");
  }
  // Chunks as chunks.put stores them.
  std::vector<SealedChunk> store(int count, uint64_t seed) {
    std::vector<SealedChunk> chunks;
    for (int i = 0; i < count; ++i) {
      auto chunk = sealChunk(repo.keys(), chunkPlaintext(seed + static_cast<uint64_t>(i)));
      repo.chunks().put(chunk.id, BlobKind::Chunk, ChunkId(), static_cast<uint32_t>(chunk.plaintext.size()),
                        chunk.envelope, nullptr);
      chunks.push_back(std::move(chunk));
    }
    return chunks;
  }
  void archive(uint64_t first, uint64_t last) {
    for (uint64_t n = first; n <= last; ++n) pushWal(repo, identity, segmentName(n), makeSegment(segmentName(n)));
  }
  // A whole backup: entries, END, checks, commit.
  std::string commit(const std::string& type, std::time_t time, uint64_t seed) {
    auto chunks = store(3, seed);
    archive(16, 17);
    auto session = begin(type, time);
    auto lines = entryLines({fileEntry("base/1/100", {chunks[0], chunks[1]}), fileEntry("global/1260", {chunks[2]})});
    session->addEntries(pgbr::test::bytesOf(lines));
    session->finishEntries(backupEnd(16, 17));
    session->checkChunks();
    CHECK(session->missingWal().empty());
    session->commit();
    return session->plan().label;
  }
};

}  // namespace

TEST_CASE("labels follow pgBackRest in UTC and give back their time") {
  CHECK(makeBackupLabel("full", kTime) == "20251125-034319F");
  CHECK(makeBackupLabel("diff", kTime + 3600, "20251125-034319F") == "20251125-034319F_20251125-044319D");
  CHECK(makeBackupLabel("incr", kTime + 60, "20251125-034319F") == "20251125-034319F_20251125-034419I");
  CHECK(backupLabelTime("20251125-034319F") == kTime);
  CHECK(backupLabelTime("20251125-034319F_20251125-044319D") == kTime + 3600);
  CHECK_FALSE(backupLabelTime("latest"));
  CHECK(thrown([] { makeBackupLabel("partial", kTime); }).code() == ErrorCode::Format);
}

TEST_CASE_TEMPLATE("a diff or incr without a prior full becomes a full, and the response says why", Backend, InMemory,
                   OnDisk) {
  Fixture<Backend> f;
  auto session = f.begin("diff");
  CHECK(session->plan().type == "full");
  CHECK(session->plan().label == "20251125-034319F");
  json response = session->response();
  CHECK(response["type"] == "full");
  CHECK(response["prior"].is_null());
  CHECK(response["reason"].get<std::string>().find("full backup") != std::string::npos);
}

TEST_CASE_TEMPLATE("a committed full, then a diff and an incr descend from it with later labels", Backend, InMemory,
                   OnDisk) {
  Fixture<Backend> f;
  std::string full = f.commit("full", kTime, 100);
  CHECK(full == "20251125-034319F");
  auto header = f.repo.manifests().readHeader("main", full);
  CHECK(header.fileCount == 2);
  CHECK(header.size == 3 * 20'000);
  CHECK(header.walStart == segmentName(16));
  CHECK(header.walStop == segmentName(17));
  CHECK(header.systemId == kSystemId);
  CHECK(header.chunkSize == 64 * 1024);
  CHECK(header.backupLabel.starts_with("START WAL LOCATION"));

  // The agent's clock says the same second: the label still moves forward.
  std::string diff = f.commit("diff", kTime, 200);
  CHECK(diff == "20251125-034319F_20251125-034320D");
  CHECK(f.repo.manifests().readHeader("main", diff).prior == full);
  auto incr = f.begin("incr", kTime + 600);
  CHECK(incr->plan().type == "incr");
  CHECK(incr->plan().prior->label == diff);
  CHECK(incr->plan().label == "20251125-034319F_20251125-035319I");
  CHECK(incr->response()["prior"]["label"] == diff);
}

TEST_CASE_TEMPLATE("one backup per stanza at a time, and the lock goes with the session", Backend, InMemory, OnDisk) {
  Fixture<Backend> f;
  auto first = f.begin("full");
  auto error = thrown([&] { f.begin("full"); });
  CHECK(error.code() == ErrorCode::BackupInProgress);
  CHECK(std::string(error.what()).find(first->plan().label) != std::string::npos);
  CHECK(std::string(error.what()).find("test client") != std::string::npos);
  f.repo.stanzas().create(clusterIdentity("other"));
  CHECK_NOTHROW(BackupSession(f.repo, f.settings, f.repo.stanzas().get("other"), "full", kTime, "x"));
  first.reset();
  CHECK_NOTHROW(f.begin("full"));
}

TEST_CASE_TEMPLATE("entries must be valid and in manifest order, however the bytes are split", Backend, InMemory,
                   OnDisk) {
  Fixture<Backend> f;
  auto chunks = f.store(1, 1);
  {
    auto session = f.begin("full");
    std::string lines = entryLines({fileEntry("base/1/1", chunks), fileEntry("base/1/2", chunks)});
    for (char c : lines) session->addEntries(std::span(reinterpret_cast<const uint8_t*>(&c), 1));
    auto wrongOrder = entryLines({fileEntry("base/1/1", chunks)});
    CHECK(thrown([&] { session->addEntries(pgbr::test::bytesOf(wrongOrder)); }).code() == ErrorCode::Format);
  }
  {
    auto session = f.begin("full");
    auto entry = fileEntry("base/1/1", chunks).toJson();
    entry["path"] = "../../etc/passwd";
    auto line = entry.dump() + "\n";
    CHECK(thrown([&] { session->addEntries(pgbr::test::bytesOf(line)); }).code() == ErrorCode::PathInvalid);
    CHECK(thrown([&] { session->addEntries(pgbr::test::bytesOf("not json\n")); }).code() == ErrorCode::Format);
  }
  {
    auto session = f.begin("full");
    session->addEntries(pgbr::test::bytesOf(entryLines({fileEntry("base/1/1", chunks)})));
    session->addEntries(pgbr::test::bytesOf("{\"kind\": \"file\""));
    CHECK(thrown([&] { session->finishEntries(backupEnd(16, 17)); }).code() == ErrorCode::Format);
  }
}

TEST_CASE_TEMPLATE("a backup naming a chunk the repository lacks, or of another cluster, commits nothing", Backend,
                   InMemory, OnDisk) {
  Fixture<Backend> f;
  auto stored = f.store(1, 1);
  auto lost = sealChunk(f.repo.keys(), chunkPlaintext(99));
  f.archive(16, 17);
  {
    auto session = f.begin("full");
    session->addEntries(pgbr::test::bytesOf(entryLines({fileEntry("base/1/1", {stored[0], lost})})));
    session->finishEntries(backupEnd(16, 17));
    auto error = thrown([&] { session->checkChunks(); });
    CHECK(error.code() == ErrorCode::Corrupt);
    CHECK(std::string(error.what()).find(lost.id.hex()) != std::string::npos);
    CHECK(std::string(error.what()).find("base/1/1") != std::string::npos);
  }
  {
    auto session = f.begin("full");
    session->addEntries(pgbr::test::bytesOf(entryLines({fileEntry("base/1/1", stored)})));
    CHECK(thrown([&] { session->finishEntries(backupEnd(16, 17, 60, kOtherSystemId)); }).code() ==
          ErrorCode::PgMismatch);
  }
  {
    auto session = f.begin("full");
    auto end = backupEnd(16, 17);
    end["header"]["stopLsn"] = "0/10";
    CHECK(thrown([&] { session->finishEntries(end); }).code() == ErrorCode::Format);
  }
  {
    auto session = f.begin("full");
    auto end = backupEnd(16, 17);
    end["header"].erase("startLsn");
    CHECK(thrown([&] { session->finishEntries(end); }).code() == ErrorCode::Format);
  }
  CHECK(f.repo.manifests().labels("main").empty());
}

TEST_CASE_TEMPLATE("the WAL from the start to the stop segment must be archived before the commit", Backend, InMemory,
                   OnDisk) {
  Fixture<Backend> f;
  auto chunks = f.store(1, 1);
  f.archive(16, 16);
  auto session = f.begin("full");
  session->addEntries(pgbr::test::bytesOf(entryLines({fileEntry("base/1/1", chunks)})));
  session->finishEntries(backupEnd(16, 18, 2.5));
  CHECK(session->archiveTimeout() == std::chrono::milliseconds(2500));
  session->checkChunks();
  CHECK(session->missingWal() == std::vector<std::string>{segmentName(17), segmentName(18)});
  f.archive(17, 18);
  CHECK(session->missingWal().empty());
  auto trailer = session->commit();
  CHECK(trailer["label"] == session->plan().label);
  CHECK(trailer["files"] == 1);
  CHECK(trailer["size"] == 20'000);
}
