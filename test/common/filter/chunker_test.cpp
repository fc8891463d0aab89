#include "common/filter/chunker.h"

#include "common/error.h"
#include "common/storage/posix_io.h"
#include "test/common/filter/filter_test_util.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace pgbr;

namespace {

std::vector<std::vector<uint8_t>> chunksOf(const std::vector<uint8_t>& content, uint32_t chunkSize) {
  pgbr::test::TempDir dir;
  std::string path = (dir.path() / "file").string();
  {
    UniqueFd out(openRetry(path.c_str(), O_WRONLY | O_CREAT, 0600));
    writeFd(out.get(), content, path);
  }
  UniqueFd in(openRetry(path.c_str(), O_RDONLY));
  Chunker chunker(in.get(), path, chunkSize);
  std::vector<std::vector<uint8_t>> chunks;
  uint64_t expectedOffset = 0;
  while (auto chunk = chunker.next()) {
    CHECK(chunker.chunkOffset() == expectedOffset);
    expectedOffset += chunk->size();
    chunks.emplace_back(chunk->begin(), chunk->end());
  }
  CHECK(chunker.bytesRead() == content.size());
  CHECK_FALSE(chunker.next().has_value());
  return chunks;
}

}  // namespace

TEST_CASE("a file is cut into full chunks and a short last chunk") {
  auto content = pgbr::test::patternBytes(3 * 16384 + 100);
  auto chunks = chunksOf(content, 16384);
  REQUIRE(chunks.size() == 4);
  CHECK(chunks[0].size() == 16384);
  CHECK(chunks[3].size() == 100);
  std::vector<uint8_t> joined;
  for (const auto& c : chunks) joined.insert(joined.end(), c.begin(), c.end());
  CHECK(joined == content);
}

TEST_CASE("an empty file has no chunks; an exact multiple has no short chunk") {
  CHECK(chunksOf({}, 8192).empty());
  auto chunks = chunksOf(pgbr::test::patternBytes(2 * 8192), 8192);
  CHECK(chunks.size() == 2);
  CHECK(chunks[1].size() == 8192);
}

TEST_CASE("a chunk size that is not a multiple of 8 KiB is refused; a bad descriptor is FileRead") {
  CHECK_THROWS_AS(Chunker(0, "x", 1000), Error);
  Chunker chunker(-1, "/data/base/1/1234", 8192);
  CHECK_THROWS_WITH_AS(chunker.next(), "cannot read '/data/base/1/1234': Bad file descriptor", Error);
}
