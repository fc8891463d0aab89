#include "common/pg/page.h"

#include "test/common/pg/test_bytes.h"

#include <doctest/doctest.h>

#include <vector>

using namespace pgbr::pg;
using pgbr::pg::testing::putAt;

namespace {

// Bytes (i * 7 + 3) % 251 with a sane header: the page whose checksums PostgreSQL 15's
// pageinspect page_checksum() reported as 63166 (block 0), 9976 (block 12345) and 2370
// (block 4294967294).
std::vector<uint8_t> patternPage() {
  std::vector<uint8_t> page(kPageSize);
  for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<uint8_t>((i * 7 + 3) % 251);
  putAt<uint16_t>(page, 10, 0);     // pd_flags
  putAt<uint16_t>(page, 12, 24);    // pd_lower
  putAt<uint16_t>(page, 14, 8000);  // pd_upper
  putAt<uint16_t>(page, 16, 8192);  // pd_special
  return page;
}

// A page with a valid header and checksum for blockNumber.
std::vector<uint8_t> validPage(uint32_t blockNumber, uint64_t lsn = 0x100000028) {
  auto page = patternPage();
  putAt<uint32_t>(page, 0, static_cast<uint32_t>(lsn >> 32));
  putAt<uint32_t>(page, 4, static_cast<uint32_t>(lsn));
  putAt<uint16_t>(page, 8, pageChecksum(page, blockNumber));
  return page;
}

const PageCheckOptions kChecksums{true, std::nullopt};

}  // namespace

TEST_CASE("page checksums match PostgreSQL's for the same page and block numbers") {
  auto page = patternPage();
  CHECK(pageChecksum(page, 0) == 63166);
  CHECK(pageChecksum(page, 12345) == 9976);
  CHECK(pageChecksum(page, 4294967294u) == 2370);
}

TEST_CASE("the stored checksum does not feed into the checksum") {
  auto page = patternPage();
  uint16_t before = pageChecksum(page, 7);
  putAt<uint16_t>(page, 8, 0xBEEF);
  CHECK(pageChecksum(page, 7) == before);
  // ... but the flags sharing its 32-bit word do.
  putAt<uint16_t>(page, 10, 0x0001);
  CHECK(pageChecksum(page, 7) != before);
}

TEST_CASE("the page header is read field by field") {
  auto page = validPage(3, 0x16B374D848);
  PageHeader header = pageHeader(page);
  CHECK(header.lsn.toString() == "16/B374D848");
  CHECK(header.lower == 24);
  CHECK(header.upper == 8000);
  CHECK(header.special == 8192);
  CHECK(header.checksum == pageChecksum(page, 3));
}

TEST_CASE("a page with the right checksum at its block is valid, elsewhere it is not") {
  auto page = validPage(42);
  CHECK(checkPage(page, 42, kChecksums).state == PageState::Valid);
  auto moved = checkPage(page, 43, kChecksums);
  CHECK(moved.state == PageState::BadChecksum);
  CHECK(moved.stored == pageChecksum(page, 42));
  CHECK(moved.computed == pageChecksum(page, 43));
}

TEST_CASE("a flipped byte anywhere in the page is caught") {
  for (size_t offset : {size_t(0), size_t(30), size_t(4096), kPageSize - 1}) {
    auto page = validPage(1);
    page[offset] ^= 0x10;
    CHECK_FALSE(checkPage(page, 1, kChecksums).ok());
  }
}

TEST_CASE("an all-zero page is a valid new page, a zero pd_upper with data is not") {
  std::vector<uint8_t> zeros(kPageSize, 0);
  CHECK(checkPage(zeros, 5, kChecksums).state == PageState::New);
  zeros[5000] = 1;
  CHECK(checkPage(zeros, 5, kChecksums).state == PageState::BadHeader);
}

TEST_CASE("impossible header offsets are a bad header even without checksums") {
  const PageCheckOptions noChecksums{false, std::nullopt};
  auto page = validPage(1);
  CHECK(checkPage(page, 1, noChecksums).state == PageState::Valid);
  auto lowerAboveUpper = page;
  putAt<uint16_t>(lowerAboveUpper, 12, 8100);
  CHECK(checkPage(lowerAboveUpper, 1, noChecksums).state == PageState::BadHeader);
  auto specialBeyondPage = page;
  putAt<uint16_t>(specialBeyondPage, 16, 8200);
  CHECK(checkPage(specialBeyondPage, 1, noChecksums).state == PageState::BadHeader);
  auto unalignedSpecial = page;
  putAt<uint16_t>(unalignedSpecial, 16, 8180);
  CHECK(checkPage(unalignedSpecial, 1, noChecksums).state == PageState::BadHeader);
  auto unknownFlag = page;
  putAt<uint16_t>(unknownFlag, 10, 0x0100);
  CHECK(checkPage(unknownFlag, 1, noChecksums).state == PageState::BadHeader);
  // Without checksums a changed data byte cannot be seen.
  auto changed = page;
  changed[6000] ^= 1;
  CHECK(checkPage(changed, 1, noChecksums).ok());
}

TEST_CASE("a bad page written after the backup started is left to WAL replay") {
  auto page = validPage(9, 0x500000000);
  page[100] ^= 0xFF;
  PageCheckOptions online{true, Lsn(0x400000000)};
  CHECK(checkPage(page, 9, online).state == PageState::ChangedInBackup);
  CHECK(checkPage(page, 9, online).ok());
  online.backupStart = Lsn(0x600000000);
  CHECK(checkPage(page, 9, online).state == PageState::BadChecksum);
}

TEST_CASE("checkPages reports failing blocks by their number and skips a trailing partial page") {
  std::vector<uint8_t> data;
  for (uint32_t block = 100; block < 104; ++block) {
    auto page = validPage(block);
    data.insert(data.end(), page.begin(), page.end());
  }
  data[2 * kPageSize + 77] ^= 0x01;      // block 102
  data.resize(data.size() + 100, 0xAA);  // a page being appended
  auto failures = checkPages(data, 100, kChecksums);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].blockNumber == 102);
  CHECK(failures[0].check.state == PageState::BadChecksum);
  CHECK(pageStateName(failures[0].check.state) == "checksum mismatch");
}
