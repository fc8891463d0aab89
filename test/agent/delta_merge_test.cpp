#include "agent/delta_merge.h"

#include "common/manifest/manifest.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

using namespace pgbr;
using namespace pgbr::agent;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  test::TempDir dir{"pgbr-delta-merge"};
  fs::path root = dir / "data";
  fs::path outside = dir / "outside";
  Fixture() {
    fs::create_directories(root);
    fs::create_directories(outside);
  }
};

std::vector<std::string> walkAll(DeltaWalker& walker, RestoreTree& tree) {
  std::vector<std::string> paths;
  while (const LocalEntry* entry = walker.peek()) {
    std::string path = entry->path;
    bool directory = entry->type == LocalType::Directory;
    walker.consume();
    paths.push_back(path);
    if (directory) walker.enter(path, tree.openDirectory(path));
  }
  return paths;
}

}  // namespace

TEST_CASE("the walker lists the data directory in manifest order, names '/' before any other byte") {
  Fixture f;
  fs::create_directories(f.root / "a" / "x");
  test::writeFile(f.root / "a" / "x" / "1", "1");
  test::writeFile(f.root / "a.b", "ab");
  test::writeFile(f.root / "a-c", "ac");
  test::writeFile(f.root / "a" / "z", "z");
  test::writeFile(f.root / "A", "upper");
  RestoreTree tree(f.root.string());
  DeltaWalker walker(tree.openRoot());
  auto paths = walkAll(walker, tree);
  CHECK(paths == std::vector<std::string>{"A", "a", "a/x", "a/x/1", "a/z", "a-c", "a.b"});
  CHECK(std::is_sorted(paths.begin(), paths.end(),
                       [](const std::string& l, const std::string& r) { return manifestPathLess(l, r); }));
}

TEST_CASE("the walker reports type, size, mtime, hard links and link targets without following links") {
  Fixture f;
  test::writeFile(f.root / "file", "12345");
  fs::create_hard_link(f.root / "file", f.root / "hard");
  fs::create_directory_symlink(f.outside, f.root / "link");
  test::writeFile(f.outside / "secret", "s");
  RestoreTree tree(f.root.string());
  DeltaWalker walker(tree.openRoot());
  const LocalEntry* file = walker.peek();
  REQUIRE(file);
  CHECK(file->path == "file");
  CHECK(file->type == LocalType::File);
  CHECK(file->size == 5);
  CHECK(file->links == 2);
  struct stat st {};
  REQUIRE(::stat((f.root / "file").c_str(), &st) == 0);
  CHECK(file->mtime == st.st_mtim.tv_sec);
  walker.consume();
  walker.consume();
  REQUIRE(walker.peek());
  CHECK(walker.peek()->path == "hard");
  walker.consume();
  const LocalEntry* link = walker.peek();
  REQUIRE(link);
  CHECK(link->type == LocalType::Link);
  CHECK(link->target == f.outside.string());
  walker.consume();
  CHECK(walker.peek() == nullptr);
}

TEST_CASE("a delta merge removes what the manifest lacks and hands back what it has") {
  Fixture f;
  fs::create_directories(f.root / "base" / "1");
  test::writeFile(f.root / "PG_VERSION", "15\n");
  test::writeFile(f.root / "backup_label", "old label");
  test::writeFile(f.root / "base" / "1" / "1259", "relation");
  test::writeFile(f.root / "base" / "1" / "stray", "stray");
  fs::create_directories(f.root / "old_dir" / "deep");
  test::writeFile(f.root / "old_dir" / "deep" / "file", "x");
  // A link the backup lacks is removed, what it points to is not touched.
  test::writeFile(f.outside / "keep", "outside");
  fs::create_directory_symlink(f.outside, f.root / "old_dir" / "link");
  fs::create_directories(f.root / "pg_wal");
  test::writeFile(f.root / "pg_wal" / "000000010000000000000003", "wal");
  test::writeFile(f.root / "zz_last", "after every manifest path");

  RestoreTree tree(f.root.string());
  DeltaMerge merge(tree, "PG_15_");
  auto version = merge.match("PG_VERSION");
  REQUIRE(version);
  CHECK(version->type == LocalType::File);
  auto base = merge.match("base");
  REQUIRE(base);
  CHECK(base->type == LocalType::Directory);
  CHECK_FALSE(fs::exists(f.root / "backup_label"));
  merge.enter("base");
  auto one = merge.match("base/1");
  REQUIRE(one);
  merge.enter("base/1");
  CHECK(merge.match("base/1/1259"));
  CHECK_FALSE(merge.match("base/1/2600"));  // in the manifest, not on disk
  auto wal = merge.match("pg_wal");
  REQUIRE(wal);
  merge.enter("pg_wal");
  CHECK_FALSE(fs::exists(f.root / "base" / "1" / "stray"));
  CHECK_FALSE(fs::exists(f.root / "old_dir"));
  CHECK(fs::exists(f.outside / "keep"));
  merge.finish();
  CHECK_FALSE(fs::exists(f.root / "pg_wal" / "000000010000000000000003"));
  CHECK(fs::is_directory(f.root / "pg_wal"));
  CHECK_FALSE(fs::exists(f.root / "zz_last"));
  CHECK(fs::exists(f.root / "base" / "1" / "1259"));
  CHECK(fs::exists(f.root / "PG_VERSION"));
  CHECK(merge.removedEntries() == 5);
}

TEST_CASE("a delta merge cleans this version's part of a tablespace and leaves another version's alone") {
  Fixture f;
  fs::path space = f.dir / "space";
  fs::create_directories(space / "PG_15_202209061" / "5");
  fs::create_directories(space / "PG_14_202107181" / "5");
  fs::create_directories(space / "PG_15_199901011");
  test::writeFile(space / "PG_15_202209061" / "5" / "16385", "rel");
  test::writeFile(space / "PG_15_202209061" / "5" / "99999", "dropped");
  test::writeFile(space / "PG_14_202107181" / "5" / "16385", "older cluster");
  fs::create_directories(f.root / "pg_tblspc");
  fs::create_directory_symlink(space, f.root / "pg_tblspc" / "16384");

  RestoreTree tree(f.root.string());
  DeltaMerge merge(tree, "PG_15_");
  REQUIRE(merge.match("pg_tblspc"));
  merge.enter("pg_tblspc");
  auto link = merge.match("pg_tblspc/16384");
  REQUIRE(link);
  CHECK(link->type == LocalType::Link);
  CHECK(link->target == space.string());
  tree.adoptTablespaceLink("pg_tblspc/16384", space.string());
  merge.enterTablespace("pg_tblspc/16384");
  REQUIRE(merge.match("pg_tblspc/16384/PG_15_202209061"));
  merge.enter("pg_tblspc/16384/PG_15_202209061");
  REQUIRE(merge.match("pg_tblspc/16384/PG_15_202209061/5"));
  merge.enter("pg_tblspc/16384/PG_15_202209061/5");
  CHECK(merge.match("pg_tblspc/16384/PG_15_202209061/5/16385"));
  merge.finish();
  CHECK(fs::exists(space / "PG_15_202209061" / "5" / "16385"));
  CHECK_FALSE(fs::exists(space / "PG_15_202209061" / "5" / "99999"));
  CHECK_FALSE(fs::exists(space / "PG_15_199901011"));  // this major version's, not the backup's
  CHECK(fs::exists(space / "PG_14_202107181" / "5" / "16385"));
  CHECK(fs::is_symlink(f.root / "pg_tblspc" / "16384"));
}

TEST_CASE("an entry peeked before the restore enters a directory it created is still removed afterwards") {
  Fixture f;
  test::writeFile(f.root / "precious.txt", "not in the backup");
  fs::path space = f.dir / "space";
  RestoreTree tree(f.root.string());
  DeltaMerge merge(tree, "PG_15_");
  CHECK_FALSE(merge.match("pg_tblspc"));  // peeks precious.txt, which sorts after it
  tree.createDirectory("pg_tblspc");
  CHECK_FALSE(merge.match("pg_tblspc/16384"));
  tree.createTablespaceLink("pg_tblspc/16384", space.string(), true);
  merge.enterTablespace("pg_tblspc/16384");
  CHECK_FALSE(merge.match("pg_tblspc/16384/PG_15_202209061"));
  merge.finish();
  CHECK_FALSE(fs::exists(f.root / "precious.txt"));
  CHECK(merge.removedEntries() == 1);
}
