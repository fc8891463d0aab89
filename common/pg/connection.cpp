#include "common/pg/connection.h"

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

#include <libpq-fe.h>

namespace pgbr::pg {
namespace {

struct ClearResult {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ClearResult>;

// Server notices (pg_backup_stop's "still waiting for all required WAL segments to be archived",
// for example) belong in pgbr's log, not on stderr.
void receiveNotice(void*, const PGresult* result) {
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string_view level = severity ? severity : "NOTICE";
  std::string text = fmt::format("PostgreSQL {}: {}", level, message ? message : "");
  if (level == "WARNING")
    logWarn("{}", text);
  else
    logDetail("{}", text);
}

std::string serverMessage(const PGresult* result, PGconn* conn) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (!primary) return std::string(trim(PQerrorMessage(conn)));
  std::string text = primary;
  if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL))
    text += fmt::format(" DETAIL: {}", detail);
  if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) text += fmt::format(" HINT: {}", hint);
  if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) text += fmt::format(" (SQLSTATE {})", state);
  return text;
}

}  // namespace

std::string ConnectOptions::describe() const {
  std::string where;
  if (host.empty())
    where = "the default socket";
  else if (host.front() == '/')
    where = fmt::format("socket directory '{}'", host);
  else
    where = fmt::format("host '{}'", host);
  return fmt::format("{} port {} (user '{}', database '{}')", where, port, user.empty() ? "<default>" : user, database);
}

size_t QueryResult::column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  fail(ErrorCode::Internal, "query result has no column '{}'", name);
}

void PgConnection::Close::operator()(pg_conn* conn) const { PQfinish(conn); }

PgConnection::PgConnection(ConnectOptions options) : options_(std::move(options)) {
  std::string port = std::to_string(options_.port);
  std::string timeout = std::to_string(options_.connectTimeoutSeconds);
  std::vector<const char*> keys, values;
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    keys.push_back(key);
    values.push_back(value.c_str());
  };
  static const std::string kSessionOptions = "-c search_path=pg_catalog -c statement_timeout=0";
  static const std::string kEncoding = "UTF8";
  add("host", options_.host);
  add("port", port);
  add("user", options_.user);
  add("dbname", options_.database);
  add("password", options_.password);
  add("application_name", options_.applicationName);
  add("connect_timeout", timeout);
  add("options", kSessionOptions);
  add("client_encoding", kEncoding);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  // expand_dbname = 0: a database name is never parsed as a connection string.
  conn_.reset(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!conn_) fail(ErrorCode::PgConnect, "cannot connect to PostgreSQL at {}: out of memory", options_.describe());
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    fail(ErrorCode::PgConnect,
         "cannot connect to PostgreSQL at {}: {}. Check that PostgreSQL runs there and that pg1-socket-path / "
         "pg1-host, pg1-port and pg1-user are right",
         options_.describe(), trim(PQerrorMessage(conn_.get())));
  PQsetNoticeReceiver(conn_.get(), receiveNotice, nullptr);
}

PgConnection::~PgConnection() = default;
PgConnection::PgConnection(PgConnection&&) noexcept = default;
PgConnection& PgConnection::operator=(PgConnection&&) noexcept = default;

QueryResult PgConnection::query(std::string_view sql, const Params& params) {
  if (!conn_) fail(ErrorCode::Internal, "query on a moved-from PostgreSQL connection");
  std::string statement(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  ResultPtr result(PQexecParams(conn_.get(), statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                nullptr, nullptr, 0));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    fail(ErrorCode::PgQuery, "query on PostgreSQL at {} failed: {}; query: {}", options_.describe(),
         serverMessage(result.get(), conn_.get()), sql);

  QueryResult out;
  int columns = PQnfields(result.get());
  int rows = PQntuples(result.get());
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result.get(), c));
  out.rows.reserve(static_cast<size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    Row row;
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result.get(), r, c))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(
            std::string(PQgetvalue(result.get(), r, c), static_cast<size_t>(PQgetlength(result.get(), r, c))));
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::optional<std::string> PgConnection::queryValue(std::string_view sql, const Params& params) {
  QueryResult result = query(sql, params);
  if (result.rows.size() != 1 || result.columns.size() != 1)
    fail(ErrorCode::PgQuery,
         "query on PostgreSQL at {} returned {} rows of {} columns where one value was expected; query: {}",
         options_.describe(), result.rows.size(), result.columns.size(), sql);
  return std::move(result.rows[0][0]);
}

std::string PgConnection::queryString(std::string_view sql, const Params& params) {
  auto value = queryValue(sql, params);
  if (!value) fail(ErrorCode::PgQuery, "query on PostgreSQL at {} returned NULL; query: {}", options_.describe(), sql);
  return std::move(*value);
}

void PgConnection::execute(std::string_view sql, const Params& params) { query(sql, params); }

int PgConnection::serverVersionNum() const { return conn_ ? PQserverVersion(conn_.get()) : 0; }

}  // namespace pgbr::pg
