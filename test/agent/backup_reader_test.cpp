#include "agent/backup_reader.h"
#include "agent/prior_manifest.h"

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

TEST_CASE("a file is trusted unchanged only with the same size and mtime, well before the prior backup started") {
  pg::DataDirEntry walked;
  walked.path = "base/5/16384";
  walked.type = pg::EntryType::File;
  walked.size = 8192;
  walked.mtime = 1700000000;
  ManifestEntry prior;
  prior.type = EntryType::File;
  prior.path = walked.path;
  prior.size = 8192;
  prior.mtime = 1700000000;
  const int64_t priorStart = 1700000000 + kTimestampMargin;
  CHECK(unchangedSince(walked, prior, priorStart));
  // Written in the same second (or just before) the prior backup read it: a later write in that
  // second would keep the time, so the file is read again.
  CHECK_FALSE(unchangedSince(walked, prior, priorStart - 1));
  CHECK_FALSE(unchangedSince(walked, prior, walked.mtime));
  prior.size = 16384;
  CHECK_FALSE(unchangedSince(walked, prior, priorStart));
  prior.size = 8192;
  prior.mtime = 1700000001;
  CHECK_FALSE(unchangedSince(walked, prior, priorStart + 10));
  prior.mtime = walked.mtime;
  prior.type = EntryType::Link;
  CHECK_FALSE(unchangedSince(walked, prior, priorStart));
}
