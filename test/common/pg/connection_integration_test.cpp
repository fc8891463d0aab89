#include "common/pg/connection.h"

#include "common/error.h"
#include "test/support/pg_cluster.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::pg;
using namespace pgbr::test;

TEST_CASE("connecting where no server listens fails naming the socket directory and port") {
  TempDir sockets;
  ConnectOptions options;
  options.host = sockets.path().string();
  options.port = freePort();
  options.user = "postgres";
  options.password = "s3cret-passw0rd";
  try {
    PgConnection connection(options);
    FAIL("connected to nothing");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::PgConnect);
    std::string message = e.what();
    CHECK(message.find("cannot connect to PostgreSQL at socket directory '" + sockets.path().string() + "' port " +
                       std::to_string(options.port)) == 0);
    CHECK(message.find("No such file or directory") != std::string::npos);
    CHECK(message.find("s3cret") == std::string::npos);
  }
}

TEST_CASE("connecting to a database that does not exist reports the server's message") {
  PgCluster cluster;
  cluster.start();
  auto options = cluster.connectOptions("nosuchdb");
  CHECK_THROWS_WITH_AS(PgConnection{options}, doctest::Contains("database \"nosuchdb\" does not exist"), Error);
}

TEST_CASE("bad SQL fails with the server's message, SQLSTATE and the statement") {
  PgCluster cluster;
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  try {
    connection.query("SELEC 1");
    FAIL("bad SQL ran");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::PgQuery);
    std::string message = e.what();
    CHECK(message.find("socket directory '" + cluster.socketDirectory().string() + "' port " +
                       std::to_string(cluster.port())) != std::string::npos);
    CHECK(message.find("syntax error at or near \"SELEC\"") != std::string::npos);
    CHECK(message.find("(SQLSTATE 42601)") != std::string::npos);
    CHECK(message.find("query: SELEC 1") != std::string::npos);
  }
  // The session survives a failed statement.
  CHECK(connection.queryString("SELECT 'still here'") == "still here");
}

TEST_CASE("parameters travel as text and NULLs come back as nullopt") {
  PgCluster cluster;
  cluster.start();
  PgConnection connection(cluster.connectOptions());
  QueryResult result =
      connection.query("SELECT $1::int + 1 AS answer, NULL::text AS nothing, $2::text AS param", {"41", std::nullopt});
  REQUIRE(result.rows.size() == 1);
  CHECK(result.columns == std::vector<std::string>{"answer", "nothing", "param"});
  CHECK(result.rows[0][result.column("answer")] == "42");
  CHECK_FALSE(result.rows[0][1].has_value());
  CHECK_FALSE(result.rows[0][2].has_value());
  // A parameter is never parsed as SQL.
  CHECK(connection.queryString("SELECT $1::text", {"'); DROP TABLE x; --"}) == "'); DROP TABLE x; --");
  CHECK(connection.serverVersionNum() / 10000 == 15);
  CHECK(connection.queryString("SHOW search_path") == "pg_catalog");
  CHECK(connection.queryString("SHOW application_name") == "pgbr");
  CHECK_THROWS_WITH_AS(connection.queryValue("SELECT 1, 2"), doctest::Contains("returned 1 rows of 2 columns"), Error);
  CHECK_THROWS_WITH_AS(connection.queryString("SELECT NULL"), doctest::Contains("returned NULL"), Error);
  CHECK_THROWS_AS(result.column("missing"), Error);
}

TEST_CASE("a connection moves with its session and closes it when destroyed") {
  PgCluster cluster;
  cluster.start();
  auto sessions = [&] {
    return cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbr-test-session'");
  };
  auto options = cluster.connectOptions();
  options.applicationName = "pgbr-test-session";
  {
    PgConnection first(options);
    first.execute("CREATE TEMP TABLE mine (i int)");
    PgConnection moved(std::move(first));
    CHECK(moved.queryString("SELECT count(*) FROM mine") == "0");
    CHECK(sessions() == "1");
  }
  // The backend goes away asynchronously after the client closes; poll for it.
  CHECK(waitUntil([&] { return sessions() == "0"; }));
}
