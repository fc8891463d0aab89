// The check command end to end against a real PostgreSQL 15 and a real pgbr-repo over mutual TLS:
// it passes when the switched segment reaches the repository, and otherwise says precisely why
// not: no stanza, archive_command not running pgbr-agent, pushing to another stanza, failing,
// or claiming success without pushing, archive_mode off, and the repository server down.
#include "test/integration/agent_cluster.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pgbr;
using namespace pgbr::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void setArchiveCommand(PgCluster& pg, const std::string& command) {
  std::string quoted;
  for (char c : command) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  pg.psql("ALTER SYSTEM SET archive_command = '" + quoted + "'");
  pg.psql("SELECT pg_reload_conf()");
  // The reload is asynchronous: wait until sessions see the new value.
  REQUIRE(waitUntil([&] { return pg.psql("SHOW archive_command") == command; }));
}

}  // namespace

TEST_CASE("check passes when WAL reaches the repository and names the reason when it cannot") {
  RepoFixture repo;
  AgentCluster cluster(repo);
  PgCluster& pg = cluster.pg();
  pg.start();

  RunResult noStanza = cluster.agent({"check"});
  CHECK(noStanza.exitCode == 60);

  cluster.agentOk({"stanza-create"});
  std::string passed = cluster.agentOk({"check"});
  CHECK_MESSAGE(contains(passed, "stanza 'main' in repository server 127.0.0.1:"), passed);
  CHECK_MESSAGE(contains(passed, "reached the repository in"), passed);
  CHECK_MESSAGE(contains(passed, "check of stanza 'main' passed"), passed);

  std::string good = pg.psql("SHOW archive_command");
  auto check = [&](const std::string& command) {
    setArchiveCommand(pg, command);
    return cluster.agent({"--archive-timeout=5", "check"});
  };

  RunResult other = check("false %p");
  CHECK(other.exitCode == 66);
  CHECK_MESSAGE(contains(other.err, "archive_command 'false %p' on PostgreSQL at socket directory"), other.err);
  CHECK_MESSAGE(contains(other.err, "does not run pgbr-agent archive-push"), other.err);

  std::string elsewhere = good;
  elsewhere.replace(elsewhere.find("--stanza=main"), 13, "--stanza=billing");
  RunResult wrongStanza = check(elsewhere);
  CHECK(wrongStanza.exitCode == 66);
  CHECK_MESSAGE(contains(wrongStanza.err, "archives to stanza 'billing', not to stanza 'main'"), wrongStanza.err);

  std::string broken = good;
  broken.replace(broken.find("--config="), 9, "--config=/nonexistent/");
  RunResult failing = check(broken);
  CHECK(failing.exitCode == 64);
  CHECK_MESSAGE(contains(failing.err, "did not reach the repository within archive-timeout (5 s): archive_command "
                                      "failed"),
                failing.err);

  RunResult pretending = check("true pgbr-agent --stanza=main archive-push %p");
  CHECK(pretending.exitCode == 64);
  CHECK_MESSAGE(contains(pretending.err, "as archived, but stanza 'main' of this repository does not have it"),
                pretending.err);

  setArchiveCommand(pg, good);
  pg.psql("ALTER SYSTEM SET archive_mode = off");
  pg.restart();
  RunResult off = cluster.agent({"check"});
  CHECK(off.exitCode == 66);
  CHECK_MESSAGE(contains(off.err, "archive_mode is off on PostgreSQL at"), off.err);
  pg.psql("ALTER SYSTEM RESET archive_mode");
  pg.restart();
  cluster.agentOk({"check"});

  repo.stop();
  RunResult down = cluster.agent({"check"});
  CHECK(down.exitCode == 43);
  CHECK_MESSAGE(contains(down.err, "127.0.0.1"), down.err);
}
