#include "common/pg/data_dir.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;

namespace {

const DataDirectoryRules kRules(15, 202209061);

Disposition disposition(const char* path, EntryType type = EntryType::File, bool initFork = false) {
  return kRules.decide(path, type, initFork).disposition;
}

}  // namespace

TEST_CASE("server state, old labels and signal files at the top level are excluded") {
  for (const char* name :
       {"postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "tablespace_map.old",
        "backup_manifest", "recovery.signal", "standby.signal", "postgresql.auto.conf.tmp", "current_logfiles.tmp"})
    CHECK_MESSAGE(disposition(name) == Disposition::Exclude, name);
  for (const char* name :
       {"PG_VERSION", "postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf", "current_logfiles"})
    CHECK_MESSAGE(disposition(name) == Disposition::Include, name);
  // The same names deeper down are someone else's files.
  CHECK(disposition("log/postmaster.pid") == Disposition::Include);
}

TEST_CASE("directories PostgreSQL resets at start are kept empty") {
  for (const char* name :
       {"pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"})
    CHECK_MESSAGE(disposition(name, EntryType::Directory) == Disposition::IncludeEmpty, name);
  for (const char* name : {"pg_xact", "pg_multixact", "pg_logical", "pg_stat", "pg_commit_ts", "pg_twophase", "base",
                           "global", "pg_tblspc", "pg_wal", "log"})
    CHECK_MESSAGE(disposition(name, EntryType::Directory) == Disposition::Include, name);
}

TEST_CASE("pg_wal keeps only an empty archive_status") {
  CHECK(disposition("pg_wal/archive_status", EntryType::Directory) == Disposition::IncludeEmpty);
  CHECK(disposition("pg_wal/000000010000000000000001") == Disposition::Exclude);
  CHECK(disposition("pg_wal/00000002.history") == Disposition::Exclude);
  CHECK(disposition("pg_wal/archive_status/000000010000000000000001.done") == Disposition::Exclude);
  CHECK(disposition("pg_wal/summaries", EntryType::Directory) == Disposition::Exclude);
}

TEST_CASE("temporary files and directories are excluded everywhere") {
  CHECK(disposition("base/pgsql_tmp", EntryType::Directory) == Disposition::Exclude);
  CHECK(disposition("base/5/pgsql_tmp12345.0") == Disposition::Exclude);
  CHECK(disposition("pgsql_tmp", EntryType::Directory) == Disposition::Exclude);
  CHECK(disposition("pg_tblspc/16400/PG_15_202209061/pgsql_tmp", EntryType::Directory) == Disposition::Exclude);
}

TEST_CASE("the relation cache init file and its temporary copies are excluded") {
  CHECK(disposition("global/pg_internal.init") == Disposition::Exclude);
  CHECK(disposition("base/5/pg_internal.init") == Disposition::Exclude);
  CHECK(disposition("base/5/pg_internal.init.4321") == Disposition::Exclude);
}

TEST_CASE("relation files are classified with fork and segment, other files in databases are plain files") {
  auto decision = kRules.decide("base/5/16384_vm.2", EntryType::File);
  CHECK(decision.disposition == Disposition::Include);
  CHECK(decision.fileClass == FileClass::Relation);
  REQUIRE(decision.relation);
  CHECK(decision.relation->relfilenode == 16384);
  CHECK(decision.relation->fork == Fork::Vm);
  CHECK(decision.relation->segment == 2);
  CHECK(kRules.decide("global/1262", EntryType::File).fileClass == FileClass::Relation);
  CHECK(kRules.decide("base/5/PG_VERSION", EntryType::File).fileClass == FileClass::Other);
  CHECK(kRules.decide("base/5/pg_filenode.map", EntryType::File).fileClass == FileClass::Other);
  CHECK(kRules.decide("global/pg_filenode.map", EntryType::File).fileClass == FileClass::Other);
  // Numeric names outside database directories are not relations.
  CHECK(kRules.decide("pg_xact/0000", EntryType::File).fileClass == FileClass::Other);
  CHECK(kRules.decide("pg_multixact/members/0000", EntryType::File).fileClass == FileClass::Other);
  CHECK(kRules.decide("base/16384", EntryType::File).fileClass == FileClass::Other);
}

TEST_CASE("pg_control is classified so it can be copied last") {
  auto decision = kRules.decide("global/pg_control", EntryType::File);
  CHECK(decision.disposition == Disposition::Include);
  CHECK(decision.fileClass == FileClass::Control);
}

TEST_CASE("temporary relations are excluded") {
  CHECK(disposition("base/5/t3_16384") == Disposition::Exclude);
  CHECK(disposition("base/5/t3_16384_fsm") == Disposition::Exclude);
  CHECK(disposition("pg_tblspc/16400/PG_15_202209061/5/t12_16500.1") == Disposition::Exclude);
}

TEST_CASE("of an unlogged relation only the init fork is kept") {
  CHECK(disposition("base/5/16500", EntryType::File, true) == Disposition::Exclude);
  CHECK(disposition("base/5/16500.3", EntryType::File, true) == Disposition::Exclude);
  CHECK(disposition("base/5/16500_fsm", EntryType::File, true) == Disposition::Exclude);
  CHECK(disposition("base/5/16500_vm", EntryType::File, true) == Disposition::Exclude);
  CHECK(disposition("base/5/16500_init", EntryType::File, true) == Disposition::Include);
  CHECK(disposition("base/5/16500", EntryType::File, false) == Disposition::Include);

  std::vector<DataDirectoryRules::Entry> entries = {
      {"16500", EntryType::File},      {"16500_init", EntryType::File}, {"16500_fsm", EntryType::File},
      {"16501", EntryType::File},      {"16501_vm", EntryType::File},   {"t4_16600", EntryType::File},
      {"PG_VERSION", EntryType::File}, {"16502_init", EntryType::File}, {"16502.1", EntryType::File},
  };
  auto decisions = kRules.decideDirectory("base/16384", entries);
  std::vector<Disposition> expected = {Disposition::Exclude, Disposition::Include, Disposition::Exclude,
                                       Disposition::Include, Disposition::Include, Disposition::Exclude,
                                       Disposition::Include, Disposition::Include, Disposition::Exclude};
  REQUIRE(decisions.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) CHECK_MESSAGE(decisions[i].disposition == expected[i], entries[i].name);
}

TEST_CASE("tablespaces: links are followed into this version's directory only") {
  auto link = kRules.decide("pg_tblspc/16400", EntryType::Symlink);
  CHECK(link.disposition == Disposition::Include);
  CHECK(link.tablespaceOid == 16400u);
  CHECK(kRules.decide("pg_tblspc/16401", EntryType::Directory).tablespaceOid == 16401u);  // in-place tablespace
  CHECK(kRules.tablespaceSubdirectory() == "PG_15_202209061");
  CHECK(disposition("pg_tblspc/16400/PG_15_202209061", EntryType::Directory) == Disposition::Include);
  CHECK(disposition("pg_tblspc/16400/PG_14_202107181", EntryType::Directory) == Disposition::Exclude);
  auto relation = kRules.decide("pg_tblspc/16400/PG_15_202209061/5/16410.1", EntryType::File);
  CHECK(relation.fileClass == FileClass::Relation);
  CHECK(relation.relation->segment == 1);
  CHECK(disposition("pg_tblspc/16400/PG_15_202209061/5/16410", EntryType::File, true) == Disposition::Exclude);
}

TEST_CASE("walking a directory that does not exist names it") {
  DataDirectoryRules rules(15, 202209061);
  CHECK_THROWS_WITH_AS(walkDataDirectory("/nonexistent/pgdata", rules, [](const DataDirEntry&) {}),
                       "data directory '/nonexistent/pgdata' does not exist: check pg1-path", Error);
}
