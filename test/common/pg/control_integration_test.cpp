#include "common/pg/control.h"

#include "common/error.h"
#include "test/common/pg/test_bytes.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

TEST_CASE("pg_control of a real cluster matches pg_controldata") {
  PgCluster cluster;
  ControlData control = readControl(cluster.dataDirectory());
  CHECK(control.version.major == 15);
  CHECK(std::to_string(control.systemIdentifier) == cluster.controldataValue("Database system identifier"));
  CHECK(std::to_string(control.controlVersion) == cluster.controldataValue("pg_control version number"));
  CHECK(std::to_string(control.catalogVersion) == cluster.controldataValue("Catalog version number"));
  CHECK(std::to_string(control.dataChecksumVersion) == cluster.controldataValue("Data page checksum version"));
  CHECK(control.dataChecksumVersion == 1);
  CHECK(std::to_string(control.walSegmentSize) == cluster.controldataValue("Bytes per WAL segment"));
  CHECK(std::to_string(control.blockSize) == cluster.controldataValue("Database block size"));
  CHECK(std::to_string(control.relationSegmentSize) ==
        cluster.controldataValue("Blocks per segment of large relation"));
  CHECK(std::to_string(control.walBlockSize) == cluster.controldataValue("WAL block size"));
  CHECK(control.checkpoint.toString() == cluster.controldataValue("Latest checkpoint location"));
  CHECK(control.checkpointRedo.toString() == cluster.controldataValue("Latest checkpoint's REDO location"));
  CHECK(std::to_string(control.timeline) == cluster.controldataValue("Latest checkpoint's TimeLineID"));
  CHECK(dbStateName(control.state) == cluster.controldataValue("Database cluster state"));
  CHECK(control.state == DbState::ShutDown);

  cluster.start();
  cluster.psql("CHECKPOINT");
  control = readControl(cluster.dataDirectory());
  CHECK(control.state == DbState::InProduction);
  CHECK(control.checkpoint.toString() == cluster.controldataValue("Latest checkpoint location"));
  CHECK(control.walLevel == 1);
}

TEST_CASE("pg_control of a cluster without checksums and with 1 MiB WAL segments") {
  PgCluster cluster({.checksums = false, .initdbArgs = {"--wal-segsize=1"}});
  ControlData control = readControl(cluster.dataDirectory());
  CHECK_FALSE(control.checksumsEnabled());
  CHECK(control.walSegmentSize == 1u << 20);
  CHECK(std::to_string(control.systemIdentifier) == cluster.controldataValue("Database system identifier"));
}

TEST_CASE("a damaged copy of a real pg_control fails its CRC naming the file") {
  PgCluster cluster;
  TempDir copy;
  std::filesystem::create_directories(copy.path() / "global");
  std::filesystem::copy_file(cluster.dataDirectory() / "global/pg_control", copy.path() / "global/pg_control");
  CHECK(readControl(copy.path()).systemIdentifier == readControl(cluster.dataDirectory()).systemIdentifier);
  testing::flipByte(copy.path() / "global/pg_control", 40, 0x04);
  try {
    readControl(copy.path());
    FAIL("a damaged pg_control was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::Corrupt);
    CHECK(std::string(e.what()).find((copy.path() / "global/pg_control").string() + "' fails its CRC-32C check") !=
          std::string::npos);
  }
}
