#include "repo-server/wal_archive.h"

#include "common/storage/memory_storage.h"
#include "common/storage/path.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

namespace {

template <typename Backend>
struct Fixture : Backend {
  Repository repo{this->storage, testOptions()};
  StanzaIdentity identity = repo.stanzas().create(clusterIdentity()).identity;
};

}  // namespace

TEST_CASE_TEMPLATE("a pushed segment is stored once under its name and tag, and an identical push is a duplicate",
                   Backend, InMemory, OnDisk) {
  Fixture<Backend> f;
  std::string name = segmentName(3);
  auto segment = makeSegment(name);
  CHECK(pushWal(f.repo, f.identity, name, segment) == WalPush::Result::Stored);
  auto stored = f.repo.wal().find(f.identity, name);
  REQUIRE(stored);
  CHECK(stored->tag == walTag(*f.repo.keys(), segment));
  CHECK(stored->path ==
        "stanzas/main/wal/" + std::to_string(kSystemId) + "/0000000100000000/" + name + "." + stored->tag + ".wal");
  CHECK(f.repo.wal().plainSize(*stored) == kSegmentSize);
  // The stored object is the record stream; it opens to the segment.
  auto reader = f.storage.openRead(stored->path);
  RecordReader records(std::move(reader), f.repo.keys(), KeyPurpose::Data, "stored");
  CHECK(readAll(records) == segment);
  CHECK(pushWal(f.repo, f.identity, name, segment, 7777) == WalPush::Result::Duplicate);
  CHECK(f.storage.list(parentPath(stored->path)).size() == 1);
}

TEST_CASE_TEMPLATE("a different file under an archived name is ArchiveMismatch naming the file, and nothing changes",
                   Backend, InMemory, OnDisk) {
  Fixture<Backend> f;
  std::string name = segmentName(4);
  pushWal(f.repo, f.identity, name, makeSegment(name, kSystemId, 1));
  auto before = f.repo.wal().find(f.identity, name);
  auto error = thrown([&] { pushWal(f.repo, f.identity, name, makeSegment(name, kSystemId, 2)); });
  CHECK(error.code() == ErrorCode::ArchiveMismatch);
  CHECK(std::string(error.what()).find(name) != std::string::npos);
  CHECK(f.repo.wal().find(f.identity, name)->tag == before->tag);
}

TEST_CASE_TEMPLATE("a segment of another cluster is refused naming both system identifiers, and nothing is stored",
                   Backend, InMemory, OnDisk) {
  Fixture<Backend> f;
  std::string name = segmentName(5);
  auto error = thrown([&] { pushWal(f.repo, f.identity, name, makeSegment(name, kOtherSystemId)); });
  CHECK(error.code() == ErrorCode::PgMismatch);
  CHECK(std::string(error.what()).find(std::to_string(kSystemId)) != std::string::npos);
  CHECK(std::string(error.what()).find(std::to_string(kOtherSystemId)) != std::string::npos);
  CHECK_FALSE(f.repo.wal().find(f.identity, name));
}

TEST_CASE_TEMPLATE("a push whose size, tag, name or content does not match what was announced stores nothing", Backend,
                   InMemory, OnDisk) {
  Fixture<Backend> f;
  std::string name = segmentName(6);
  auto segment = makeSegment(name);
  auto stream = sealRecords(f.repo.keys(), segment);
  std::string tag = walTag(*f.repo.keys(), segment);
  auto attempt = [&](uint64_t size, const std::string& withTag, std::span<const uint8_t> bytes, const std::string& as) {
    return thrown([&] {
      auto push = f.repo.wal().beginPush(f.identity, as, size, withTag);
      push->write(bytes);
      push->finish();
    });
  };
  CHECK(attempt(segment.size() - 1, tag, stream, name).code() == ErrorCode::Corrupt);
  CHECK(attempt(segment.size(), "0123456789abcdef", stream, name).code() == ErrorCode::Corrupt);
  CHECK(attempt(segment.size(), "XYZ", stream, name).code() == ErrorCode::Format);
  CHECK(attempt(segment.size(), tag, std::span(stream).first(stream.size() - 5), name).code() == ErrorCode::Corrupt);
  // Renamed: the page address no longer matches the name.
  CHECK(attempt(segment.size(), tag, stream, segmentName(7)).code() == ErrorCode::Format);
  CHECK(attempt(segment.size(), tag, stream, "pg_control").code() == ErrorCode::Format);
  std::vector<uint8_t> shortSegment(segment.begin(), segment.begin() + 100'000);
  CHECK(
      attempt(shortSegment.size(), walTag(*f.repo.keys(), shortSegment), sealRecords(f.repo.keys(), shortSegment), name)
          .code() == ErrorCode::Format);
  CHECK(f.storage.list("stanzas/main/wal", true).empty());
}

TEST_CASE_TEMPLATE("history, backup and partial files are archived beside segments and listed in name order", Backend,
                   InMemory, OnDisk) {
  Fixture<Backend> f;
  for (uint64_t n = 1; n <= 3; ++n) pushWal(f.repo, f.identity, segmentName(n), makeSegment(segmentName(n)));
  auto history = pgbr::test::bytesOf("1\t0/3000000\tno recovery target specified\n");
  pushWal(f.repo, f.identity, "00000002.history", history);
  auto backup = pgbr::test::bytesOf("START WAL LOCATION: 0/2000028\n");
  pushWal(f.repo, f.identity, segmentName(2) + ".00000028.backup", backup);
  pushWal(f.repo, f.identity, segmentName(4) + ".partial", makeSegment(segmentName(4)));
  auto all = f.repo.wal().list(f.identity, "", "", 100);
  CHECK(all == std::vector<std::string>{segmentName(1), segmentName(2), segmentName(2) + ".00000028.backup",
                                        segmentName(3), segmentName(4) + ".partial", "00000002.history"});
  CHECK(f.repo.wal().list(f.identity, segmentName(2), segmentName(3), 100).size() == 3);
  CHECK(f.repo.wal().list(f.identity, "", "", 2).size() == 2);
  auto range = f.repo.wal().segmentRange(f.identity);
  REQUIRE(range);
  CHECK(range->min == segmentName(1));
  CHECK(range->max == segmentName(3));
  CHECK(f.repo.wal().missingSegments(f.identity, {1, 1}, {1, 5}) ==
        std::vector<std::string>{segmentName(4), segmentName(5)});
  CHECK(f.repo.wal().find(f.identity, "00000002.history"));
  CHECK(f.repo.wal().plainSize(*f.repo.wal().find(f.identity, "00000002.history")) == history.size());
}

TEST_CASE_TEMPLATE("concurrent pushes of one name with different contents store exactly one of them", Backend, InMemory,
                   OnDisk) {
  Fixture<Backend> f;
  std::string name = segmentName(9);
  std::atomic<int> stored{0}, mismatched{0}, duplicates{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      try {
        auto result = pushWal(f.repo, f.identity, name, makeSegment(name, kSystemId, static_cast<uint8_t>(i % 2)));
        (result == WalPush::Result::Stored ? stored : duplicates)++;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::ArchiveMismatch) ++mismatched;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(stored == 1);
  CHECK(stored + duplicates + mismatched == 6);
  CHECK(mismatched == 3);
  CHECK(f.storage.list(parentPath(f.repo.wal().find(f.identity, name)->path)).size() == 1);
}

TEST_CASE_TEMPLATE("gaps are the segments missing inside each timeline's run, and info's summary lists them", Backend,
                   InMemory, OnDisk) {
  Fixture<Backend> f;
  CHECK(f.repo.wal().summary(f.identity).is_null());
  // Timeline 1: 1-2, 5, 7; timeline 2 starts at 6 and has 9. A .partial fills no gap.
  for (uint64_t n : {1, 2, 5, 7}) pushWal(f.repo, f.identity, segmentName(n), makeSegment(segmentName(n)));
  pushWal(f.repo, f.identity, segmentName(3) + ".partial", makeSegment(segmentName(3)));
  for (uint64_t n : {6, 9}) pushWal(f.repo, f.identity, segmentName(n, 2), makeSegment(segmentName(n, 2)));
  auto gaps = f.repo.wal().gaps(f.identity, 10);
  REQUIRE(gaps.size() == 3);
  CHECK(gaps[0].first == segmentName(3));
  CHECK(gaps[0].last == segmentName(4));
  CHECK(gaps[0].segments == 2);
  CHECK(gaps[1].first == segmentName(6));
  CHECK(gaps[1].last == segmentName(6));
  CHECK(gaps[2].first == segmentName(7, 2));
  CHECK(gaps[2].last == segmentName(8, 2));
  CHECK(f.repo.wal().gaps(f.identity, 1).size() == 1);

  auto summary = f.repo.wal().summary(f.identity);
  CHECK(summary["min"] == segmentName(1));
  CHECK(summary["max"] == segmentName(9, 2));
  REQUIRE(summary["gaps"].size() == 3);
  CHECK(summary["gaps"][0] == nlohmann::json{{"first", segmentName(3)}, {"last", segmentName(4)}, {"segments", 2}});
}
