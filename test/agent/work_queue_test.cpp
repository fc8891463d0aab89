#include "agent/work_queue.h"

#include <doctest/doctest.h>

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
