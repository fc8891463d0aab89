// Tablespaces at restore: which ones a backup holds (its header records oid, name and location;
// older headers only the tablespace_map), where each goes (--tablespace-map by name or OID, then
// --tablespace-map-all/<name>, else where it was), and the tablespace_map file PostgreSQL reads
// during recovery, with its escaping of '\', newline and carriage return.
// Pure functions; thread-safe.
#pragma once

#include "common/manifest/manifest.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbr::agent {

struct Tablespace {
  uint32_t oid = 0;
  std::string name;
  std::string location;  // absolute, as the backed-up cluster had it
  bool operator==(const Tablespace&) const = default;
};

nlohmann::json tablespacesToJson(const std::vector<Tablespace>& tablespaces);
// From header.extra["tablespaces"], or, when absent, from the tablespace_map (names are then
// the OIDs). Throws Corrupt naming the backup for malformed data.
std::vector<Tablespace> backupTablespaces(const ManifestHeader& header);

using TablespaceMapEntries = std::vector<std::pair<uint32_t, std::string>>;
TablespaceMapEntries parseTablespaceMap(std::string_view content, std::string_view what);
std::string formatTablespaceMap(const TablespaceMapEntries& entries);

// OID -> directory to restore into. Throws OptionInvalidValue naming the option for a mapping
// of a tablespace the backup does not have, a relative path, or two tablespaces sent to one
// directory.
std::map<uint32_t, std::string> mapTablespaces(const std::vector<Tablespace>& tablespaces,
                                               const std::map<std::string, std::string>& map,
                                               const std::optional<std::string>& mapAll);

}  // namespace pgbr::agent
