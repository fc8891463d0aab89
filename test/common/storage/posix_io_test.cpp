#include "common/storage/posix_io.h"

#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace pgbr;

TEST_CASE("writeFd, readFd and preadFd move whole buffers and stop at end of file") {
  pgbr::test::TempDir dir;
  std::string path = (dir.path() / "f").string();
  int fd = openRetry(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  UniqueFd file(fd);
  CHECK((::fcntl(file.get(), F_GETFD) & FD_CLOEXEC) != 0);
  std::vector<uint8_t> data(300'000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i % 251);
  writeFd(file.get(), data, path);
  fsyncFd(file.get(), path);

  std::vector<uint8_t> back(400'000);
  CHECK(preadFd(file.get(), back, 0, path) == data.size());
  CHECK(std::equal(data.begin(), data.end(), back.begin()));
  CHECK(preadFd(file.get(), std::span(back).first(10), 299'995, path) == 5);
  ::lseek(file.get(), 100, SEEK_SET);
  CHECK(readFd(file.get(), std::span(back).first(50), path) == 50);
  CHECK(back[0] == data[100]);
  file.closeChecked(path);
  CHECK_FALSE(file);
}

TEST_CASE("openRetry returns -errno for a missing file and fsyncDirectory names a missing directory") {
  CHECK(openRetry("/nonexistent/pgbr/file", O_RDONLY) == -ENOENT);
  CHECK_THROWS_WITH_AS(fsyncDirectory("/nonexistent/pgbr"),
                       "cannot open directory to sync '/nonexistent/pgbr': No such file or directory", Error);
}

TEST_CASE("reading a directory descriptor is FileRead naming the path") {
  int fd = openRetry("/", O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  UniqueFd dir(fd);
  std::vector<uint8_t> buffer(10);
  try {
    readFd(dir.get(), buffer, "/");
    FAIL("read of a directory succeeded");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FileRead);
    CHECK(std::string(e.what()) == "cannot read '/': Is a directory");
  }
}
