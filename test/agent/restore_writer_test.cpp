#include "agent/restore_writer.h"

#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace pgbr;
using namespace pgbr::agent;
namespace fs = std::filesystem;

namespace {

RestoreJob jobWithChunks(size_t chunks) {
  RestoreJob job;
  job.entry.path = "base/1/16384";
  job.entry.size = chunks * 8192;
  job.entry.chunks.resize(chunks);
  return job;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("splitJob cuts a large file into consecutive parts sharing one count and keeps a small one whole") {
  auto parts = splitJob(jobWithChunks(10), 4);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].firstChunk == 0);
  CHECK(parts[0].endChunk == 4);
  CHECK(parts[1].firstChunk == 4);
  CHECK(parts[1].endChunk == 8);
  CHECK(parts[2].firstChunk == 8);
  CHECK(parts[2].endChunk == 10);
  REQUIRE(parts[0].parts);
  CHECK(parts[0].parts == parts[2].parts);
  CHECK(parts[0].parts->left.load() == 3);
  for (const auto& part : parts) CHECK(part.entry.path == "base/1/16384");

  auto whole = splitJob(jobWithChunks(4), 4);
  REQUIRE(whole.size() == 1);
  CHECK_FALSE(whole[0].parts);
  CHECK(whole[0].firstChunk == 0);
  CHECK(whole[0].endChunk == 4);
}

TEST_CASE("DeferredSyncs syncs every recorded file and names one that cannot be synced") {
  test::TempDir dir{"pgbr-deferred-syncs"};
  fs::path root = dir / "data";
  fs::create_directories(root / "base");
  RestoreTree tree(root.string());
  DeferredSyncs syncs(tree, 100);
  for (int i = 0; i < 5; ++i) {
    std::string path = "base/" + std::to_string(i);
    UniqueFd fd = tree.createFile(path);
    std::string content = "file " + std::to_string(i);
    REQUIRE(::write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    // Read-only by the time it is synced, as a restored file may be.
    REQUIRE(::fchmod(fd.get(), 0400) == 0);
    syncs.add(fd.get(), path);
    fd.closeChecked(path);
  }
  syncs.syncAll(2);
  CHECK(readText(root / "base/3") == "file 3");
  syncs.syncAll(2);  // nothing left to sync

  UniqueFd gone = tree.createFile("base/gone");
  syncs.add(gone.get(), "base/gone");
  gone.closeChecked("base/gone");
  fs::remove(root / "base/gone");
  try {
    syncs.syncAll(2);
    FAIL("syncing a removed file succeeded");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::FileOpen);
    CHECK(std::string(error.what()).find("base/gone") != std::string::npos);
  }
}

TEST_CASE("DeferredSyncs syncs in the adding worker once its limit is reached") {
  test::TempDir dir{"pgbr-deferred-limit"};
  fs::path root = dir / "data";
  fs::create_directories(root);
  RestoreTree tree(root.string());
  DeferredSyncs syncs(tree, 2);
  UniqueFd first = tree.createFile("first");
  syncs.add(first.get(), "first");
  fs::remove(root / "first");
  UniqueFd second = tree.createFile("second");
  // The second path reaches the limit: both are synced now, and the removed one fails here.
  CHECK_THROWS_AS(syncs.add(second.get(), "second"), Error);
}
