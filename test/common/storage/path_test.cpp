#include "common/storage/path.h"

#include "common/error.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pgbr;

TEST_CASE("relative paths of plain components are valid") {
  for (const char* good : {"a", "a/b", "archive/15-1/0000000100000000000000A1", ".hidden", "a/..b", "a/b.", "..."}) {
    CAPTURE(good);
    CHECK(isValidPath(good));
    CHECK_NOTHROW(validatePath(good));
  }
  CHECK(isValidPath("", true));
  CHECK_FALSE(isValidPath(""));
}

TEST_CASE("absolute, climbing, dotted, empty-component and NUL paths are PathInvalid with the reason") {
  struct Case {
    std::string path;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {"/etc/passwd", "path '/etc/passwd' is not allowed: it is absolute"},
           {"..", "path '..' is not allowed: it climbs out with '..'"},
           {"a/../../b", "path 'a/../../b' is not allowed: it climbs out with '..'"},
           {"a/./b", "path 'a/./b' is not allowed: it has a '.' component"},
           {"a//b", "path 'a//b' is not allowed: it has an empty component"},
           {"a/", "path 'a/' is not allowed: it has an empty component"},
           {std::string("a\0b", 3), "path 'a\\x00b' is not allowed: it contains a NUL byte"},
           {"", "path '' is not allowed: it is empty"},
           {std::string(5000, 'x'), "path '" + std::string(200, 'x') + "...' is not allowed: it is longer than 4096 bytes"},
       }) {
    CAPTURE(c.path);
    CHECK_FALSE(isValidPath(c.path));
    CHECK_THROWS_WITH_AS(validatePath(c.path),
                         (c.message + " (paths must be relative, without '.', '..' or empty parts)").c_str(), Error);
    try {
      validatePath(c.path);
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::PathInvalid);
    }
  }
}

TEST_CASE("path helpers join and split on '/'") {
  CHECK(joinPath("", "a") == "a");
  CHECK(joinPath("a/b", "") == "a/b");
  CHECK(joinPath("a/b", "c") == "a/b/c");
  CHECK(parentPath("a/b/c") == "a/b");
  CHECK(parentPath("c") == "");
  CHECK(baseName("a/b/c") == "c");
  CHECK(baseName("c") == "c");
}
