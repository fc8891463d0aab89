#include "agent/restore_tree.h"

#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

using namespace pgbr;
using namespace pgbr::agent;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  test::TempDir dir{"pgbr-restore-tree"};
  fs::path root = dir / "data";
  fs::path outside = dir / "outside";
  Fixture() {
    fs::create_directory(root);
    fs::create_directory(outside);
  }
  RestoreTree tree() { return RestoreTree(root.string()); }
};

ErrorCode codeOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::Internal;
}

}  // namespace

TEST_CASE("directories and files are created below the data directory") {
  Fixture f;
  auto tree = f.tree();
  tree.createDirectory("base");
  tree.createDirectory("base/1");
  UniqueFd fd = tree.createFile("base/1/1259");
  CHECK(fd);
  CHECK(fs::is_regular_file(f.root / "base/1/1259"));
  CHECK(tree.describe("base/1/1259") == (f.root / "base/1/1259").string());
}

TEST_CASE("absolute paths, '..' and empty components are refused before anything is touched") {
  Fixture f;
  auto tree = f.tree();
  CHECK(codeOf([&] { tree.createFile("/etc/passwd"); }) == ErrorCode::PathInvalid);
  CHECK(codeOf([&] { tree.createFile("../outside/x"); }) == ErrorCode::PathInvalid);
  CHECK(codeOf([&] { tree.createDirectory("base//x"); }) == ErrorCode::PathInvalid);
  CHECK(fs::is_empty(f.outside));
}

TEST_CASE("a path through a link the same restore created is refused") {
  Fixture f;
  auto tree = f.tree();
  tree.createSymlink("conf", f.outside.string());
  CHECK_THROWS_WITH_AS(
      tree.createFile("conf/postgresql.conf"),
      "manifest path 'conf/postgresql.conf' passes through 'conf', which is a symbolic link: a restore "
      "never writes through a link other than a tablespace link it created",
      Error);
  CHECK(codeOf([&] { tree.createDirectory("conf/sub"); }) == ErrorCode::PathInvalid);
  CHECK(fs::is_empty(f.outside));
}

TEST_CASE("a link planted in the data directory by someone else is not followed either") {
  Fixture f;
  auto tree = f.tree();
  fs::create_directory(f.root / "base");
  fs::create_directory_symlink(f.outside, f.root / "base/1");
  CHECK(codeOf([&] { tree.createFile("base/1/16384"); }) == ErrorCode::PathInvalid);
  // A link as the last component is not written through either: files are created new.
  fs::create_symlink(f.outside / "target", f.root / "base/2");
  CHECK(codeOf([&] { tree.createFile("base/2"); }) == ErrorCode::PathInvalid);
  CHECK(fs::is_empty(f.outside));
}

TEST_CASE("a file in the way of a directory component is refused") {
  Fixture f;
  auto tree = f.tree();
  tree.createFile("PG_VERSION");
  CHECK(codeOf([&] { tree.createFile("PG_VERSION/x"); }) == ErrorCode::PathInvalid);
}

TEST_CASE("an existing file is never opened for writing again") {
  Fixture f;
  auto tree = f.tree();
  tree.createFile("backup_label");
  CHECK(codeOf([&] { tree.createFile("backup_label"); }) == ErrorCode::PathInvalid);
  tree.createDirectory("global");
  CHECK(codeOf([&] { tree.createDirectory("global"); }) == ErrorCode::PathInvalid);
}

TEST_CASE("paths below a tablespace link this restore created go into the tablespace directory") {
  Fixture f;
  auto tree = f.tree();
  tree.createDirectory("pg_tblspc");
  fs::path target = f.dir / "tablespaces" / "fast";  // created with its parents
  tree.createTablespaceLink("pg_tblspc/16384", target.string());
  CHECK(fs::read_symlink(f.root / "pg_tblspc/16384") == target);
  tree.createDirectory("pg_tblspc/16384/PG_15_202209061");
  tree.createDirectory("pg_tblspc/16384/PG_15_202209061/5");
  tree.createFile("pg_tblspc/16384/PG_15_202209061/5/16385");
  CHECK(fs::is_regular_file(target / "PG_15_202209061/5/16385"));
  CHECK(tree.describe("pg_tblspc/16384/PG_15_202209061/5/16385") == (target / "PG_15_202209061/5/16385").string());
  auto dir = tree.openTablespaceDirectory("pg_tblspc/16384");
  CHECK(dir);
}

TEST_CASE("a tablespace directory that is not empty, or lies inside the data directory, is refused") {
  Fixture f;
  auto tree = f.tree();
  tree.createDirectory("pg_tblspc");
  test::writeFile(f.outside / "something", "x");
  CHECK_THROWS_WITH_AS(tree.createTablespaceLink("pg_tblspc/16384", f.outside.string()),
                       doctest::Contains("is not empty; restore it elsewhere with --tablespace-map"), Error);
  CHECK(codeOf([&] { tree.createTablespaceLink("pg_tblspc/16385", (f.root / "inside").string()); }) ==
        ErrorCode::PathInvalid);
  CHECK(codeOf([&] { tree.createTablespaceLink("pg_tblspc/16386", "relative/dir"); }) == ErrorCode::PathInvalid);
}

TEST_CASE("attributes set mode and modification time on an open file") {
  Fixture f;
  auto tree = f.tree();
  UniqueFd fd = tree.createFile("postgresql.conf");
  applyAttributes(fd.get(), 0640, 1700000000, Ownership{}, "postgresql.conf");
  struct stat st {};
  REQUIRE(::stat((f.root / "postgresql.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_mtime == 1700000000);
}

TEST_CASE("ownership is looked up only for names this host has") {
  auto owner = ownershipFor("no-such-user-pgbr", "no-such-group-pgbr");
  CHECK_FALSE(owner.uid.has_value());
  CHECK_FALSE(owner.gid.has_value());
  if (::geteuid() == 0) {
    auto root = ownershipFor("root", "root");
    CHECK(root.uid == 0u);
    CHECK(root.gid == 0u);
  }
}

TEST_CASE("a delta restore opens existing regular files only, and removes links, not what they point to") {
  Fixture f;
  auto tree = f.tree();
  test::writeFile(f.root / "PG_VERSION", "15\n");
  CHECK(tree.openFile("PG_VERSION"));
  test::writeFile(f.outside / "target", "outside");
  fs::create_symlink(f.outside / "target", f.root / "link");
  CHECK(codeOf([&] { tree.openFile("link"); }) == ErrorCode::FileOpen);
  fs::create_directory(f.root / "dir");
  CHECK(codeOf([&] { tree.openFile("dir"); }) != ErrorCode::Internal);
  fs::create_directories(f.root / "tree" / "sub");
  fs::create_directory_symlink(f.outside, f.root / "tree" / "sub" / "escape");
  test::writeFile(f.root / "tree" / "sub" / "file", "x");
  tree.remove("tree");
  tree.remove("link");
  tree.remove("absent");
  CHECK_FALSE(fs::exists(f.root / "tree"));
  CHECK_FALSE(fs::exists(fs::symlink_status(f.root / "link")));
  CHECK(test::readFile(f.outside / "target") == "outside");
}

TEST_CASE("a delta restore takes over a tablespace link that points where the restore maps it") {
  Fixture f;
  auto tree = f.tree();
  tree.createDirectory("pg_tblspc");
  fs::path target = f.dir / "space";
  fs::create_directories(target / "PG_15_202209061");
  fs::create_directory_symlink(target, f.root / "pg_tblspc" / "16384");
  CHECK(codeOf([&] { tree.adoptTablespaceLink("pg_tblspc/16384", (f.dir / "elsewhere").string()); }) ==
        ErrorCode::Internal);
  tree.adoptTablespaceLink("pg_tblspc/16384", target.string());
  tree.createFile("pg_tblspc/16384/PG_15_202209061/x");
  CHECK(fs::exists(target / "PG_15_202209061" / "x"));
  // A non-empty tablespace directory is accepted for a delta restore, which cleans it.
  fs::create_directories(f.dir / "full" / "PG_15_202209061");
  CHECK(codeOf([&] { tree.createTablespaceLink("pg_tblspc/16385", (f.dir / "full").string()); }) ==
        ErrorCode::PathNotEmpty);
  tree.createTablespaceLink("pg_tblspc/16385", (f.dir / "full").string(), true);
  CHECK(fs::is_symlink(f.root / "pg_tblspc" / "16385"));
}
