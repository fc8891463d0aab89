#include "common/config/docs.h"

#include "common/config/option_def.h"
#include "common/error.h"
#include "common/text.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using namespace pgbr;

namespace {

// "line 12: committed '…', generated '…'" for the first line that differs.
std::string firstDifference(const std::string& committed, const std::string& generated) {
  auto a = split(committed, '\n');
  auto b = split(generated, '\n');
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string left = i < a.size() ? a[i] : "<end of file>";
    std::string right = i < b.size() ? b[i] : "<end of file>";
    if (left != right) return fmt::format("line {}: committed '{}', generated '{}'", i + 1, left, right);
  }
  return {};
}

}  // namespace

TEST_CASE("the committed reference pages match what the tables generate") {
  for (const auto& doc : generatedDocs()) {
    std::filesystem::path path = std::filesystem::path(PGBR_SOURCE_DIR) / "docs" / doc.fileName;
    std::string committed = std::filesystem::exists(path) ? pgbr::test::readFile(path) : std::string();
    std::string generated = doc.generate();
    if (committed != generated)
      FAIL_CHECK("docs/", doc.fileName,
                 " is out of date with the tables: run `build/bin/pgbr-docgen docs` and commit "
                 "the result (",
                 firstDifference(committed, generated), ")");
  }
}

TEST_CASE("the configuration reference covers every option with its facts") {
  std::string doc = configurationDoc();
  for (const auto& option : optionTable())
    CHECK_MESSAGE(doc.find(fmt::format("\n### `{}`\n", option.name)) != std::string::npos, option.name);
  CHECK(doc.find("| default | incr for backup; default for restore |") != std::string::npos);
  CHECK(doc.find("| environment | PGBR_REPO1_CIPHER_PASS |") != std::string::npos);
  CHECK(doc.find("| set in | command line, environment, [<stanza>]") == std::string::npos);  // escaped for Markdown
  CHECK(doc.find("| set in | command line, environment, [&lt;stanza&gt;] and [&lt;stanza&gt;:&lt;command&gt;] |") !=
        std::string::npos);
}

TEST_CASE("the command reference covers every command of both programs") {
  std::string doc = commandsDoc();
  CHECK(doc.find("\n## pgbr-agent\n") < doc.find("\n## pgbr-repo\n"));
  for (const auto& command : commandTable())
    CHECK_MESSAGE(doc.find(fmt::format("\n### `{}`\n", command.name)) != std::string::npos, command.name);
  CHECK(doc.find("pgbr-agent [options] --stanza=<stanza> archive-get <wal-file> <destination>") != std::string::npos);
  CHECK(doc.find("- log file: `<log-path>/<stanza>-backup.log`") != std::string::npos);
  CHECK(doc.find("- log file: `<log-path>/all-server.log`") != std::string::npos);
  CHECK(doc.find("[`pg1-path`](configuration.md#pg-path)") != std::string::npos);
}

TEST_CASE("the exit codes page lists every error code") {
  std::string doc = exitCodesDoc();
  for (const auto& info : errorCodes())
    CHECK(doc.find(fmt::format("| {} | `{}` |", static_cast<int>(info.code), info.slug)) != std::string::npos);
}

TEST_CASE("pgbr-docgen writes every page") {
  pgbr::test::TempDir dir;
  std::string command = fmt::format("'{}' '{}' > /dev/null", PGBR_DOCGEN, dir.path().string());
  REQUIRE(std::system(command.c_str()) == 0);
  for (const auto& doc : generatedDocs())
    CHECK(pgbr::test::readFile(dir / std::string(doc.fileName)) == doc.generate());
}

TEST_CASE("pgbr-docgen without a directory explains its use") {
  std::string command = fmt::format("'{}' > /dev/null 2>&1", PGBR_DOCGEN);
  int status = std::system(command.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == static_cast<int>(ErrorCode::CommandInvalid));
}
