#include "agent/cluster.h"
#include "agent/json_fields.h"

#include "common/error.h"
#include "common/log.h"
#include "common/pg/server.h"
#include "common/pg/version.h"

#include <filesystem>
#include <system_error>

namespace pgbr::agent {

using nlohmann::json;

pg::ConnectOptions pgConnectOptions(const Config& config, unsigned index) {
  pg::ConnectOptions options;
  if (config.has("pg-socket-path", index))
    options.host = config.str("pg-socket-path", index);
  else if (config.has("pg-host", index))
    options.host = config.str("pg-host", index);
  options.port = static_cast<int>(config.integer("pg-port", index));
  if (config.has("pg-user", index)) options.user = config.str("pg-user", index);
  options.database = config.str("pg-database", index);
  options.applicationName = "pgbr-agent";
  return options;
}

ClusterIdentity ClusterIdentity::fromControl(const pg::ControlData& control) {
  return {.systemId = control.systemIdentifier,
          .pgVersion = control.version.major,
          .catalogVersion = control.catalogVersion,
          .controlVersion = control.controlVersion,
          .walSegmentSize = control.walSegmentSize};
}

ClusterIdentity ClusterIdentity::fromJson(const json& j) {
  auto missing = [](std::string_view field) -> Error {
    return Error(ErrorCode::Protocol, fmt::format("the repository server's stanza identity has no valid '{}'", field));
  };
  if (!j.is_object()) throw missing("identity");
  ClusterIdentity identity;
  const json systemId = field(j, "systemId");
  if (systemId.is_string()) {
    try {
      size_t used = 0;
      identity.systemId = std::stoull(systemId.get<std::string>(), &used);
      if (used != systemId.get<std::string>().size()) throw missing("systemId");
    } catch (const std::logic_error&) {
      throw missing("systemId");
    }
  } else if (auto number = asUnsigned(systemId)) {
    identity.systemId = *number;
  } else {
    throw missing("systemId");
  }
  auto pgVersion = unsignedField(j, "pgVersion");
  if (!pgVersion) throw missing("pgVersion");
  identity.pgVersion = static_cast<unsigned>(*pgVersion);
  identity.catalogVersion = static_cast<uint32_t>(unsignedField(j, "catalogVersion").value_or(0));
  identity.controlVersion = static_cast<uint32_t>(unsignedField(j, "controlVersion").value_or(0));
  identity.walSegmentSize =
      static_cast<uint32_t>(unsignedField(j, "walSegmentSize").value_or(pg::kDefaultWalSegmentSize));
  return identity;
}

json ClusterIdentity::toRequest() const {
  return {{"systemId", std::to_string(systemId)},
          {"pgVersion", pgVersion},
          {"catalogVersion", catalogVersion},
          {"controlVersion", controlVersion},
          {"walSegmentSize", walSegmentSize}};
}

std::string ClusterIdentity::describe() const {
  return fmt::format("system identifier {}, PostgreSQL {}", systemId, pgVersion);
}

LocalCluster inspectCluster(pg::PgConnection& connection, const std::string& pgPath) {
  LocalCluster cluster;
  cluster.dataDirectory = pgPath;
  std::string server = connection.options().describe();
  try {
    cluster.control = pg::readControl(pgPath);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::FileMissing && error.code() != ErrorCode::FileOpen) throw;
    fail(error.code(),
         "pg1-path '{}' is not a PostgreSQL data directory ({}); set pg1-path to the data directory of the "
         "cluster at {}",
         pgPath, error.what(), server);
  }
  cluster.identity = ClusterIdentity::fromControl(cluster.control);
  cluster.versionNum = pg::serverVersionNum(connection);
  uint64_t runningId = pg::systemIdentifier(connection);
  unsigned runningMajor = pg::pgMajorFromVersionNum(cluster.versionNum);

  // The data directory the server reports, when this user may see it: a pg1-path that points at a
  // copy of the cluster (a restored backup has the same system identifier) is caught here.
  std::optional<std::string> running;
  try {
    running = pg::dataDirectory(connection);
  } catch (const Error& error) {
    logDetail("cannot compare pg1-path with the server's data_directory: {}", error.what());
  }
  if (running) {
    std::error_code ec;
    bool same = std::filesystem::equivalent(pgPath, *running, ec);
    if (!ec && !same)
      fail(ErrorCode::PgMismatch,
           "pg1-path '{}' is not the data directory of the PostgreSQL server at {}, which is '{}'; set pg1-path "
           "to '{}' or pg1-port/pg1-socket-path to the server that runs on '{}'",
           pgPath, server, *running, *running, pgPath);
  }
  if (runningId != cluster.identity.systemId || runningMajor != cluster.identity.pgVersion)
    fail(ErrorCode::PgMismatch,
         "the PostgreSQL server at {} (system identifier {}, PostgreSQL {}) is not the cluster in pg1-path '{}' "
         "({}); set pg1-path and pg1-port/pg1-socket-path to the same cluster",
         server, runningId, runningMajor, pgPath, cluster.identity.describe());
  return cluster;
}

void checkStanzaIdentity(const ClusterIdentity& stanza, const ClusterIdentity& cluster, std::string_view stanzaName) {
  if (stanza.systemId == cluster.systemId && stanza.pgVersion == cluster.pgVersion) return;
  fail(ErrorCode::PgMismatch,
       "stanza '{}' belongs to the cluster with {}, but this cluster has {}; check --stanza and pg1-path, or "
       "upgrade the stanza after pg_upgrade",
       stanzaName, stanza.describe(), cluster.describe());
}

}  // namespace pgbr::agent
