// The PostgreSQL cluster an agent command works on: how to connect to it (pg1-socket-path or
// pg1-host, pg1-port, pg1-user, pg1-database), its identity as a stanza records it (system
// identifier, major version, catalog and pg_control versions, WAL segment size), and the check
// that pg1-path really is the data directory of the server the agent talks to.
// Plain values and functions; thread-safe.
#pragma once

#include "common/config/config.h"
#include "common/pg/connection.h"
#include "common/pg/control.h"
#include "common/pg/wal_header.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace pgbr::agent {

// How to reach cluster pg<index> (pg2 is typically a standby).
pg::ConnectOptions pgConnectOptions(const Config& config, unsigned index = 1);

// What a stanza records about its cluster (docs/repository-format.md, "Stanza identity").
struct ClusterIdentity {
  uint64_t systemId = 0;
  unsigned pgVersion = 0;
  uint32_t catalogVersion = 0;
  uint32_t controlVersion = 0;
  uint32_t walSegmentSize = 0;

  static ClusterIdentity fromControl(const pg::ControlData& control);
  // A stanza identity object from the server; throws Protocol naming the missing field.
  static ClusterIdentity fromJson(const nlohmann::json& json);
  // The fields of a stanza.create request.
  nlohmann::json toRequest() const;
  pg::ClusterIdentity walIdentity() const { return {systemId, pgVersion, walSegmentSize}; }
  // "system identifier 7311…, PostgreSQL 15"
  std::string describe() const;
};

struct LocalCluster {
  pg::ControlData control;  // global/pg_control under pg1-path
  ClusterIdentity identity;
  int versionNum = 0;         // server_version_num of the running server
  std::string dataDirectory;  // pg1-path
};

// Reads global/pg_control under pgPath and asks the running server for its identity and data
// directory. Throws a FileMissing/FileOpen error naming pg1-path when it holds no pg_control, and
// PgMismatch when pg1-path is not the running server's data directory or the two disagree on
// system identifier or version.
LocalCluster inspectCluster(pg::PgConnection& connection, const std::string& pgPath);

// Throws PgMismatch naming both identities when the cluster is not the one the stanza records.
void checkStanzaIdentity(const ClusterIdentity& stanza, const ClusterIdentity& cluster, std::string_view stanzaName);

}  // namespace pgbr::agent
