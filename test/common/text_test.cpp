#include "common/text.h"

#include <doctest/doctest.h>

using namespace pgbr;

TEST_CASE("hex round trip and rejection") {
  std::vector<uint8_t> bytes{0x00, 0x7f, 0xab, 0xff};
  CHECK(toHex(bytes) == "007fabff");
  CHECK(fromHex("007FABff") == bytes);
  CHECK(fromHex("abc") == std::nullopt);
  CHECK(fromHex("zz") == std::nullopt);
}

TEST_CASE("split keeps empty fields, join reverses it") {
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(split("", ',') == std::vector<std::string>{""});
  CHECK(join({"a", "", "b"}, ",") == "a,,b");
  CHECK(trim("  x y \t\n") == "x y");
}

TEST_CASE("sizes parse with binary units and format for humans") {
  CHECK(parseBytes("256KiB") == 256 * 1024);
  CHECK(parseBytes("64MB") == 64ull << 20);
  CHECK(parseBytes("1g") == 1ull << 30);
  CHECK(parseBytes("12") == 12);
  CHECK(parseBytes("12 parsecs") == std::nullopt);
  CHECK(parseBytes("") == std::nullopt);
  CHECK(parseBytes("99999999999999999999") == std::nullopt);
  CHECK(formatBytes(812) == "812 B");
  CHECK(formatBytes(1536 * 1024) == "1.5 MiB");
}
