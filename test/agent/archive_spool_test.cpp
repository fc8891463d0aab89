#include "agent/archive_async.h"
#include "agent/archive_spool.h"

#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace pgbr;
using namespace pgbr::agent;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t k16MiB = 16u << 20;

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

TEST_CASE("a push status carries the pushed file's stamp and warnings, an error its code and message") {
  test::TempDir dir("pgbr-spool");
  Spool spool(dir.path().string(), "main", Spool::Direction::Out);
  CHECK(spool.directory() == (dir.path() / "archive" / "main" / "out").string());
  CHECK(fs::is_directory(spool.directory()));

  CHECK_FALSE(spool.readPushed("000000010000000000000003"));
  spool.writePushed("000000010000000000000003", {16777216, 1234567890123}, {"dropped it", "really"});
  auto pushed = spool.readPushed("000000010000000000000003");
  REQUIRE(pushed);
  CHECK(pushed->stamp == FileStamp{16777216, 1234567890123});
  CHECK(pushed->warnings == std::vector<std::string>{"dropped it", "really"});

  spool.writeError("000000010000000000000004", Error(ErrorCode::PgMismatch, "another cluster\nsecond line"));
  auto error = spool.readError("000000010000000000000004");
  REQUIRE(error);
  CHECK(error->code() == ErrorCode::PgMismatch);
  CHECK(std::string(error->what()) == "another cluster\nsecond line");
  spool.writeError("", Error(ErrorCode::Connect, "no server"));
  CHECK(spool.readError("")->code() == ErrorCode::Connect);
  CHECK(fs::exists(spool.path("global.error")));

  // A status file another program wrote is no status at all.
  spool.writeFile("000000010000000000000005.ok", "garbage\n", false);
  CHECK_FALSE(spool.readPushed("000000010000000000000005"));

  spool.writeMissing("000000010000000000000006");
  CHECK(spool.hasMissing("000000010000000000000006"));
  spool.remove("000000010000000000000006.missing");
  spool.remove("000000010000000000000006.missing");  // already gone: fine
  CHECK_FALSE(spool.hasMissing("000000010000000000000006"));

  // Temporary files are not listed.
  std::ofstream(spool.path("x.pgbr-tmp.42")) << "half";
  auto files = spool.list();
  CHECK(files == std::vector<std::string>{"000000010000000000000003.ok", "000000010000000000000004.error",
                                          "000000010000000000000005.ok", "global.error"});
}

TEST_CASE("a file's stamp changes when another file takes its name") {
  test::TempDir dir("pgbr-stamp");
  fs::path file = dir.path() / "000000010000000000000001";
  std::ofstream(file) << "first";
  FileStamp first = FileStamp::of(file.string());
  CHECK(first.size == 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fs::remove(file);
  std::ofstream(file) << "other";
  CHECK_FALSE(FileStamp::of(file.string()) == first);
  CHECK_THROWS_AS(FileStamp::of((dir.path() / "absent").string()), Error);
}

TEST_CASE("one background process per lock: the second tryAcquire fails until the first lets go") {
  test::TempDir dir("pgbr-lock");
  std::string path = (dir.path() / "locks" / "main-archive-push-async.lock").string();
  CHECK_FALSE(ProcessLock::held(path));
  {
    auto lock = ProcessLock::tryAcquire(path);
    REQUIRE(lock);
    CHECK(ProcessLock::held(path));
    CHECK_FALSE(ProcessLock::tryAcquire(path));
  }
  CHECK_FALSE(ProcessLock::held(path));
}

TEST_CASE("a detached process runs on its own, its output on /dev/null, and the caller does not wait for it") {
  test::TempDir dir("pgbr-detached");
  fs::path marker = dir.path() / "marker";
  LogSettings log;
  log.file = LogLevel::Off;
  log.console = LogLevel::Off;
  int parentPid = ::getpid();
  pid_t parentSession = ::getsid(0);
  spawnDetached(log, [&] {
    std::ofstream out(marker.string() + ".tmp");
    out << (::getpid() != parentPid) << ' ' << (::getsid(0) != parentSession) << ' '
        << fs::read_symlink("/proc/self/fd/1").string() << '\n';
    out.close();
    fs::rename(marker.string() + ".tmp", marker);
    return 0;
  });
  for (int i = 0; i < 600 && !fs::exists(marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(marker));
  std::ifstream in(marker);
  std::string line;
  std::getline(in, line);
  CHECK(line == "1 1 /dev/null");
}

TEST_CASE("a prefetch window covers archive-get-queue-max of segments on the requested segment's timeline") {
  CHECK(prefetchCount(128u << 20, k16MiB) == 8);
  CHECK(prefetchCount(1, k16MiB) == 2);
  auto window = prefetchWindow("0000000200000001000000FE", k16MiB, 4);
  CHECK(window == std::vector<std::string>{"0000000200000001000000FE", "0000000200000001000000FF",
                                           "000000020000000200000000", "000000020000000200000001"});
  CHECK(prefetchWindow("00000002.history", k16MiB, 4).empty());
  // 1 MiB segments: 4096 per log file.
  CHECK(prefetchWindow("000000010000000000000FFF", 1u << 20, 2) ==
        std::vector<std::string>{"000000010000000000000FFF", "000000010000000100000000"});
}

TEST_CASE("a fetch clears the spool of segments outside its window and of older answers") {
  std::vector<std::string> files{"000000010000000000000003",         "000000010000000000000005",
                                 "000000010000000000000007",         "000000010000000000000009",
                                 "000000020000000000000006",         "000000010000000000000004.missing",
                                 "000000010000000000000005.missing", "000000010000000000000005.error",
                                 "global.error",                     "identity",
                                 "stray"};
  auto stale = staleSpoolFiles(files, "000000010000000000000005", k16MiB, 4);
  CHECK(stale == std::vector<std::string>{"000000010000000000000003", "000000010000000000000009",
                                          "000000010000000000000004.missing", "stray"});
  CHECK_FALSE(contains(stale, "000000020000000000000006"));  // same segment number on another timeline
}
