#include "agent/tablespace_map.h"
#include "agent/json_fields.h"

#include "common/error.h"

#include <charconv>
#include <set>

namespace pgbr::agent {

using nlohmann::json;

json tablespacesToJson(const std::vector<Tablespace>& tablespaces) {
  json list = json::array();
  for (const auto& t : tablespaces) list.push_back({{"oid", t.oid}, {"name", t.name}, {"location", t.location}});
  return list;
}

std::vector<Tablespace> backupTablespaces(const ManifestHeader& header) {
  std::string what = fmt::format("backup {}", header.label);
  std::vector<Tablespace> result;
  if (!field(header.extra, "tablespaces").is_null()) {
    const json list = field(header.extra, "tablespaces");
    if (!list.is_array()) fail(ErrorCode::Corrupt, "{}: its tablespace list is not a list", what);
    for (const auto& item : list) {
      auto oid = unsignedField(item, "oid");
      auto name = stringField(item, "name");
      auto location = stringField(item, "location");
      if (!oid || *oid > UINT32_MAX || !name || !location)
        fail(ErrorCode::Corrupt, "{}: a tablespace has no oid, name or location", what);
      result.push_back({.oid = static_cast<uint32_t>(*oid), .name = *name, .location = *location});
    }
    return result;
  }
  for (auto& [oid, location] : parseTablespaceMap(header.tablespaceMap, what + " tablespace_map"))
    result.push_back({.oid = oid, .name = std::to_string(oid), .location = location});
  return result;
}

TablespaceMapEntries parseTablespaceMap(std::string_view content, std::string_view what) {
  TablespaceMapEntries entries;
  size_t i = 0;
  while (i < content.size()) {
    size_t digitsEnd = i;
    while (digitsEnd < content.size() && content[digitsEnd] >= '0' && content[digitsEnd] <= '9') ++digitsEnd;
    uint32_t oid = 0;
    auto [end, error] = std::from_chars(content.data() + i, content.data() + digitsEnd, oid);
    if (error != std::errc() || end == content.data() + i || digitsEnd >= content.size() || content[digitsEnd] != ' ')
      fail(ErrorCode::Corrupt, "{}: a line does not start with '<oid> '", what);
    std::string path;
    size_t j = digitsEnd + 1;
    for (; j < content.size() && content[j] != '\n'; ++j) {
      if (content[j] == '\\' && j + 1 < content.size()) ++j;
      path += content[j];
    }
    if (path.empty()) fail(ErrorCode::Corrupt, "{}: tablespace {} has no location", what, oid);
    entries.emplace_back(oid, std::move(path));
    i = j + 1;
  }
  return entries;
}

std::string formatTablespaceMap(const TablespaceMapEntries& entries) {
  std::string out;
  for (const auto& [oid, path] : entries) {
    out += std::to_string(oid);
    out += ' ';
    for (char c : path) {
      if (c == '\\' || c == '\n' || c == '\r') out += '\\';
      out += c;
    }
    out += '\n';
  }
  return out;
}

std::map<uint32_t, std::string> mapTablespaces(const std::vector<Tablespace>& tablespaces,
                                               const std::map<std::string, std::string>& map,
                                               const std::optional<std::string>& mapAll) {
  std::map<uint32_t, std::string> targets;
  std::set<std::string> used;
  for (const auto& [key, path] : map) {
    bool known = false;
    for (const auto& t : tablespaces) known = known || t.name == key || std::to_string(t.oid) == key;
    if (!known) {
      std::string names;
      for (const auto& t : tablespaces) names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", t.name, t.oid);
      fail(ErrorCode::OptionInvalidValue, "option 'tablespace-map': the backup has no tablespace '{}'{}", key,
           names.empty() ? std::string(" (it has no tablespaces)") : " (it has " + names + ")");
    }
    if (path.empty() || path.front() != '/')
      fail(ErrorCode::OptionInvalidValue, "option 'tablespace-map': '{}={}' must map to an absolute path", key, path);
  }
  for (const auto& t : tablespaces) {
    bool inPlace = t.location.empty() || t.location.front() != '/';
    bool mapped = map.contains(t.name) || map.contains(std::to_string(t.oid));
    // An in-place tablespace (allow_in_place_tablespaces) is a directory inside pg_tblspc, restored
    // with the data directory; there is no link to point elsewhere.
    if (inPlace && mapped)
      fail(ErrorCode::OptionInvalidValue,
           "option 'tablespace-map': tablespace '{}' ({}) is an in-place tablespace "
           "inside the data directory and cannot be mapped",
           t.name, t.oid);
    if (inPlace) continue;
    std::string target;
    if (auto byName = map.find(t.name); byName != map.end())
      target = byName->second;
    else if (auto byOid = map.find(std::to_string(t.oid)); byOid != map.end())
      target = byOid->second;
    else if (mapAll)
      target = *mapAll + "/" + t.name;
    else
      target = t.location;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (!used.insert(target).second)
      fail(ErrorCode::OptionInvalidValue, "two tablespaces would be restored into '{}'; map each to its own directory",
           target);
    targets.emplace(t.oid, std::move(target));
  }
  return targets;
}

}  // namespace pgbr::agent
