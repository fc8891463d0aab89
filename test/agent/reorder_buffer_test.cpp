#include "agent/reorder_buffer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

using namespace pgbr::agent;

TEST_CASE("items completed out of order are taken in reservation order") {
  ReorderBuffer<int> buffer(100);
  for (int i = 0; i < 5; ++i) CHECK(buffer.reserve(1) == static_cast<uint64_t>(i));
  buffer.complete(3, 30);
  buffer.complete(1, 10);
  buffer.complete(0, 0);
  std::vector<int> out;
  REQUIRE(buffer.takeReady(out));
  CHECK(out == std::vector<int>{0, 10});  // 2 is not done yet, so 3 waits
  buffer.complete(4, 40);
  buffer.complete(2, 20);
  buffer.finishProducing();
  REQUIRE(buffer.takeReady(out));
  CHECK(out == std::vector<int>{0, 10, 20, 30, 40});
  CHECK_FALSE(buffer.takeReady(out));
}

TEST_CASE("a slot that produced nothing is skipped without stalling the ones after it") {
  ReorderBuffer<std::string> buffer(10);
  buffer.reserve(1);
  buffer.reserve(1);
  buffer.complete(1, "b");
  buffer.complete(0, std::nullopt);
  buffer.finishProducing();
  std::vector<std::string> out;
  REQUIRE(buffer.takeReady(out));
  CHECK(out == std::vector<std::string>{"b"});
  CHECK_FALSE(buffer.takeReady(out));
}

TEST_CASE("reserve blocks while the outstanding weight would exceed the capacity, until the consumer takes") {
  ReorderBuffer<int> buffer(10);
  buffer.reserve(6);
  buffer.reserve(4);
  CHECK(buffer.outstanding() == 10);
  std::atomic<bool> reserved{false};
  std::thread producer([&] {
    buffer.reserve(3);
    reserved = true;
  });
  // Completing does not free room; only taking does.
  buffer.complete(1, 1);
  CHECK_FALSE(reserved.load());
  buffer.complete(0, 0);
  std::vector<int> out;
  REQUIRE(buffer.takeReady(out));
  producer.join();
  CHECK(reserved.load());
  CHECK(buffer.outstanding() == 3);
}

TEST_CASE("an item heavier than the whole capacity is admitted once nothing else is outstanding") {
  ReorderBuffer<int> buffer(4);
  CHECK(buffer.reserve(100) == 0u);
  std::atomic<bool> reserved{false};
  std::thread producer([&] {
    buffer.reserve(1);
    reserved = true;
  });
  buffer.complete(0, 7);
  std::vector<int> out;
  REQUIRE(buffer.takeReady(out));
  producer.join();
  CHECK(reserved.load());
}

TEST_CASE("abort wakes a blocked producer and a waiting consumer") {
  ReorderBuffer<int> buffer(1);
  buffer.reserve(1);
  std::optional<uint64_t> second = 99;
  bool taken = true;
  std::thread producer([&] { second = buffer.reserve(1); });
  std::thread consumer([&] {
    std::vector<int> out;
    taken = buffer.takeReady(out);
  });
  buffer.abort();
  producer.join();
  consumer.join();
  CHECK_FALSE(second.has_value());
  CHECK_FALSE(taken);
}

TEST_CASE("many workers completing at random keep the order and the weight bound") {
  constexpr int kItems = 5000;
  constexpr uint64_t kCapacity = 64;
  ReorderBuffer<int> buffer(kCapacity);
  std::mutex mutex;
  std::vector<std::pair<uint64_t, int>> pending;
  std::atomic<bool> producerDone{false};
  std::atomic<uint64_t> maxOutstanding{0};

  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      auto seq = buffer.reserve(1 + i % 7);
      REQUIRE(seq);
      maxOutstanding = std::max(maxOutstanding.load(), buffer.outstanding());
      std::lock_guard lock(mutex);
      pending.emplace_back(*seq, i);
    }
    buffer.finishProducing();
    producerDone = true;
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 random(static_cast<unsigned>(w));
      for (;;) {
        std::optional<std::pair<uint64_t, int>> job;
        {
          std::lock_guard lock(mutex);
          if (!pending.empty()) {
            size_t pick = random() % pending.size();
            job = pending[pick];
            pending.erase(pending.begin() + static_cast<long>(pick));
          }
        }
        if (job)
          buffer.complete(job->first, job->second);
        else if (producerDone) {
          std::lock_guard lock(mutex);
          if (pending.empty()) return;
        } else
          std::this_thread::yield();
      }
    });
  }
  std::vector<int> out;
  while (buffer.takeReady(out)) {
  }
  producer.join();
  for (auto& t : workers) t.join();
  REQUIRE(out.size() == static_cast<size_t>(kItems));
  for (int i = 0; i < kItems; ++i) CHECK(out[static_cast<size_t>(i)] == i);
  // 1 + i % 7 is at most 7, so the producer never ran more than the capacity plus one item ahead.
  CHECK(maxOutstanding.load() <= kCapacity);
}
