#include "common/pg/version.h"

#include <doctest/doctest.h>

#include <set>

using namespace pgbr::pg;

TEST_CASE("PostgreSQL 15 is recognised from its pg_control, catalog and WAL page magic") {
  auto fromControl = pgVersionFromControl(1300, 202209061);
  REQUIRE(fromControl);
  CHECK(fromControl->major == 15);
  auto fromMagic = pgVersionFromWalMagic(0xD110);
  REQUIRE(fromMagic);
  CHECK(fromMagic->major == 15);
  CHECK(pgVersionFromMajor(15)->walMagic == 0xD110);
}

TEST_CASE("versions sharing pg_control version 1300 are told apart by catalog version") {
  CHECK(pgVersionFromControl(1300, 202007201)->major == 13);
  CHECK(pgVersionFromControl(1300, 202107181)->major == 14);
  CHECK(pgVersionFromControl(1300, 202307071)->major == 16);
  CHECK(pgVersionFromControl(1201, 201909212)->major == 12);
  CHECK(pgVersionFromControl(1700, 202406281)->major == 17);
}

TEST_CASE("unknown, pre-release and ancient versions are not guessed") {
  CHECK_FALSE(pgVersionFromControl(1300, 202209051));  // a 15 beta catalog
  CHECK_FALSE(pgVersionFromControl(1100, 201809051));  // PostgreSQL 11
  CHECK_FALSE(pgVersionFromControl(1800, 202506291));
  CHECK_FALSE(pgVersionFromWalMagic(0xD098));
  CHECK_FALSE(pgVersionFromMajor(11));
}

TEST_CASE("the version table has one row per major, each with a distinct WAL magic and a layout") {
  std::set<unsigned> majors;
  std::set<uint16_t> magics;
  for (const auto& version : pgVersions()) {
    CHECK(majors.insert(version.major).second);
    CHECK(magics.insert(version.walMagic).second);
    REQUIRE(version.control != nullptr);
    CHECK(version.control->crc >= version.control->dataChecksumVersion + 4);
  }
  CHECK(majors.count(15) == 1);
}

TEST_CASE("major version from server_version_num and the tablespace directory name") {
  CHECK(pgMajorFromVersionNum(150004) == 15);
  CHECK(pgMajorFromVersionNum(120000) == 12);
  CHECK(tablespaceVersionDirectory(15, 202209061) == "PG_15_202209061");
}
