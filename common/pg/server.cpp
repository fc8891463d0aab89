#include "common/pg/server.h"

#include "common/error.h"

#include <charconv>
#include <map>

namespace pgbr::pg {
namespace {

template <typename T>
T parseNumber(const std::string& text, std::string_view what, const PgConnection& connection) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    fail(ErrorCode::PgQuery, "PostgreSQL at {} returned '{}' for {}, which is not a number",
         connection.options().describe(), text, what);
  return value;
}

Lsn parseLsn(const std::string& text, std::string_view what) { return Lsn::parseOrFail(text, what); }

bool modern(PgConnection& connection) { return connection.serverVersionNum() >= 150000; }

}  // namespace

int serverVersionNum(PgConnection& connection) {
  return parseNumber<int>(connection.queryString("SELECT current_setting('server_version_num')"), "server_version_num",
                          connection);
}

std::string dataDirectory(PgConnection& connection) {
  return connection.queryString("SELECT current_setting('data_directory')");
}

uint64_t systemIdentifier(PgConnection& connection) {
  return parseNumber<uint64_t>(connection.queryString("SELECT system_identifier::text FROM pg_control_system()"),
                               "the system identifier", connection);
}

bool isInRecovery(PgConnection& connection) { return connection.queryString("SELECT pg_is_in_recovery()") == "t"; }

ServerSettings serverSettings(PgConnection& connection) {
  static constexpr const char* kNames[] = {"server_version_num", "data_directory", "archive_mode",
                                           "archive_command",    "wal_level",      "data_checksums",
                                           "wal_segment_size",   "block_size"};
  QueryResult result = connection.query(
      "SELECT name, setting FROM pg_settings WHERE name = ANY(string_to_array($1, ','))",
      {"server_version_num,data_directory,archive_mode,archive_command,wal_level,data_checksums,wal_segment_size,"
       "block_size"});
  std::map<std::string, std::string> values;
  for (const auto& row : result.rows)
    if (row[0] && row[1]) values[*row[0]] = *row[1];
  for (const char* name : kNames)
    if (!values.count(name))
      fail(ErrorCode::PgQuery,
           "PostgreSQL at {} does not show the setting '{}' to this user: connect as a superuser or grant "
           "pg_read_all_settings",
           connection.options().describe(), name);

  ServerSettings settings;
  settings.versionNum = parseNumber<int>(values["server_version_num"], "server_version_num", connection);
  settings.dataDirectory = values["data_directory"];
  settings.archiveMode = values["archive_mode"];
  settings.archiveCommand = values["archive_command"];
  settings.walLevel = values["wal_level"];
  settings.dataChecksums = values["data_checksums"] == "on";
  settings.walSegmentSize = parseNumber<uint32_t>(values["wal_segment_size"], "wal_segment_size", connection);
  settings.blockSize = parseNumber<uint32_t>(values["block_size"], "block_size", connection);
  return settings;
}

BackupStart backupStart(PgConnection& connection, std::string_view label, bool fast) {
  const char* sql = modern(connection) ? "SELECT pg_backup_start($1, $2::boolean)::text"
                                       : "SELECT pg_start_backup($1, $2::boolean, false)::text";
  BackupStart start;
  start.lsn =
      parseLsn(connection.queryString(sql, {std::string(label), fast ? "true" : "false"}), "pg_backup_start() result");
  // pg_backup_start has just written its checkpoint (a restartpoint on a standby) to pg_control,
  // so the checkpoint's timeline is the backup's. The segment name is computed here because
  // pg_walfile_name() refuses to run on a standby.
  QueryResult result = connection.query(
      "SELECT (SELECT timeline_id FROM pg_control_checkpoint())::text, "
      "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size')");
  const Row& row = result.rows.at(0);
  if (!row[0] || !row[1])
    fail(ErrorCode::PgQuery, "PostgreSQL at {} did not return the checkpoint timeline and wal_segment_size",
         connection.options().describe());
  start.timeline = parseNumber<TimeLineId>(*row[0], "the checkpoint timeline", connection);
  uint32_t segmentSize = parseNumber<uint32_t>(*row[1], "wal_segment_size", connection);
  start.walFileName = WalSegment::containing(start.lsn, start.timeline, segmentSize).fileName(segmentSize);
  return start;
}

BackupStop backupStop(PgConnection& connection, bool waitForArchive) {
  const char* sql = modern(connection)
                        ? "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop($1::boolean)"
                        : "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, $1::boolean)";
  QueryResult result = connection.query(sql, {waitForArchive ? "true" : "false"});
  const Row& row = result.rows.at(0);
  if (!row[0] || !row[1])
    fail(ErrorCode::PgQuery, "pg_backup_stop on PostgreSQL at {} returned no LSN or backup label",
         connection.options().describe());
  return {parseLsn(*row[0], "pg_backup_stop() result"), *row[1], row[2].value_or("")};
}

WalSwitch switchWal(PgConnection& connection) {
  // pg_walfile_name() of a segment's end LSN names that segment, not the next one.
  QueryResult result = connection.query("SELECT lsn::text, pg_walfile_name(lsn) FROM pg_switch_wal() AS lsn");
  const Row& row = result.rows.at(0);
  if (!row[0] || !row[1])
    fail(ErrorCode::PgQuery, "pg_switch_wal on PostgreSQL at {} returned NULL", connection.options().describe());
  return {parseLsn(*row[0], "pg_switch_wal() result"), *row[1]};
}

Lsn currentWalLsn(PgConnection& connection) {
  return parseLsn(connection.queryString("SELECT pg_current_wal_lsn()::text"), "pg_current_wal_lsn() result");
}

std::vector<Tablespace> tablespaces(PgConnection& connection) {
  QueryResult result = connection.query(
      "SELECT oid::text, spcname::text, pg_tablespace_location(oid) FROM pg_tablespace "
      "WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid");
  std::vector<Tablespace> list;
  for (const auto& row : result.rows)
    list.push_back({parseNumber<uint32_t>(row[0].value_or(""), "a tablespace oid", connection), row[1].value_or(""),
                    row[2].value_or("")});
  return list;
}

Lsn createRestorePoint(PgConnection& connection, std::string_view name) {
  return parseLsn(connection.queryString("SELECT pg_create_restore_point($1)::text", {std::string(name)}),
                  "pg_create_restore_point() result");
}

}  // namespace pgbr::pg
