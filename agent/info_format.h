// The info command's output from the server's info answer: text laid out like pgBackRest's
// (stanza, status, cluster, WAL archive range and its gaps, then each backup with type and label, start and
// stop times, WAL and LSN ranges, sizes), or JSON with stable camelCase field names for programs.
// Pure functions; thread-safe (timestamps use the process's time zone).
#pragma once

#include "agent/cluster.h"
#include "common/manifest/manifest.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace pgbr::agent {

// Segments missing from a timeline's run of archived WAL: recovery cannot cross them.
struct ArchiveGap {
  std::string first;  // the first missing segment
  std::string last;   // the last missing segment
  uint64_t segments = 0;
};

// "000000010000000000000007 to 000000010000000000000009 (3 segments missing)"
std::string describeGap(const ArchiveGap& gap);

struct StanzaInfo {
  std::string name;
  std::optional<ClusterIdentity> identity;
  std::vector<ManifestHeader> backups;  // oldest first
  std::string archiveMin;               // empty when the archive is empty
  std::string archiveMax;
  std::vector<ArchiveGap> archiveGaps;  // oldest first
};

// Parses {"stanzas": [{"name", "identity", "backups": [<header>…], "archive": {"min", "max",
// "gaps": [{"first", "last", "segments"}…]}}]}.
// Throws Protocol naming what is malformed.
std::vector<StanzaInfo> parseInfo(const nlohmann::json& response);

std::string formatInfoText(const std::vector<StanzaInfo>& stanzas);
nlohmann::json formatInfoJson(const std::vector<StanzaInfo>& stanzas);

// "2026-11-25 03:43:19+00" in local time, with the offset as PostgreSQL prints it.
std::string formatTimestamp(int64_t unixSeconds);

}  // namespace pgbr::agent
