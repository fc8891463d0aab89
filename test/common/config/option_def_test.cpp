#include "common/config/option_def.h"

#include <doctest/doctest.h>

using namespace pgbr;

TEST_CASE("indexed names parse to the option and its index, unindexed ones to index 1") {
  auto ref = parseOptionName("pg2-path");
  REQUIRE(ref);
  CHECK(ref->def->name == "pg-path");
  CHECK(ref->index == 2);
  CHECK(parseOptionName("pg-path")->index == 1);
  CHECK(parseOptionName("repo4-cipher-pass")->index == 4);
  CHECK(parseOptionName("stanza")->index == 0);
  CHECK(parseOptionName("pg8-port")->index == 8);
}

TEST_CASE("indexes out of range, with leading zeros or on unindexed options do not parse") {
  CHECK_FALSE(parseOptionName("pg9-path"));
  CHECK_FALSE(parseOptionName("pg0-path"));
  CHECK_FALSE(parseOptionName("pg01-path"));
  CHECK_FALSE(parseOptionName("repo5-host"));
  CHECK_FALSE(parseOptionName("pg1-stanza"));
  CHECK_FALSE(parseOptionName("log1-path"));
  CHECK_FALSE(parseOptionName("pg1-"));
  CHECK_FALSE(parseOptionName(""));
}

TEST_CASE("display and environment names carry the index") {
  const OptionDef& pass = *findOption("repo-cipher-pass");
  CHECK(optionDisplayName(pass, 3) == "repo3-cipher-pass");
  CHECK(optionEnvName(pass, 1) == "PGBR_REPO1_CIPHER_PASS");
  CHECK(optionEnvName(*findOption("log-level-console"), 0) == "PGBR_LOG_LEVEL_CONSOLE");
  CHECK(optionFamily(pass).prefix == "repo");
  CHECK(optionFamily(*findOption("pg-path")).maxIndex == 8);
}

TEST_CASE("unknown option names get a did-you-mean for the closest option of the program") {
  CHECK(unknownOptionMessage("repo1-hots", Binary::Agent, " on the command line") ==
        "unknown option 'repo1-hots' on the command line: did you mean 'repo1-host'?");
  CHECK(unknownOptionMessage("repo1-pth", Binary::Repo, "") ==
        "unknown option 'repo1-pth': did you mean 'repo1-path'?");
  CHECK(unknownOptionMessage("repo2-pth", Binary::Repo, "") ==
        "unknown option 'repo2-pth': did you mean 'repo2-path'?");
  CHECK(unknownOptionMessage("stanzza", Binary::Agent, "") == "unknown option 'stanzza': did you mean 'stanza'?");
  CHECK(unknownOptionMessage("log-level-consol", Binary::Repo, "") ==
        "unknown option 'log-level-consol': did you mean 'log-level-console'?");
}

TEST_CASE("a name far from every option gets a pointer to help, not a wild guess") {
  CHECK(suggestOption("frobnicate", Binary::Agent).empty());
  CHECK(suggestOption("bin-dir", Binary::Agent).empty());
  CHECK(suggestOption("pg3-pth", Binary::Agent) == "pg3-path");
  CHECK(unknownOptionMessage("frobnicate", Binary::Agent, "") ==
        "unknown option 'frobnicate': run 'pgbr-agent help' to list the commands and their options");
}

TEST_CASE("an indexed option with an index out of range says the valid range") {
  CHECK(unknownOptionMessage("pg9-path", Binary::Agent, " in f.conf:2") ==
        "option 'pg9-path' in f.conf:2 has an invalid index: pg options are numbered from 1 to 8");
  CHECK(unknownOptionMessage("repo5-host", Binary::Agent, "") ==
        "option 'repo5-host' has an invalid index: repo options are numbered from 1 to 4");
}

TEST_CASE("unknown commands: the other program's, close to one, or unknown") {
  CHECK(unknownCommandMessage("bakup", Binary::Agent) == "unknown command 'bakup': did you mean 'backup'?");
  CHECK(unknownCommandMessage("server", Binary::Agent) == "command 'server' belongs to pgbr-repo, not pgbr-agent");
  CHECK(unknownCommandMessage("backup", Binary::Repo) == "command 'backup' belongs to pgbr-agent, not pgbr-repo");
  CHECK(unknownCommandMessage("xyzzy", Binary::Agent) ==
        "unknown command 'xyzzy': run 'pgbr-agent help' for the list of commands");
  CHECK(suggestCommand("stanza-craete", Binary::Agent) == "stanza-create");
}

TEST_CASE("edit distance counts insertions, deletions and substitutions") {
  CHECK(editDistance("", "") == 0);
  CHECK(editDistance("abc", "") == 3);
  CHECK(editDistance("kitten", "sitting") == 3);
  CHECK(editDistance("delta", "detla") == 1);  // a transposition is one edit
  CHECK(editDistance("ab", "ba") == 1);
}

TEST_CASE("per-command overrides give type its own defaults and values for each command") {
  const OptionDef& type = *findOption("type");
  CHECK(optionDefault(type, "backup") == "incr");
  CHECK(optionDefault(type, "restore") == "default");
  CHECK(optionAllowed(type, "backup").size() == 3);
  CHECK(optionAllowed(type, "restore").size() == 9);
  const OptionDef& set = *findOption("set");
  CHECK(optionDefault(set, "restore") == "latest");
  CHECK(optionDefault(set, "expire").empty());
}

TEST_CASE("options belong to the program whose commands use them") {
  CHECK(optionInBinary(*findOption("tls-server-port"), Binary::Repo));
  CHECK_FALSE(optionInBinary(*findOption("tls-server-port"), Binary::Agent));
  CHECK_FALSE(optionInBinary(*findOption("pg-path"), Binary::Repo));
  CHECK(optionInBinary(*findOption("log-level-console"), Binary::Agent));
  CHECK(optionInBinary(*findOption("log-level-console"), Binary::Repo));
  CHECK(optionValidFor(*findOption("delta"), "restore"));
  CHECK_FALSE(optionValidFor(*findOption("delta"), "archive-push"));
  CHECK(optionRequiredFor(*findOption("pg-path"), "backup"));
  CHECK_FALSE(optionRequiredFor(*findOption("pg-path"), "archive-push"));
}

TEST_CASE("argument usage marks optional arguments") {
  CHECK(argumentUsage({.name = "wal-path"}) == "<wal-path>");
  CHECK(argumentUsage({.name = "option", .required = false}) == "[option]");
}
