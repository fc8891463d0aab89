#include "common/pg/timeline_history.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;

TEST_CASE("a history file lists each ancestor timeline and where it ended") {
  auto history = parseTimelineHistory(
      "1\t0/3000158\tno recovery target specified\n"
      "\n"
      "# a comment\n"
      "2\t0/5000000\tat restore point \"before upgrade\"\n",
      3, "00000003.history");
  CHECK(history.timeline == 3);
  REQUIRE(history.switches.size() == 2);
  CHECK(history.switches[0].timeline == 1);
  CHECK(history.switches[0].switchPoint.toString() == "0/3000158");
  CHECK(history.switches[0].reason == "no recovery target specified");
  CHECK(history.switches[1].reason == "at restore point \"before upgrade\"");
}

TEST_CASE("the timeline holding an LSN follows the switch points") {
  auto history = parseTimelineHistory("1\t0/3000158\tx\n2\t0/5000000\ty\n", 3, "h");
  CHECK(history.timelineOf(*Lsn::parse("0/3000157")) == 1);
  CHECK(history.timelineOf(*Lsn::parse("0/3000158")) == 2);
  CHECK(history.timelineOf(*Lsn::parse("0/4FFFFFF")) == 2);
  CHECK(history.timelineOf(*Lsn::parse("0/5000000")) == 3);
  CHECK(history.descendsFrom(1));
  CHECK(history.descendsFrom(3));
  CHECK_FALSE(history.descendsFrom(4));
}

TEST_CASE("an empty history belongs to a timeline without ancestors") {
  auto history = parseTimelineHistory("", 1, "h");
  CHECK(history.switches.empty());
  CHECK(history.timelineOf(Lsn(12345)) == 1);
}

TEST_CASE("malformed history files are refused naming the line") {
  CHECK_THROWS_WITH_AS(parseTimelineHistory("x\t0/1\treason\n", 2, "00000002.history"),
                       "timeline history '00000002.history' line 1 ('x\t0/1\treason') does not start with a numeric "
                       "timeline ID",
                       Error);
  CHECK_THROWS_WITH_AS(parseTimelineHistory("1\n", 2, "h"), doctest::Contains("lacks a WAL switch point"), Error);
  CHECK_THROWS_WITH_AS(parseTimelineHistory("2\t0/1\ta\n1\t0/2\tb\n", 3, "h"),
                       doctest::Contains("timeline IDs must increase"), Error);
  CHECK_THROWS_WITH_AS(parseTimelineHistory("1\t0/1\ta\n2\t0/2\tb\n", 2, "h"), doctest::Contains("not older"), Error);
}
