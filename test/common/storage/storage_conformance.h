// The storage conformance suite: every Storage driver runs it, so callers can rely on one
// contract (docs/storage.md). A driver's test calls runStorageConformance<Factory>() inside one
// TEST_CASE; each SUBCASE below starts from a fresh, empty storage made by Factory, which is
// default-constructible and has `pgbr::Storage& storage()`.
#pragma once

#include "common/error.h"
#include "common/storage/storage.h"
#include "test/common/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace pgbr::test {

template <class Factory>
void runStorageConformance() {
  Factory factory;
  Storage& s = factory.storage();

  SUBCASE("a written object reads back whole, with its size") {
    auto data = patternBytes(100'000);
    CHECK(s.write("a/b/object", data) == WriteResult::Written);
    CHECK(s.read("a/b/object") == data);
    CHECK(s.exists("a/b/object"));
    auto info = s.info("a/b/object");
    REQUIRE(info.has_value());
    CHECK(info->size == data.size());
    CHECK(info->mtime.time_since_epoch().count() > 0);
  }

  SUBCASE("an empty object exists and reads back empty") {
    CHECK(s.write("empty", {}) == WriteResult::Written);
    CHECK(s.exists("empty"));
    CHECK(s.read("empty").empty());
    CHECK(s.info("empty")->size == 0);
  }

  SUBCASE("a missing object is FileMissing naming the path, nullopt or false elsewhere") {
    try {
      s.read("no/such/object");
      FAIL("read of a missing object returned");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::FileMissing);
      CHECK(std::string(e.what()).find(s.describe("no/such/object")) != std::string::npos);
    }
    CHECK(errorCodeOf([&] { s.openRead("missing"); }) == ErrorCode::FileMissing);
    CHECK_FALSE(s.readIfExists("missing").has_value());
    CHECK_FALSE(s.info("missing").has_value());
    CHECK_FALSE(s.exists("missing"));
    CHECK_FALSE(s.remove("missing"));
  }

  SUBCASE("Replace overwrites; IfAbsent keeps the existing object and says so") {
    s.write("wal/seg", bytesOf("first"));
    CHECK(s.write("wal/seg", bytesOf("second")) == WriteResult::Written);
    CHECK(s.read("wal/seg") == bytesOf("second"));
    CHECK(s.write("wal/seg", bytesOf("third"), WriteMode::IfAbsent) == WriteResult::AlreadyExists);
    CHECK(s.read("wal/seg") == bytesOf("second"));
    CHECK(s.write("wal/other", bytesOf("new"), WriteMode::IfAbsent) == WriteResult::Written);
    CHECK(s.read("wal/other") == bytesOf("new"));
    CHECK(entryPaths(s.list("wal")) == std::vector<std::string>{"other", "seg"});
  }

  SUBCASE("a streaming write is invisible until finish") {
    auto writer = s.openWrite("dir/streamed");
    auto data = patternBytes(3 * 1024 * 1024 + 17);
    for (size_t at = 0; at < data.size(); at += 100'003)
      writer->write(std::span(data).subspan(at, std::min<size_t>(100'003, data.size() - at)));
    CHECK_FALSE(s.exists("dir/streamed"));
    CHECK(s.list("dir", true).empty());
    writer->finish();
    CHECK(writer->result() == WriteResult::Written);
    CHECK(s.read("dir/streamed") == data);
    CHECK(s.list("dir", true) == std::vector<ListEntry>{{.path = "streamed", .size = data.size()}});
  }

  SUBCASE("a cancelled or abandoned write leaves nothing behind") {
    s.write("keep", bytesOf("old"));
    {
      auto writer = s.openWrite("keep");
      writer->write(bytesOf("new data"));
      writer->cancel();
      writer->cancel();  // idempotent
    }
    {
      auto writer = s.openWrite("dropped/object");
      writer->write(bytesOf("never finished"));
    }  // destructor cancels
    CHECK(s.read("keep") == bytesOf("old"));
    CHECK_FALSE(s.exists("dropped/object"));
    CHECK(entryPaths(s.list("", true)) == std::vector<std::string>{"keep"});
  }

  SUBCASE("a finished writer refuses more writes") {
    auto writer = s.openWrite("once");
    writer->write(bytesOf("x"));
    writer->finish();
    CHECK_THROWS_AS(writer->write(bytesOf("y")), Error);
    CHECK_THROWS_AS(writer->finish(), Error);
    CHECK(s.read("once") == bytesOf("x"));
  }

  SUBCASE("a streaming IfAbsent write reports an object that appeared meanwhile") {
    auto writer = s.openWrite("race", WriteMode::IfAbsent);
    writer->write(bytesOf("late"));
    s.write("race", bytesOf("early"));
    writer->finish();
    CHECK(writer->result() == WriteResult::AlreadyExists);
    CHECK(s.read("race") == bytesOf("early"));
    CHECK(entryPaths(s.list("")) == std::vector<std::string>{"race"});
  }

  SUBCASE("of concurrent IfAbsent writers exactly one wins") {
    std::atomic<int> written{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        if (s.write("contended", patternBytes(10'000, i + 1), WriteMode::IfAbsent) == WriteResult::Written) ++written;
      });
    for (auto& t : threads) t.join();
    CHECK(written == 1);
    CHECK(s.read("contended").size() == 10'000);
  }

  SUBCASE("ranged reads return the range, clamped to the end") {
    auto data = patternBytes(1000);
    s.write("ranged", data);
    auto whole = s.openRead("ranged");
    CHECK(whole->objectSize() == 1000);
    CHECK(readAll(*whole) == data);

    auto middle = s.openRead("ranged", 100, 50);
    CHECK(readAll(*middle) == std::vector<uint8_t>(data.begin() + 100, data.begin() + 150));
    auto tail = s.openRead("ranged", 990, 100);
    CHECK(readAll(*tail) == std::vector<uint8_t>(data.begin() + 990, data.end()));
    auto past = s.openRead("ranged", 5000);
    CHECK(readAll(*past).empty());

    std::vector<uint8_t> buffer(20);
    CHECK(whole->readAt(500, buffer) == 20);
    CHECK(buffer == std::vector<uint8_t>(data.begin() + 500, data.begin() + 520));
    CHECK(whole->readAt(995, buffer) == 5);
    CHECK(whole->readAt(2000, buffer) == 0);
  }

  SUBCASE("a reader keeps the object it opened when it is replaced") {
    s.write("snap", bytesOf("version one"));
    auto reader = s.openRead("snap");
    s.write("snap", bytesOf("version two!"));
    CHECK(readAll(*reader) == bytesOf("version one"));
  }

  SUBCASE("list is sorted, shows directories one level down, and recursive lists name objects") {
    s.write("b/2", bytesOf("22"));
    s.write("b/1", bytesOf("1"));
    s.write("a", bytesOf("aaa"));
    s.write("b/c/3", bytesOf("333"));
    s.write("b-sibling", bytesOf("x"));
    CHECK(entryPaths(s.list("")) == std::vector<std::string>{"a", "b/", "b-sibling"});
    CHECK(entryPaths(s.list("b")) == std::vector<std::string>{"1", "2", "c/"});
    auto all = s.list("b", true);
    CHECK(all == std::vector<ListEntry>{{.path = "1", .size = 1}, {.path = "2", .size = 2}, {.path = "c/3", .size = 3}});
    CHECK(entryPaths(s.list("", true)) == std::vector<std::string>{"a", "b-sibling", "b/1", "b/2", "b/c/3"});
    CHECK(s.list("nothing/here").empty());
    CHECK(s.list("a").empty());  // an object is not a directory
  }

  SUBCASE("createDirectory makes a listable directory, and exists() is for objects only") {
    s.createDirectory("x/y/z");
    s.createDirectory("x/y/z");  // existing is fine
    CHECK(entryPaths(s.list("x/y")) == std::vector<std::string>{"z/"});
    CHECK_FALSE(s.exists("x/y"));
    CHECK_FALSE(s.info("x/y").has_value());
    CHECK(s.list("", true).empty());
  }

  SUBCASE("remove deletes one object; removeTree deletes a subtree and tolerates absence") {
    s.write("t/1", bytesOf("1"));
    s.write("t/sub/2", bytesOf("2"));
    s.write("u/3", bytesOf("3"));
    CHECK(s.remove("t/1"));
    CHECK_FALSE(s.exists("t/1"));
    CHECK_FALSE(s.remove("t/1"));
    s.removeTree("t");
    CHECK(s.list("t", true).empty());
    CHECK(entryPaths(s.list("")) == std::vector<std::string>{"u/"});
    s.removeTree("t");
    s.removeTree("never/was");
    CHECK(s.read("u/3") == bytesOf("3"));
  }

  SUBCASE("every operation rejects a path that escapes or is malformed") {
    for (const std::string& bad : std::vector<std::string>{"/abs", "../up", "a/../b", "a//b", "a/", "./a", std::string("nul\0x", 5), std::string()}) {
      CAPTURE(bad);
      CHECK(errorCodeOf([&] { s.write(bad, bytesOf("x")); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.read(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.openRead(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.openWrite(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.exists(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.info(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.remove(bad); }) == ErrorCode::PathInvalid);
      CHECK(errorCodeOf([&] { s.removeTree(bad); }) == ErrorCode::PathInvalid);
      if (!bad.empty()) {
        CHECK(errorCodeOf([&] { s.list(bad); }) == ErrorCode::PathInvalid);
        CHECK(errorCodeOf([&] { s.createDirectory(bad); }) == ErrorCode::PathInvalid);
      }
    }
    CHECK(s.list("", true).empty());
  }
}

}  // namespace pgbr::test
