#include "common/error.h"

#include <doctest/doctest.h>

#include <set>

using namespace pgbr;

TEST_CASE("error codes are unique, named and usable as restore_command exit codes") {
  std::set<int> numbers;
  std::set<std::string_view> slugs;
  for (const auto& info : errorCodes()) {
    int number = static_cast<int>(info.code);
    CHECK(numbers.insert(number).second);
    CHECK(slugs.insert(info.slug).second);
    CHECK(number >= 1);
    CHECK(number <= 125);  // PostgreSQL treats higher restore_command statuses as fatal
    CHECK(!info.description.empty());
    CHECK(errorCodeFromNumber(number) == info.code);
  }
  CHECK(errorCodeFromNumber(0) == std::nullopt);
}

TEST_CASE("fail throws an Error carrying its code and formatted message") {
  try {
    fail(ErrorCode::OptionInvalid, "option '{}' is unknown", "repo1-pth");
    FAIL("fail() returned");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::OptionInvalid);
    CHECK(e.exitCode() == 11);
    CHECK(std::string(e.what()) == "option 'repo1-pth' is unknown");
    CHECK(errorSlug(e.code()) == "option-invalid");
  }
}

TEST_CASE("failErrno names the path and explains a full disk") {
  CHECK_THROWS_WITH_AS(failErrno(ErrorCode::FileWrite, "cannot write", "/repo/pack/x", ENOSPC),
                       "cannot write '/repo/pack/x': No space left on device (the filesystem is full)", Error);
}
