#include "common/pg/page.h"

#include "common/pg/connection.h"
#include "common/pg/control.h"
#include "common/pg/data_dir.h"
#include "common/text.h"
#include "test/common/pg/test_bytes.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

#include <random>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

namespace {

std::vector<uint8_t> readBytes(const std::filesystem::path& path) {
  std::string text = readFile(path);
  return {text.begin(), text.end()};
}

// Checks every relation file of a stopped cluster; returns "path block N (state)" per failure.
std::vector<std::string> checkAllRelationFiles(const PgCluster& cluster, size_t& pagesChecked) {
  ControlData control = readControl(cluster.dataDirectory());
  DataDirectoryRules rules(control.version.major, control.catalogVersion);
  PageCheckOptions options{control.checksumsEnabled(), std::nullopt};
  std::vector<std::string> failures;
  pagesChecked = 0;
  walkDataDirectory(cluster.dataDirectory(), rules, [&](const DataDirEntry& entry) {
    if (entry.decision.fileClass != FileClass::Relation || !entry.decision.included()) return;
    auto bytes = readBytes(cluster.dataDirectory() / entry.path);
    pagesChecked += bytes.size() / kPageSize;
    for (const auto& failure : checkPages(bytes, entry.decision.relation->blockNumber(0), options))
      failures.push_back(
          fmt::format("{} block {} ({})", entry.path, failure.blockNumber, pageStateName(failure.check.state)));
  });
  return failures;
}

}  // namespace

TEST_CASE("every page of a checksummed cluster verifies, and a flipped byte is found with its file and block") {
  PgCluster cluster;
  cluster.start();
  cluster.pgbench({"-i", "-s", "1", "-q"});
  cluster.psql("CHECKPOINT");
  std::string accounts = cluster.psql("SELECT pg_relation_filepath('pgbench_accounts')");
  cluster.stop();

  size_t pages = 0;
  auto failures = checkAllRelationFiles(cluster, pages);
  CHECK_MESSAGE(failures.empty(), join(failures, ", "));
  CHECK(pages > 1000);  // pgbench_accounts alone has about 1640 pages

  // Damage a byte inside block 3 of pgbench_accounts.
  testing::flipByte(cluster.dataDirectory() / accounts, 3 * kPageSize + 4000, 0x20);
  failures = checkAllRelationFiles(cluster, pages);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0] == accounts + " block 3 (checksum mismatch)");

  // PostgreSQL's own checker agrees.
  auto result = cluster.runAsPostgres({"pg_checksums", "--check", "-D", cluster.dataDirectory().string()});
  CHECK(result.exitCode != 0);
  CHECK(result.err.find("block 3") != std::string::npos);
}

TEST_CASE("page checksums agree with PostgreSQL's page_checksum() on random pages and block numbers") {
  PgCluster cluster({.checksums = false});
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  connection.execute("CREATE EXTENSION pageinspect");
  std::mt19937_64 random(20240102);
  for (int i = 0; i < 40; ++i) {
    std::vector<uint8_t> page(kPageSize);
    for (auto& byte : page) byte = static_cast<uint8_t>(random());
    page[14] = static_cast<uint8_t>(random() | 1);  // pd_upper != 0: page_checksum() refuses new pages
    uint32_t block = i < 4 ? std::array<uint32_t, 4>{0, 1, 131072, 0xFFFFFFFE}[i] : static_cast<uint32_t>(random());
    auto expected =
        connection.queryString("SELECT page_checksum(decode($1, 'hex'), $2)", {toHex(page), std::to_string(block)});
    // page_checksum() returns a smallint, so values above 32767 come back negative.
    CHECK_MESSAGE(static_cast<uint16_t>(std::stoi(expected)) == pageChecksum(page, block), "block " << block);
  }
}
