// The check command: is this cluster set up to be backed up and archived by pgbr, end to end?
// In order, each failure with its own reason: PostgreSQL answers and pg1-path is its data
// directory; the repository server answers, this host's certificate is granted the stanza, and
// the stanza is this cluster; archive_mode is on and archive_command runs pgbr-agent archive-push
// for this stanza; and finally a WAL switch (after a restore point, so there is WAL to switch)
// whose segment must reach the repository within archive-timeout. When it does not, PostgreSQL's
// pg_stat_archiver tells whether archive_command failed, pushed somewhere else, or is behind.
// On a standby the WAL switch cannot be made: check stops after the configuration.
#include "agent/cluster.h"
#include "agent/commands.h"
#include "agent/info_format.h"
#include "agent/json_fields.h"
#include "common/log.h"
#include "common/pg/server.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace pgbr::agent {
namespace {

using nlohmann::json;

// The value of --stanza=<value> in a command line; empty when it has none.
std::string stanzaIn(std::string_view command) {
  constexpr std::string_view option = "--stanza=";
  size_t at = command.find(option);
  if (at == std::string_view::npos) return {};
  std::string value;
  for (size_t i = at + option.size(); i < command.size(); ++i) {
    char c = command[i];
    if (c == ' ' || c == '\t') break;
    if (c != '\'' && c != '"') value += c;
  }
  return value;
}

void checkArchiving(const pg::ServerSettings& settings, const std::string& stanza, const std::string& server) {
  std::string advice = fmt::format("archive_command = 'pgbr-agent --stanza={} archive-push %p'", stanza);
  if (settings.archiveMode == "off")
    fail(ErrorCode::ArchiveDisabled,
         "archive_mode is off on PostgreSQL at {}: set archive_mode = on (PostgreSQL must be restarted) and {}",
         server, advice);
  const std::string& command = settings.archiveCommand;
  if (command.empty() || command == "(disabled)")
    fail(ErrorCode::ArchiveDisabled, "archive_command is not set on PostgreSQL at {}: set {} and reload", server,
         advice);
  if (command.find("pgbr-agent") == std::string::npos || command.find("archive-push") == std::string::npos)
    fail(ErrorCode::ArchiveDisabled,
         "archive_command '{}' on PostgreSQL at {} does not run pgbr-agent archive-push: set {} and reload", command,
         server, advice);
  std::string named = stanzaIn(command);
  if (!named.empty() && named != stanza)
    fail(ErrorCode::ArchiveDisabled,
         "archive_command '{}' on PostgreSQL at {} archives to stanza '{}', not to stanza '{}': set {} and reload",
         command, server, named, stanza, advice);
}

bool archived(RepoClient& client, const std::string& stanza, const std::string& segment) {
  const json request = {{"op", "wal.list"}, {"stanza", stanza}, {"from", segment}, {"to", segment}};
  json files = field(client.call(request), "files");
  return files.is_array() && std::find(files.begin(), files.end(), json(segment)) != files.end();
}

// Why the segment did not arrive, from PostgreSQL's point of view.
std::string archiverReport(pg::PgConnection& connection, const std::string& segment, uint64_t failuresBefore,
                           const std::string& stanza) {
  auto result = connection.query(
      "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''), failed_count::text, "
      "coalesce(last_failed_time::text, ''), current_setting('archive_command') FROM pg_stat_archiver");
  const auto& row = result.rows.at(0);
  std::string lastArchived = row[0].value_or(""), lastFailed = row[1].value_or("");
  uint64_t failures = std::stoull(row[2].value_or("0"));
  std::string failedAt = row[3].value_or(""), command = row[4].value_or("");
  if (!lastArchived.empty() && lastArchived >= segment)
    return fmt::format(
        "PostgreSQL reports {} as archived, but stanza '{}' of this repository does not have it: archive_command "
        "('{}') must push to this repository and stanza",
        segment, stanza, command);
  if (failures > failuresBefore)
    return fmt::format(
        "archive_command failed {} time(s) since the check began, last for {} at {}: PostgreSQL's log holds its error "
        "output",
        failures - failuresBefore, lastFailed, failedAt);
  return fmt::format(
      "PostgreSQL has not archived it yet (last archived: {}): the archiver is behind, or archive-timeout is too short",
      lastArchived.empty() ? "none" : lastArchived);
}

}  // namespace

int runCheck(const Config& config) {
  const std::string stanza = config.stanza();
  pg::PgConnection connection(pgConnectOptions(config));
  const std::string server = connection.options().describe();
  LocalCluster cluster = inspectCluster(connection, config.str("pg-path", 1));
  bool standby = pg::isInRecovery(connection);
  pg::ServerSettings settings = pg::serverSettings(connection);

  RepoSession session(config);
  RepoClient& client = session.client();
  const json request = {{"op", "stanza.get"}, {"stanza", stanza}};
  ClusterIdentity identity = ClusterIdentity::fromJson(field(client.call(request), "identity"));
  checkStanzaIdentity(identity, cluster.identity, stanza);
  fmt::print("stanza '{}' in repository server {} ({}) is this cluster: {}\n", stanza, client.where(),
             client.serverSoftware(), cluster.identity.describe());

  if (standby) {
    fmt::print(
        "PostgreSQL at {} is a standby: a WAL switch can only be made on the primary, so run check there to test "
        "archiving\n",
        server);
    return 0;
  }
  checkArchiving(settings, stanza, server);
  fmt::print("archive_mode = {}, archive_command = '{}'\n", settings.archiveMode, settings.archiveCommand);

  uint64_t failuresBefore = std::stoull(connection.queryString("SELECT failed_count::text FROM pg_stat_archiver"));
  // A restore point writes WAL, so the switch below always closes a segment, even on an idle cluster.
  pg::createRestorePoint(connection, "pgbr check");
  pg::WalSwitch walSwitch = pg::switchWal(connection);
  const std::string& segment = walSwitch.walFileName;
  logInfo("switched WAL: waiting for {} to reach the repository", segment);
  auto began = std::chrono::steady_clock::now();
  auto deadline = began + config.duration("archive-timeout");
  while (!archived(client, stanza, segment)) {
    if (std::chrono::steady_clock::now() >= deadline)
      fail(ErrorCode::ArchiveTimeout, "WAL segment {} did not reach the repository within archive-timeout ({} s): {}",
           segment, static_cast<double>(config.duration("archive-timeout").count()) / 1000,
           archiverReport(connection, segment, failuresBefore, stanza));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  fmt::print("WAL segment {} reached the repository in {:.1f} s\n", segment, seconds);

  const json infoRequest = {{"op", "info"}, {"stanza", stanza}};
  auto stanzas = parseInfo(client.call(infoRequest));
  if (!stanzas.empty())
    for (const auto& gap : stanzas.front().archiveGaps) {
      logWarn("the archive of stanza '{}' has a gap: {}", stanza, describeGap(gap));
      fmt::print("warning: the archive has a gap: {}\n", describeGap(gap));
    }
  fmt::print("check of stanza '{}' passed\n", stanza);
  return 0;
}

}  // namespace pgbr::agent
