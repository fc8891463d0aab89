#include "common/storage/posix_storage.h"

#include "common/error.h"
#include "test/common/storage/storage_conformance.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace pgbr;
using pgbr::test::bytesOf;

namespace {

struct PosixFactory {
  pgbr::test::TempDir dir{"pgbr-storage"};
  PosixStorage posix{(dir.path() / "repo").string()};
  Storage& storage() { return posix; }
};

std::vector<std::string> filesOnDisk(const std::filesystem::path& root) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(root)) return out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
    if (entry.is_regular_file()) out.push_back(std::filesystem::relative(entry.path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("posix storage passes the storage conformance suite") { pgbr::test::runStorageConformance<PosixFactory>(); }

TEST_CASE("posix storage creates the root and parents on first write") {
  pgbr::test::TempDir dir;
  PosixStorage s((dir.path() / "not/yet/there").string());
  s.write("archive/15-1/000000010000000000000001", bytesOf("wal"));
  CHECK(pgbr::test::readFile(dir.path() / "not/yet/there/archive/15-1/000000010000000000000001") == "wal");
}

TEST_CASE("posix storage leaves no temporary file after finish, cancel or IfAbsent conflict") {
  PosixFactory f;
  auto root = f.dir.path() / "repo";
  f.posix.write("x/a", bytesOf("1"));
  f.posix.write("x/a", bytesOf("2"), WriteMode::IfAbsent);
  {
    auto writer = f.posix.openWrite("x/b");
    writer->write(bytesOf("partial"));
    // While writing, the data sits in a hidden temporary file that list() does not show.
    auto onDisk = filesOnDisk(root);
    REQUIRE(onDisk.size() == 2);
    CHECK(onDisk[1] == "x/a");
    CHECK(PosixStorage::isTemporaryName(std::filesystem::path(onDisk[0]).filename().string()));
    CHECK(pgbr::test::entryPaths(f.posix.list("x")) == std::vector<std::string>{"a"});
  }
  CHECK(filesOnDisk(root) == std::vector<std::string>{"x/a"});
}

TEST_CASE("posix storage describes paths under its root") {
  PosixStorage s("/var/lib/pgbr/");
  CHECK(s.root() == "/var/lib/pgbr");
  CHECK(s.describe("a/b") == "/var/lib/pgbr/a/b");
  CHECK(s.describe("") == "/var/lib/pgbr");
  CHECK_THROWS_AS(PosixStorage(""), Error);
}

TEST_CASE("posix storage reports a write into an unwritable directory with the path") {
  if (::geteuid() == 0) return;  // root writes anywhere; the message format is covered by error_test
  PosixFactory f;
  f.posix.createDirectory("ro");
  ::chmod((f.dir.path() / "repo/ro").c_str(), 0500);
  try {
    f.posix.write("ro/x", bytesOf("x"));
    FAIL("write succeeded");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(std::string(e.what()).find("repo/ro/x") != std::string::npos);
  }
}

TEST_CASE("posix storage refuses to read a directory as an object") {
  PosixFactory f;
  f.posix.createDirectory("d");
  CHECK(pgbr::test::errorCodeOf([&] { f.posix.read("d"); }) == ErrorCode::FileRead);
  CHECK(pgbr::test::errorCodeOf([&] { f.posix.openRead("d"); }) == ErrorCode::FileRead);
}
