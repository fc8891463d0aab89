#include "agent/backup_reader.h"

#include <doctest/doctest.h>

#include <unistd.h>

using namespace pgbr;
using namespace pgbr::agent;

TEST_CASE("blocks with bad checksums are listed as ranges, and a long list is cut") {
  CHECK(describeBlocks({}) == "");
  CHECK(describeBlocks({7}) == "7");
  CHECK(describeBlocks({0, 3, 4, 5, 9}) == "0, 3-5, 9");
  std::vector<uint32_t> many;
  for (uint32_t i = 0; i < 50; ++i) many.push_back(i * 2);
  CHECK(describeBlocks(many, 3) == "0, 2, 4, …");
}

TEST_CASE("a walked path becomes a manifest entry with its owner's names") {
  OwnerNames names;
  pg::DataDirEntry link;
  link.path = "pg_tblspc/16384";
  link.type = pg::EntryType::Symlink;
  link.linkTarget = "/ssd/fast";
  link.mtime = 1700000000;
  link.mode = 0120777;
  link.uid = ::getuid();
  link.gid = ::getgid();
  ManifestEntry entry = manifestEntryFor(link, names);
  CHECK(entry.type == EntryType::Link);
  CHECK(entry.target == "/ssd/fast");
  CHECK(entry.mode == 0777);
  CHECK(entry.mtime == 1700000000);
  CHECK_FALSE(entry.user.empty());
  CHECK(names.user(4000000000u) == "4000000000");  // no such user: the id itself
}
