// A libpq session to PostgreSQL: connect, run parameterised queries, get rows of optional
// strings. Errors are pgbr::Error PgConnect / PgQuery carrying the server's message and where the
// server is (never a password). One PgConnection owns one session; it may move between threads but
// must not be used by two at once. Notices and warnings the server sends go to pgbr's log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;  // libpq's PGconn, kept out of this header

namespace pgbr::pg {

struct ConnectOptions {
  std::string host;  // a socket directory (starting with '/') or a host name; empty: libpq's default
  int port = 5432;
  std::string user;  // empty: libpq's default (PGUSER, then the OS user)
  std::string database = "postgres";
  std::string password;  // optional (a .pgpass file is better); never logged or put in messages
  std::string applicationName = "pgbr";
  int connectTimeoutSeconds = 30;

  // "socket directory '/run/postgresql' port 5432 (user 'postgres', database 'postgres')": for messages.
  std::string describe() const;
};

using Row = std::vector<std::optional<std::string>>;  // nullopt for SQL NULL
using Params = std::vector<std::optional<std::string>>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;

  // Index of the named column; throws Error(Internal) when the query has no such column.
  size_t column(std::string_view name) const;
};

class PgConnection {
 public:
  // Connects; throws Error(PgConnect) naming the server and its message on failure. The session
  // uses search_path=pg_catalog and statement_timeout=0, so neither a user's objects nor a
  // configured timeout can change what pgbr's queries do.
  explicit PgConnection(ConnectOptions options);
  ~PgConnection();
  PgConnection(PgConnection&&) noexcept;
  PgConnection& operator=(PgConnection&&) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with $1.. parameters (text, types inferred by the server). Throws
  // Error(PgQuery) with the server's message, SQLSTATE and the statement (not its parameters).
  QueryResult query(std::string_view sql, const Params& params = {});
  // Runs a statement that must return exactly one row of one column.
  std::optional<std::string> queryValue(std::string_view sql, const Params& params = {});
  // As queryValue, for a value that must not be NULL.
  std::string queryString(std::string_view sql, const Params& params = {});
  void execute(std::string_view sql, const Params& params = {});

  // PQserverVersion: 150004 for 15.4.
  int serverVersionNum() const;
  const ConnectOptions& options() const { return options_; }

 private:
  struct Close {
    void operator()(pg_conn* conn) const;
  };
  ConnectOptions options_;
  std::unique_ptr<pg_conn, Close> conn_;
};

}  // namespace pgbr::pg
