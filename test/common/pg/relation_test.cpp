#include "common/pg/relation.h"

#include <doctest/doctest.h>

using namespace pgbr::pg;

TEST_CASE("relation file names give relfilenode, fork and segment") {
  auto main = parseRelationFileName("16384");
  REQUIRE(main);
  CHECK(main->relfilenode == 16384);
  CHECK(main->fork == Fork::Main);
  CHECK(main->segment == 0);

  auto fsm = parseRelationFileName("16384_fsm");
  REQUIRE(fsm);
  CHECK(fsm->fork == Fork::Fsm);

  auto vm = parseRelationFileName("2619_vm.3");
  REQUIRE(vm);
  CHECK(vm->relfilenode == 2619);
  CHECK(vm->fork == Fork::Vm);
  CHECK(vm->segment == 3);

  auto init = parseRelationFileName("16400_init");
  REQUIRE(init);
  CHECK(init->fork == Fork::Init);

  auto segment = parseRelationFileName("16384.12");
  REQUIRE(segment);
  CHECK(segment->segment == 12);
  CHECK(segment->fileName() == "16384.12");
  CHECK(vm->fileName() == "2619_vm.3");
}

TEST_CASE("block numbers continue across segment files") {
  auto segment = *parseRelationFileName("16384.2");
  CHECK(segment.blockNumber(0) == 262144);
  CHECK(segment.blockNumber(5) == 262149);
  CHECK(parseRelationFileName("16384")->blockNumber(7) == 7);
}

TEST_CASE("names that are not relation files are refused") {
  for (const char* name :
       {"", "PG_VERSION", "pg_filenode.map", "pg_internal.init", "016384", "16384.0", "16384.", "16384_", "16384_main",
        "16384_fsm_vm", "16384.1.2", "16384x", "t3_16384", "0", "99999999999", "16384.01", "pgsql_tmp"})
    CHECK_FALSE(parseRelationFileName(name));
}

TEST_CASE("temporary relation files are recognised") {
  for (const char* name : {"t3_16384", "t12_16384_fsm", "t3_16384_vm.2", "t3_16384_init", "t3_16384.1"})
    CHECK(isTempRelationFileName(name));
  for (const char* name : {"16384", "t_16384", "t3_", "t3x16384", "tt3_16384", "t3_16384_foo", "t3_16384.", "pg_t3_1"})
    CHECK_FALSE(isTempRelationFileName(name));
}
