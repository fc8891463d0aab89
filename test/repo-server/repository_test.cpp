#include "repo-server/repository.h"

#include "common/storage/memory_storage.h"
#include "common/storage/posix_storage.h"
#include "repo-server/json_object.h"
#include "test/repo-server/repo_client.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <fcntl.h>

#include <filesystem>
#include <thread>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;
using pgbr::test::bytesOf;
using pgbr::test::TempDir;

TEST_CASE("a new repository gets its identity file and a key file, and reopens with the same keys") {
  MemoryStorage storage;
  std::string id;
  ChunkId chunk;
  {
    Repository repo(storage, testOptions());
    id = repo.info().id;
    CHECK(id.size() == 32);
    CHECK(repo.info().cipher == Cipher::Aes256Gcm);
    CHECK(repo.info().chunkSize == 64 * 1024);
    CHECK(repo.pipeline().chunkSize == 64 * 1024);
    chunk = sealChunk(repo.keys(), chunkPlaintext(1)).id;
  }
  CHECK(storage.exists("pgbr-repository.json"));
  CHECK(storage.exists("keys/key-1.json"));
  auto json = readJsonObject(storage, "pgbr-repository.json");
  REQUIRE(json);
  CHECK((*json)["format"] == 1);
  CHECK((*json)["cipher"] == "aes-256-gcm");
  Repository reopened(storage, testOptions());
  CHECK(reopened.info().id == id);
  // The same master key: the same chunk ids.
  CHECK(sealChunk(reopened.keys(), chunkPlaintext(1)).id == chunk);
}

TEST_CASE("a wrong or missing passphrase is a clear Crypto error at open") {
  MemoryStorage storage;
  { Repository repo(storage, testOptions()); }
  auto options = testOptions();
  options.passphrase = "not the passphrase";
  auto error = thrown([&] { Repository repo(storage, options); });
  CHECK(error.code() == ErrorCode::Crypto);
  CHECK(std::string(error.what()).find("passphrase is wrong") != std::string::npos);
  CHECK(std::string(error.what()).find("not the passphrase") == std::string::npos);
  options.passphrase.reset();
  CHECK(thrown([&] { Repository repo(storage, options); }).code() == ErrorCode::OptionRequired);
}

TEST_CASE("a cipher type that contradicts the repository is refused naming both") {
  MemoryStorage encrypted, plain;
  { Repository repo(encrypted, testOptions(true)); }
  { Repository repo(plain, testOptions(false)); }
  auto error = thrown([&] { Repository repo(encrypted, testOptions(false)); });
  CHECK(error.code() == ErrorCode::OptionInvalidValue);
  CHECK(std::string(error.what()).find("repo1-cipher-type is none") != std::string::npos);
  CHECK(std::string(error.what()).find("aes-256-gcm") != std::string::npos);
  CHECK(thrown([&] { Repository repo(plain, testOptions(true)); }).code() == ErrorCode::OptionInvalidValue);
}

TEST_CASE("an unencrypted repository still has keyed chunk ids, different from another repository's") {
  MemoryStorage a, b;
  Repository first(a, testOptions(false)), second(b, testOptions(false));
  CHECK(first.info().cipher == Cipher::None);
  CHECK(sealChunk(first.keys(), chunkPlaintext(7)).id != sealChunk(second.keys(), chunkPlaintext(7)).id);
}

TEST_CASE("a repository written by a newer pgbr is refused with RepoVersion") {
  MemoryStorage storage;
  { Repository repo(storage, testOptions()); }
  auto json = *readJsonObject(storage, "pgbr-repository.json");
  json["format"] = 2;
  storage.write("pgbr-repository.json", jsonBytes(json));
  auto error = thrown([&] { Repository repo(storage, testOptions()); });
  CHECK(error.code() == ErrorCode::RepoVersion);
  CHECK(std::string(error.what()).find("format 2") != std::string::npos);
}

TEST_CASE("a directory holding something else is not taken for a new repository") {
  MemoryStorage storage;
  storage.write("stanzas/main/identity/0001.json", bytesOf("{}"));
  CHECK(thrown([&] { Repository repo(storage, testOptions()); }).code() == ErrorCode::Corrupt);
  MemoryStorage damaged;
  damaged.write("pgbr-repository.json", bytesOf("not json"));
  CHECK(thrown([&] { Repository repo(damaged, testOptions()); }).code() == ErrorCode::Corrupt);
}

TEST_CASE("a crash between the key file and the identity file is finished at the next open") {
  MemoryStorage storage;
  std::string id;
  ChunkId chunk;
  {
    Repository repo(storage, testOptions());
    chunk = sealChunk(repo.keys(), chunkPlaintext(3)).id;
  }
  storage.remove("pgbr-repository.json");
  Repository reopened(storage, testOptions());
  CHECK(storage.exists("pgbr-repository.json"));
  CHECK(sealChunk(reopened.keys(), chunkPlaintext(3)).id == chunk);  // the existing key file was used
}

TEST_CASE("a posix repository is locked against a second server and loses its temporary files at open") {
  TempDir dir("pgbr-repo");
  std::string root = (dir.path() / "repo").string();
  {
    auto repo = Repository::openPosix(root, testOptions());
    auto error = thrown([&] { Repository::openPosix(root, testOptions()); });
    CHECK(error.code() == ErrorCode::FileOpen);
    CHECK(std::string(error.what()).find("in use by another pgbr-repo server") != std::string::npos);
  }
  // What a crashed writer leaves: a temporary file next to its target.
  std::filesystem::create_directories(dir.path() / "repo" / "packs" / "ab");
  pgbr::test::writeFile(dir.path() / "repo" / "packs" / "ab" / ".abcd.pack.pgbr-tmp.123456", "partial");
  auto repo = Repository::openPosix(root, testOptions());
  CHECK_FALSE(std::filesystem::exists(dir.path() / "repo" / "packs" / "ab" / ".abcd.pack.pgbr-tmp.123456"));
  CHECK(std::filesystem::exists(dir.path() / "repo" / "pgbr-repository.json"));
}
