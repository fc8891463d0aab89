#include "agent/info_format.h"
#include "agent/json_fields.h"

#include "common/error.h"
#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace pgbr::agent {

using nlohmann::json;

namespace {

std::string statusMessage(const StanzaInfo& stanza) {
  if (stanza.backups.empty()) return "error (no valid backups)";
  if (!stanza.archiveGaps.empty())
    return fmt::format("ok (the WAL archive has {} gap{})", stanza.archiveGaps.size(),
                       stanza.archiveGaps.size() == 1 ? "" : "s");
  return "ok";
}

std::string orNone(const std::string& text) { return text.empty() ? "none" : text; }

}  // namespace

std::string describeGap(const ArchiveGap& gap) {
  return fmt::format("{} to {} ({} segment{} missing)", gap.first, gap.last, gap.segments,
                     gap.segments == 1 ? "" : "s");
}

std::string formatTimestamp(int64_t unixSeconds) {
  std::time_t time = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  ::localtime_r(&time, &tm);
  long offset = tm.tm_gmtoff;
  char sign = offset < 0 ? '-' : '+';
  offset = offset < 0 ? -offset : offset;
  std::string zone = fmt::format("{}{:02}", sign, offset / 3600);
  if (offset % 3600 != 0) zone += fmt::format(":{:02}", offset % 3600 / 60);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, zone);
}

std::vector<StanzaInfo> parseInfo(const json& response) {
  if (!response.is_object() || !response.contains("stanzas") || !response["stanzas"].is_array())
    fail(ErrorCode::Protocol, "the repository server's info answer has no stanza list");
  std::vector<StanzaInfo> stanzas;
  for (const auto& item : response["stanzas"]) {
    auto name = stringField(item, "name");
    if (!name) fail(ErrorCode::Protocol, "the repository server's info answer has a stanza without a name");
    StanzaInfo stanza;
    stanza.name = *name;
    if (!field(item, "identity").is_null()) stanza.identity = ClusterIdentity::fromJson(field(item, "identity"));
    json backups = field(item, "backups");
    if (!backups.is_null() && !backups.is_array())
      fail(ErrorCode::Protocol, "the repository server's info answer has no backup list for stanza '{}'", stanza.name);
    for (json header : backups.is_array() ? backups : json::array()) {
      if (header.is_object() && !header.contains("kind")) header["kind"] = "header";
      try {
        stanza.backups.push_back(ManifestHeader::fromJson(header, "info"));
      } catch (const Error& error) {
        fail(ErrorCode::Protocol, "the repository server's info answer has a malformed backup of stanza '{}': {}",
             stanza.name, error.what());
      }
    }
    std::stable_sort(stanza.backups.begin(), stanza.backups.end(), [](const auto& a, const auto& b) {
      return a.startTime != b.startTime ? a.startTime < b.startTime : a.label < b.label;
    });
    const json archive = field(item, "archive");
    stanza.archiveMin = stringField(archive, "min").value_or("");
    stanza.archiveMax = stringField(archive, "max").value_or("");
    const json gaps = field(archive, "gaps");
    for (const auto& gap : gaps.is_array() ? gaps : json::array()) {
      auto first = stringField(gap, "first"), last = stringField(gap, "last");
      auto segments = unsignedField(gap, "segments");
      if (!first || !last || !segments)
        fail(ErrorCode::Protocol, "the repository server's info answer has a malformed archive gap for stanza '{}'",
             stanza.name);
      stanza.archiveGaps.push_back({*first, *last, *segments});
    }
    stanzas.push_back(std::move(stanza));
  }
  return stanzas;
}

std::string formatInfoText(const std::vector<StanzaInfo>& stanzas) {
  if (stanzas.empty()) return "No stanzas exist in the repository.\n";
  std::string out;
  for (size_t i = 0; i < stanzas.size(); ++i) {
    const auto& stanza = stanzas[i];
    if (i > 0) out += '\n';
    out += fmt::format("stanza: {}\n    status: {}\n", stanza.name, statusMessage(stanza));
    if (stanza.identity)
      out += fmt::format("    db (current): system identifier {}, PostgreSQL {}\n", stanza.identity->systemId,
                         stanza.identity->pgVersion);
    if (stanza.archiveMin.empty())
      out += "    wal archive min/max: none\n";
    else
      out += fmt::format("    wal archive min/max: {}/{}\n", stanza.archiveMin, stanza.archiveMax);
    for (const auto& gap : stanza.archiveGaps) out += fmt::format("    wal archive gap: {}\n", describeGap(gap));
    for (const auto& b : stanza.backups) {
      out += fmt::format("\n    {} backup: {}\n", b.type, b.label);
      if (!b.prior.empty()) out += fmt::format("        prior backup: {}\n", b.prior);
      out += fmt::format("        timestamp start/stop: {} / {}\n", formatTimestamp(b.startTime),
                         formatTimestamp(b.stopTime));
      out += fmt::format("        wal start/stop: {} / {}\n", orNone(b.walStart), orNone(b.walStop));
      out += fmt::format("        lsn start/stop: {} / {}\n", orNone(b.startLsn), orNone(b.stopLsn));
      out += fmt::format("        database size: {}, files: {}\n", formatBytes(b.size), b.fileCount);
      out += fmt::format("        repository: {} new\n", formatBytes(b.repoSize));
      if (b.pageErrors > 0) out += fmt::format("        page checksum errors: {}\n", b.pageErrors);
    }
  }
  return out;
}

json formatInfoJson(const std::vector<StanzaInfo>& stanzas) {
  json out = json::array();
  for (const auto& stanza : stanzas) {
    json item = {{"name", stanza.name},
                 {"status", {{"code", stanza.backups.empty() ? 2 : 0}, {"message", statusMessage(stanza)}}}};
    item["db"] = stanza.identity ? json{{"systemId", std::to_string(stanza.identity->systemId)},
                                        {"version", stanza.identity->pgVersion}}
                                 : json(nullptr);
    item["archive"] = {{"min", stanza.archiveMin.empty() ? json(nullptr) : json(stanza.archiveMin)},
                       {"max", stanza.archiveMax.empty() ? json(nullptr) : json(stanza.archiveMax)}};
    json gaps = json::array();
    for (const auto& gap : stanza.archiveGaps)
      gaps.push_back({{"first", gap.first}, {"last", gap.last}, {"segments", gap.segments}});
    item["archive"]["gaps"] = std::move(gaps);
    json backups = json::array();
    for (const auto& b : stanza.backups) {
      backups.push_back({{"label", b.label},
                         {"type", b.type},
                         {"prior", b.prior.empty() ? json(nullptr) : json(b.prior)},
                         {"timestamp", {{"start", b.startTime}, {"stop", b.stopTime}}},
                         {"lsn", {{"start", b.startLsn}, {"stop", b.stopLsn}}},
                         {"wal", {{"start", b.walStart}, {"stop", b.walStop}}},
                         {"timeline", b.timeline},
                         {"size", b.size},
                         {"repoSize", b.repoSize},
                         {"files", b.fileCount},
                         {"pageErrors", b.pageErrors}});
    }
    item["backups"] = std::move(backups);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace pgbr::agent
