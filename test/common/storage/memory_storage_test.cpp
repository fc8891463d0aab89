#include "common/storage/memory_storage.h"

#include "common/error.h"
#include "test/common/storage/storage_conformance.h"

#include <doctest/doctest.h>

using namespace pgbr;
using pgbr::test::bytesOf;

namespace {
struct MemoryFactory {
  MemoryStorage memory;
  Storage& storage() { return memory; }
};
}  // namespace

TEST_CASE("memory storage passes the storage conformance suite") {
  pgbr::test::runStorageConformance<MemoryFactory>();
}

TEST_CASE("memory storage refuses an object where a directory is, like a filesystem") {
  MemoryStorage s;
  s.write("a/b", bytesOf("x"));
  CHECK(pgbr::test::errorCodeOf([&] { s.write("a", bytesOf("y")); }) == ErrorCode::FileWrite);
  CHECK(pgbr::test::errorCodeOf([&] { s.write("a/b/c", bytesOf("y")); }) == ErrorCode::FileWrite);
  CHECK(s.describe("a/b") == "memory:a/b");
}
