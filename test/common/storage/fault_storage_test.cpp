#include "common/storage/fault_storage.h"

#include "common/error.h"
#include "common/storage/memory_storage.h"
#include "common/storage/posix_storage.h"
#include "test/common/storage/storage_conformance.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace pgbr;
using pgbr::test::bytesOf;
using pgbr::test::patternBytes;

namespace {

struct PassThroughFactory {
  MemoryStorage memory;
  FaultStorage faults{memory, FaultPlan{}};
  Storage& storage() { return faults; }
};

size_t filesOnDisk(const std::filesystem::path& root) {
  size_t n = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) n += entry.is_regular_file();
  return n;
}

}  // namespace

TEST_CASE("fault storage without faults passes the storage conformance suite") {
  pgbr::test::runStorageConformance<PassThroughFactory>();
}

TEST_CASE("disk full in the middle of a streaming write leaves no partial object on posix") {
  pgbr::test::TempDir dir;
  PosixStorage posix(dir.path().string());
  posix.write("pack/old", bytesOf("committed"));
  FaultStorage s(posix, FaultPlan{.byteBudget = 150'000});

  auto writer = s.openWrite("pack/new");
  auto data = patternBytes(64 * 1024);
  writer->write(data);
  writer->write(data);
  try {
    writer->write(data);
    FAIL("the write past the budget succeeded");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(std::string(e.what()) ==
          "cannot write '" + posix.describe("pack/new") + "': No space left on device (the filesystem is full)");
  }
  CHECK(s.bytesWritten() == 150'000);
  CHECK_THROWS_AS(writer->finish(), Error);  // a failed writer stays failed
  writer->cancel();
  CHECK_FALSE(s.exists("pack/new"));
  CHECK(pgbr::test::entryPaths(s.list("pack")) == std::vector<std::string>{"old"});
  CHECK(filesOnDisk(dir.path()) == 1);  // the temporary file is gone too
}

TEST_CASE("the Nth write call fails and the whole-object write publishes nothing") {
  MemoryStorage memory;
  FaultStorage s(memory, FaultPlan{.failWriteCall = 2});
  CHECK(s.write("one", bytesOf("1")) == WriteResult::Written);
  CHECK(pgbr::test::errorCodeOf([&] { s.write("two", bytesOf("2")); }) == ErrorCode::FileWrite);
  CHECK(s.write("three", bytesOf("3")) == WriteResult::Written);
  CHECK(pgbr::test::entryPaths(s.list("")) == std::vector<std::string>{"one", "three"});
  CHECK(s.writeCalls() == 3);
}

TEST_CASE("a failing sync at finish publishes nothing, with the chosen errno") {
  pgbr::test::TempDir dir;
  PosixStorage posix(dir.path().string());
  FaultStorage s(posix, FaultPlan{.failFinishCall = 1, .error = EIO});
  auto writer = s.openWrite("wal/seg");
  writer->write(bytesOf("segment"));
  try {
    writer->finish();
    FAIL("finish succeeded");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(std::string(e.what()).find("Input/output error") != std::string::npos);
  }
  writer.reset();
  CHECK_FALSE(s.exists("wal/seg"));
  CHECK(filesOnDisk(dir.path()) == 0);
  CHECK(s.write("wal/seg", bytesOf("retry")) == WriteResult::Written);
  CHECK(s.read("wal/seg") == bytesOf("retry"));
}
