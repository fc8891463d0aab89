#include "agent/work_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace pgbr::agent;

TEST_CASE("close lets consumers drain what is queued, then pop ends") {
  WorkQueue<int> queue;
  queue.push(1);
  queue.push(2);
  queue.close();
  CHECK(queue.pop() == 1);
  CHECK(queue.tryPop() == 2);
  CHECK_FALSE(queue.pop().has_value());
  CHECK(queue.finished());
}

TEST_CASE("tryPop tells an idle worker that nothing is waiting without blocking") {
  WorkQueue<int> queue;
  CHECK_FALSE(queue.tryPop().has_value());
  CHECK_FALSE(queue.finished());
}

TEST_CASE("abort drops queued jobs and wakes a blocked consumer") {
  WorkQueue<int> queue;
  std::optional<int> got = 5;
  std::thread consumer([&] { got = queue.pop(); });
  queue.abort();
  consumer.join();
  CHECK_FALSE(got.has_value());
  queue.push(3);  // ignored after abort
  CHECK_FALSE(queue.tryPop().has_value());
}

TEST_CASE("push blocks while the queued weight would exceed the capacity, and a heavy job waits for an empty queue") {
  WorkQueue<int> queue(10);
  CHECK(queue.push(1, 6));
  CHECK(queue.push(2, 4));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    queue.push(3, 50);  // heavier than the capacity: admitted once the queue is empty
    pushed = true;
  });
  CHECK(queue.pop() == 1);
  CHECK_FALSE(pushed.load());  // 4 still queued
  CHECK(queue.pop() == 2);
  producer.join();
  CHECK(pushed.load());
  CHECK(queue.pop() == 3);
}

TEST_CASE("abort releases a producer blocked on a full queue") {
  WorkQueue<int> queue(1);
  queue.push(1);
  bool result = true;
  std::thread producer([&] { result = queue.push(2); });
  queue.abort();
  producer.join();
  CHECK_FALSE(result);
}
