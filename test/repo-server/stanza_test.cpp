#include "repo-server/stanza.h"

#include "common/storage/memory_storage.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

TEST_CASE("stanza-create writes identity 0001 once and is idempotent for the same cluster") {
  MemoryStorage storage;
  StanzaStore stanzas(storage);
  auto created = stanzas.create(clusterIdentity());
  CHECK(created.created);
  CHECK(created.identity.seq == 1);
  CHECK_FALSE(created.identity.created.empty());
  CHECK(storage.exists("stanzas/main/identity/0001.json"));
  auto again = stanzas.create(clusterIdentity());
  CHECK_FALSE(again.created);
  CHECK(again.identity.created == created.identity.created);
  // A fresh store reads what was written.
  StanzaStore reread(storage);
  auto identity = reread.get("main");
  CHECK(identity.systemId == kSystemId);
  CHECK(identity.walSegmentSize == kSegmentSize);
  CHECK(identity.toJson()["systemId"] == std::to_string(kSystemId));
  CHECK(reread.list() == std::vector<std::string>{"main"});
}

TEST_CASE("stanza-create for another cluster is refused naming both system identifiers") {
  MemoryStorage storage;
  StanzaStore stanzas(storage);
  stanzas.create(clusterIdentity());
  auto error = thrown([&] { stanzas.create(clusterIdentity("main", kOtherSystemId)); });
  CHECK(error.code() == ErrorCode::PgMismatch);
  CHECK(std::string(error.what()).find(std::to_string(kSystemId)) != std::string::npos);
  CHECK(std::string(error.what()).find(std::to_string(kOtherSystemId)) != std::string::npos);
}

TEST_CASE("an unknown stanza is StanzaMissing and a bad stanza name never reaches a path") {
  MemoryStorage storage;
  StanzaStore stanzas(storage);
  CHECK_FALSE(stanzas.find("main"));
  auto error = thrown([&] { stanzas.get("main"); });
  CHECK(error.code() == ErrorCode::StanzaMissing);
  CHECK(std::string(error.what()).find("stanza-create") != std::string::npos);
  for (const char* bad : {"", "../x", "a/b", ".hidden", "-x"})
    CHECK(thrown([&] { stanzas.find(bad); }).code() == ErrorCode::Format);
  auto identity = clusterIdentity();
  identity.walSegmentSize = 12345;
  CHECK(thrown([&] { stanzas.create(identity); }).code() == ErrorCode::Format);
}

TEST_CASE("concurrent stanza-create of one stanza writes once and a different cluster racing is refused") {
  MemoryStorage storage;
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      StanzaStore stanzas(storage);  // one store per server would not share a cache either
      try {
        if (stanzas.create(clusterIdentity("main", i == 0 ? kOtherSystemId : kSystemId)).created) ++created;
      } catch (const Error& e) {
        if (e.code() == ErrorCode::PgMismatch) ++refused;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(created == 1);
  StanzaStore stanzas(storage);
  uint64_t winner = stanzas.get("main").systemId;
  CHECK(refused == (winner == kSystemId ? 1 : 7));
}
