#include "agent/progress.h"

#include <doctest/doctest.h>

using namespace pgbr::agent;
using namespace std::chrono_literals;

TEST_CASE("durations show hours only when there are some") {
  CHECK(formatDuration(0s) == "0:00");
  CHECK(formatDuration(65s) == "1:05");
  CHECK(formatDuration(3600s + 7s) == "1:00:07");
  CHECK(formatDuration(-5s) == "0:00");
}

TEST_CASE("progress shows files, bytes, percentage, rate and time left") {
  ProgressSnapshot s{.filesDone = 10,
                     .filesTotal = 40,
                     .bytesDone = 100ull << 20,
                     .bytesTotal = 400ull << 20,
                     .elapsed = std::chrono::milliseconds(10'000)};
  CHECK(formatProgress("backup", s) ==
        "backup: 10/40 files, 100.0 MiB of 400.0 MiB (25%), 10.0 MiB/s, about 0:30 left");
}

TEST_CASE("before the first second there is no rate and no time left") {
  ProgressSnapshot s{.filesDone = 1, .filesTotal = 2, .bytesDone = 512, .bytesTotal = 1024, .elapsed = 300ms};
  CHECK(formatProgress("restore", s) == "restore: 1/2 files, 512 B of 1.0 KiB (50%)");
}

TEST_CASE("files that grew past the total show 99% and no time left") {
  ProgressSnapshot s{.filesDone = 2, .filesTotal = 2, .bytesDone = 2048, .bytesTotal = 1024, .elapsed = 2s};
  CHECK(formatProgress("backup", s) == "backup: 2/2 files, 2.0 KiB of 1.0 KiB (99%), 1.0 KiB/s");
}

TEST_CASE("an empty data set has no percentage") {
  ProgressSnapshot s{.elapsed = 5s};
  CHECK(formatProgress("backup", s) == "backup: 0/0 files, 0 B of 0 B");
}

TEST_CASE("counters add up from several threads") {
  Progress progress(3, 300);
  progress.addFile();
  progress.addBytes(100);
  progress.addBytes(50);
  auto s = progress.snapshot();
  CHECK(s.filesDone == 1);
  CHECK(s.bytesDone == 150);
  CHECK(s.filesTotal == 3);
  CHECK(s.bytesTotal == 300);
}
