#include "common/pg/page.h"

#include "common/pg/binary.h"

#include <array>
#include <cstring>

namespace pgbr::pg {
namespace {

using detail::readAt;

constexpr size_t kLanes = 32;  // N_SUMS: part of the algorithm, changing it changes every checksum
constexpr uint32_t kFnvPrime = 16777619;
constexpr size_t kChecksumOffset = 8;        // offsetof(PageHeaderData, pd_checksum)
constexpr uint16_t kValidFlagBits = 0x0007;  // PD_VALID_FLAG_BITS
constexpr uint16_t kMaxAlign = 8;

// Each lane starts from its own offset basis (the values are fixed by PostgreSQL).
constexpr std::array<uint32_t, kLanes> kBaseOffsets{
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

// FNV-1a on 32-bit words with an extra shift-xor so high input bits reach the low output bits.
inline uint32_t mix(uint32_t sum, uint32_t value) {
  uint32_t tmp = sum ^ value;
  return tmp * kFnvPrime ^ (tmp >> 17);
}

bool allZero(std::span<const uint8_t> page) {
  static constexpr std::array<uint8_t, 64> kZeros{};
  size_t i = 0;
  for (; i + kZeros.size() <= page.size(); i += kZeros.size())
    if (std::memcmp(page.data() + i, kZeros.data(), kZeros.size()) != 0) return false;
  for (; i < page.size(); ++i)
    if (page[i] != 0) return false;
  return true;
}

}  // namespace

PageHeader pageHeader(std::span<const uint8_t> page) {
  PageHeader header;
  // pd_lsn is two uint32 halves (xlogid, xrecoff), not one uint64.
  header.lsn = Lsn(uint64_t(readAt<uint32_t>(page, 0)) << 32 | readAt<uint32_t>(page, 4));
  header.checksum = readAt<uint16_t>(page, 8);
  header.flags = readAt<uint16_t>(page, 10);
  header.lower = readAt<uint16_t>(page, 12);
  header.upper = readAt<uint16_t>(page, 14);
  header.special = readAt<uint16_t>(page, 16);
  header.pageSizeVersion = readAt<uint16_t>(page, 18);
  header.pruneXid = readAt<uint32_t>(page, 20);
  return header;
}

uint16_t pageChecksum(std::span<const uint8_t> page, uint32_t blockNumber) {
  // The page is a matrix of rows of kLanes 32-bit words; each lane (column) is hashed on its own.
  std::array<uint32_t, kLanes> sums = kBaseOffsets;
  const size_t rows = page.size() / (sizeof(uint32_t) * kLanes);
  for (size_t row = 0; row < rows; ++row) {
    const uint8_t* rowBytes = page.data() + row * sizeof(uint32_t) * kLanes;
    std::array<uint32_t, kLanes> words;
    std::memcpy(words.data(), rowBytes, sizeof words);
    if (row == 0) {
      // pd_checksum counts as zero: clear its two bytes inside the word that holds them.
      uint8_t word[4];
      std::memcpy(word, rowBytes + kChecksumOffset, 4);
      word[0] = word[1] = 0;
      std::memcpy(&words[kChecksumOffset / 4], word, 4);
    }
    for (size_t lane = 0; lane < kLanes; ++lane) sums[lane] = mix(sums[lane], words[lane]);
  }
  // Two rounds of zeroes mix the last words through.
  for (int round = 0; round < 2; ++round)
    for (auto& sum : sums) sum = mix(sum, 0);
  uint32_t result = 0;
  for (uint32_t sum : sums) result ^= sum;
  // The block number catches pages written to the wrong place; the +1 keeps 0 out of the range.
  result ^= blockNumber;
  return static_cast<uint16_t>(result % 65535 + 1);
}

PageCheck checkPage(std::span<const uint8_t> page, uint32_t blockNumber, const PageCheckOptions& options) {
  PageHeader header = pageHeader(page);
  PageCheck check;
  check.stored = header.checksum;
  check.lsn = header.lsn;
  // PageIsNew(): pd_upper == 0. Such a page is only valid when entirely zero.
  if (header.upper != 0) {
    bool checksumOk = true;
    if (options.checksums) {
      check.computed = pageChecksum(page, blockNumber);
      checksumOk = check.computed == header.checksum;
    }
    bool headerSane = (header.flags & ~kValidFlagBits) == 0 && header.lower <= header.upper &&
                      header.upper <= header.special && header.special <= page.size() &&
                      header.special % kMaxAlign == 0;
    if (headerSane && checksumOk) return check;
    check.state = headerSane ? PageState::BadChecksum : PageState::BadHeader;
  } else {
    check.state = PageState::BadHeader;
  }
  if (allZero(page)) {
    check.state = PageState::New;
    return check;
  }
  if (options.backupStart && header.lsn >= *options.backupStart) check.state = PageState::ChangedInBackup;
  return check;
}

std::string_view pageStateName(PageState state) {
  switch (state) {
    case PageState::Valid:
      return "valid";
    case PageState::New:
      return "new (all zeroes)";
    case PageState::ChangedInBackup:
      return "changed during the backup";
    case PageState::BadChecksum:
      return "checksum mismatch";
    case PageState::BadHeader:
      return "invalid page header";
  }
  return "unknown";
}

std::vector<PageFailure> checkPages(std::span<const uint8_t> data, uint32_t firstBlock, const PageCheckOptions& options,
                                    size_t pageSize) {
  std::vector<PageFailure> failures;
  for (size_t offset = 0, block = firstBlock; offset + pageSize <= data.size(); offset += pageSize, ++block) {
    PageCheck check = checkPage(data.subspan(offset, pageSize), static_cast<uint32_t>(block), options);
    if (!check.ok()) failures.push_back({static_cast<uint32_t>(block), check});
  }
  return failures;
}

}  // namespace pgbr::pg
