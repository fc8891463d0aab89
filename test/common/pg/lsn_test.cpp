#include "common/pg/lsn.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;

TEST_CASE("an LSN parses from and formats to PostgreSQL's two-halves text") {
  auto lsn = Lsn::parse("16/B374D848");
  REQUIRE(lsn);
  CHECK(lsn->value() == 0x16B374D848ull);
  CHECK(lsn->toString() == "16/B374D848");
  CHECK(Lsn::parse("0/0")->value() == 0);
  CHECK_FALSE(Lsn::parse("0/0")->valid());
  CHECK(Lsn::parse("ffffffff/ffffffff")->value() == ~0ull);
  CHECK(Lsn(0x1000028).toString() == "0/1000028");
  CHECK(fmt::format("{}", Lsn(0x300000000ull)) == "3/0");
}

TEST_CASE("malformed LSN text is refused") {
  for (const char* text : {"", "/", "16", "16/", "/B374D848", "16/B374D848 ", "G/0", "123456789/0", "1/-2", "0x1/2"})
    CHECK_FALSE(Lsn::parse(text));
  CHECK_THROWS_WITH_AS(Lsn::parseOrFail("nope", "backup_label START WAL LOCATION"),
                       "backup_label START WAL LOCATION 'nope' is not a WAL location (expected the form 16/B374D848)",
                       Error);
}

TEST_CASE("LSN arithmetic and ordering") {
  Lsn a = *Lsn::parse("0/FFFFFFFF");
  Lsn b = a + 1;
  CHECK(b.toString() == "1/0");
  CHECK(b - a == 1);
  CHECK(a < b);
  CHECK((b - 1) == a);
  CHECK(Lsn(5) >= Lsn(5));
}
