#include "common/pg/wal_header.h"

#include "common/error.h"
#include "common/pg/control.h"
#include "common/pg/server.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

namespace {

ClusterIdentity identityOf(const PgCluster& cluster) {
  ControlData control = readControl(cluster.dataDirectory());
  return {control.systemIdentifier, control.version.major, control.walSegmentSize};
}

}  // namespace

TEST_CASE("archived segments of a real cluster belong to it and are refused for another cluster") {
  PgCluster cluster({.archiveToDirectory = true});
  auto archive = cluster.archiveDirectory();
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  connection.execute("CREATE TABLE public.t AS SELECT generate_series(1, 10000) AS i");
  WalSwitch first = switchWal(connection);
  connection.execute("INSERT INTO public.t SELECT generate_series(1, 10000)");
  WalSwitch second = switchWal(connection);
  REQUIRE(waitForFile(archive / second.walFileName));
  REQUIRE(waitForFile(archive / first.walFileName));

  ClusterIdentity identity = identityOf(cluster);
  for (const auto& name : {first.walFileName, second.walFileName}) {
    WalSegmentHeader header = readWalSegmentHeader((archive / name).string());
    CHECK(header.version.major == 15);
    CHECK(header.systemIdentifier == identity.systemIdentifier);
    CHECK(header.segmentSize == identity.walSegmentSize);
    CHECK(header.blockSize == 8192);
    CHECK(header.timeline == 1);
    CHECK(header.pageAddress == WalSegment::parse(name, header.segmentSize)->startLsn(header.segmentSize));
    CHECK_NOTHROW(checkWalSegmentBelongs(header, name, identity));
  }

  PgCluster other;
  ClusterIdentity otherIdentity = identityOf(other);
  REQUIRE(otherIdentity.systemIdentifier != identity.systemIdentifier);
  WalSegmentHeader header = readWalSegmentHeader((archive / first.walFileName).string());
  try {
    checkWalSegmentBelongs(header, first.walFileName, otherIdentity);
    FAIL("a segment of another cluster was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::PgMismatch);
    std::string message = e.what();
    CHECK(message.find("PostgreSQL 15 with system identifier " + std::to_string(identity.systemIdentifier)) !=
          std::string::npos);
    CHECK(message.find("PostgreSQL 15 with system identifier " + std::to_string(otherIdentity.systemIdentifier)) !=
          std::string::npos);
  }

  // The same bytes under the next segment's name are caught too.
  CHECK_THROWS_WITH_AS(
      checkWalSegmentBelongs(
          header,
          WalSegment::parse(first.walFileName, identity.walSegmentSize)->next().fileName(identity.walSegmentSize),
          identity),
      doctest::Contains("was renamed or is a recycled segment"), Error);
}
