#include "common/pg/crc32c.h"

#include <doctest/doctest.h>

#include <string_view>
#include <vector>

using namespace pgbr::pg;

namespace {
std::span<const uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
}  // namespace

TEST_CASE("crc32c matches the Castagnoli check value and the empty input") {
  CHECK(crc32c(bytesOf("123456789")) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
  // RFC 3720 (iSCSI) vector: 32 bytes of zeroes.
  std::vector<uint8_t> zeros(32, 0);
  CHECK(crc32c(zeros) == 0x8A9136AAu);
}

TEST_CASE("crc32c gives the same result whatever the length and alignment of the input") {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
  // A bit-at-a-time reference, to check the sliced tables at every tail length.
  auto reference = [](std::span<const uint8_t> bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (uint8_t byte : bytes) {
      crc ^= byte;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0u);
    }
    return crc ^ 0xFFFFFFFFu;
  };
  for (size_t offset = 0; offset < 9; ++offset)
    for (size_t length : {0, 1, 7, 8, 9, 15, 16, 17, 100, 288, 900})
      CHECK(crc32c(std::span(data).subspan(offset, length)) == reference(std::span(data).subspan(offset, length)));
}
