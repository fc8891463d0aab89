#include "repo-server/backup_session.h"

#include "common/error.h"
#include "common/log.h"
#include "common/pg/lsn.h"
#include "common/text.h"
#include "repo-server/repository.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pgbr::repo {
namespace {

constexpr size_t kStampSize = 15;  // "20261125-034319"

std::string stamp(std::time_t time) {
  std::tm tm{};
  ::gmtime_r(&time, &tm);
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

char typeLetter(std::string_view type) {
  if (type == "full") return 'F';
  if (type == "diff") return 'D';
  if (type == "incr") return 'I';
  fail(ErrorCode::Format, "'{}' is not a backup type: expected full, diff or incr", type);
}

// The full backup a label descends from: "20261125-034319F".
std::string fullLabelOf(std::string_view label) { return std::string(label.substr(0, kStampSize + 1)); }

}  // namespace

std::string makeBackupLabel(std::string_view type, std::time_t time, std::string_view fullLabel) {
  char letter = typeLetter(type);
  if (letter == 'F') return stamp(time) + letter;
  return fmt::format("{}_{}{}", fullLabel, stamp(time), letter);
}

std::optional<std::time_t> backupLabelTime(std::string_view label) {
  if (label.size() < kStampSize + 1) return std::nullopt;
  std::string_view last = label.substr(label.size() - kStampSize - 1);
  char letter = last.back();
  if (letter != 'F' && letter != 'D' && letter != 'I') return std::nullopt;
  for (size_t i = 0; i < kStampSize; ++i)
    if (i == 8 ? last[i] != '-' : !std::isdigit(static_cast<unsigned char>(last[i]))) return std::nullopt;
  auto number = [&](size_t at, size_t n) { return std::stoi(std::string(last.substr(at, n))); };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  return ::timegm(&tm);
}

BackupPlan planBackup(Repository& repo, const StanzaIdentity& identity, std::string_view type, std::time_t startTime) {
  typeLetter(type);
  auto& manifests = repo.manifests();
  auto labels = manifests.labels(identity.stanza);
  BackupPlan plan;
  plan.requestedType = std::string(type);
  plan.startTime = startTime;
  std::optional<std::string> priorLabel;
  if (type == "diff") {
    auto full = std::find_if(labels.rbegin(), labels.rend(),
                             [](const std::string& l) { return l.size() == kStampSize + 1 && l.back() == 'F'; });
    if (full != labels.rend()) priorLabel = *full;
  } else if (type == "incr" && !labels.empty()) {
    priorLabel = labels.back();
  }
  if (priorLabel) {
    auto header = manifests.readHeader(identity.stanza, *priorLabel);
    // A backup of an earlier cluster of the stanza (before an upgrade) is no base.
    if (header.systemId == identity.systemId) plan.prior = std::move(header);
  }
  plan.type = plan.prior ? std::string(type) : "full";
  // Labels sort in time order: a new one is later than every existing one.
  std::time_t time = startTime;
  if (!labels.empty())
    if (auto last = backupLabelTime(labels.back())) time = std::max(time, *last + 1);
  for (;; ++time) {
    plan.label = makeBackupLabel(plan.type, time, plan.prior ? fullLabelOf(plan.prior->label) : std::string());
    if (!manifests.exists(identity.stanza, plan.label)) break;
  }
  return plan;
}

BackupSession::BackupSession(Repository& repo, const BackupSettings& settings, const StanzaIdentity& identity,
                             std::string_view type, std::time_t startTime, std::string holder)
    : repo_(repo),
      identity_(identity),
      lock_(repo.backupLocks().acquire(identity.stanza, std::move(holder))),
      plan_(planBackup(repo, identity, type, startTime)),
      spool_(repo.keys(), repo.pipeline(), settings.spoolDirectory,
             fmt::format("backup {} of stanza '{}'", plan_.label, identity.stanza)) {
  lock_.setLabel(plan_.label);
}

nlohmann::json BackupSession::response() const {
  nlohmann::json response{{"label", plan_.label},
                          {"type", plan_.type},
                          {"prior", plan_.prior ? plan_.prior->toJson() : nlohmann::json(nullptr)}};
  if (plan_.type != plan_.requestedType)
    response["reason"] = fmt::format(
        "stanza '{}' has no {} backup of its current cluster to base a {} backup on: "
        "taking a full backup",
        identity_.stanza, plan_.requestedType == "diff" ? "full" : "prior", plan_.requestedType);
  return response;
}

void BackupSession::finishEntries(const nlohmann::json& end) {
  spool_.close();
  std::string what = fmt::format("the END of backup {} of stanza '{}'", plan_.label, identity_.stanza);
  nlohmann::json merged = end.contains("header") ? end.at("header") : nlohmann::json::object();
  if (!merged.is_object()) fail(ErrorCode::Format, "{}: \"header\" is not an object", what);
  if (auto it = merged.find("systemId"); it != merged.end() && it->is_number_unsigned())
    *it = std::to_string(it->get<uint64_t>());
  auto setDefault = [&](const char* key, nlohmann::json value) {
    if (!merged.contains(key)) merged[key] = std::move(value);
  };
  setDefault("startTime", static_cast<int64_t>(plan_.startTime));
  setDefault("stopTime", static_cast<int64_t>(std::time(nullptr)));
  setDefault("pgVersion", identity_.pgVersion);
  setDefault("systemId", std::to_string(identity_.systemId));
  setDefault("chunkSize", repo_.pipeline().chunkSize);
  if (!merged.contains("pipeline") || !merged["pipeline"].is_object()) merged["pipeline"] = repo_.pipeline().toJson();
  // What the server knows better than the agent.
  merged["kind"] = "header";
  merged["format"] = kManifestFormat;
  merged["stanza"] = identity_.stanza;
  merged["label"] = plan_.label;
  merged["type"] = plan_.type;
  merged["prior"] = plan_.prior ? plan_.prior->label : "";
  merged["fileCount"] = spool_.files();
  merged["size"] = spool_.size();
  merged["pageErrors"] = spool_.pageErrors();
  merged["repoSize"] = 0;
  merged["walStart"] = "";
  merged["walStop"] = "";
  try {
    header_ = ManifestHeader::fromJson(merged, what);
  } catch (const Error& error) {
    if (error.code() == ErrorCode::Corrupt) throw Error(ErrorCode::Format, error.what());
    throw;
  }
  if (header_.systemId != identity_.systemId || header_.pgVersion != identity_.pgVersion)
    fail(ErrorCode::PgMismatch,
         "{}: the backup is of PostgreSQL {} with system identifier {}, but stanza '{}' is PostgreSQL {} with "
         "system identifier {}",
         what, header_.pgVersion, header_.systemId, identity_.stanza, identity_.pgVersion, identity_.systemId);
  auto start = pg::Lsn::parseOrFail(header_.startLsn, "the backup's startLsn");
  auto stop = pg::Lsn::parseOrFail(header_.stopLsn, "the backup's stopLsn");
  if (stop < start) fail(ErrorCode::Format, "{}: stopLsn {} is before startLsn {}", what, stop, start);
  if (header_.timeline == 0) fail(ErrorCode::Format, "{}: timeline 0 is not a timeline", what);
  // pg_backup_stop waits for the segment holding the byte before its stop position.
  uint32_t segmentSize = identity_.walSegmentSize;
  walFirst_ = pg::WalSegment::containing(start, header_.timeline, segmentSize);
  walLast_ = pg::WalSegment::containing(stop > start ? stop - 1 : start, header_.timeline, segmentSize);
  header_.walStart = walFirst_.fileName(segmentSize);
  header_.walStop = walLast_.fileName(segmentSize);
  double seconds = 60;
  if (auto it = end.find("archiveTimeout"); it != end.end()) {
    if (!it->is_number()) fail(ErrorCode::Format, "{}: \"archiveTimeout\" is not a number of seconds", what);
    seconds = std::clamp(it->get<double>(), 0.1, 86'400.0);
  }
  archiveTimeout_ = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  finished_ = true;
}

void BackupSession::checkChunks() {
  if (!finished_) fail(ErrorCode::Internal, "backup {}: chunks checked before the entries ended", plan_.label);
  auto& store = repo_.chunks();
  store.flush();
  uint64_t missing = 0;
  std::string firstMissing;
  std::vector<ChunkId> volatileChunks;  // in a pack that was not sealed (a concurrent seal failed)
  auto entries = spool_.replay();
  while (auto entry = entries->next()) {
    for (const auto& id : entry->chunks) {
      auto location = store.locate(id);
      if (!location) {
        if (missing++ == 0) firstMissing = fmt::format("{} of '{}'", id.hex(), entry->path);
      } else if (!ChunkStore::isDurable(*location)) {
        volatileChunks.push_back(id);
      }
    }
  }
  if (missing > 0)
    fail(ErrorCode::Corrupt,
         "backup {} of stanza '{}' names {} chunk(s) the repository does not have (the first: chunk {}): every chunk "
         "must be sent with chunks.put before the backup ends",
         plan_.label, identity_.stanza, missing, firstMissing);
  if (volatileChunks.empty()) return;
  store.flush();
  for (const auto& id : volatileChunks) {
    auto location = store.locate(id);
    if (!location || !ChunkStore::isDurable(*location))
      fail(ErrorCode::FileWrite, "backup {} of stanza '{}': chunk {} could not be made durable", plan_.label,
           identity_.stanza, id.hex());
  }
}

std::vector<std::string> BackupSession::missingWal() {
  return repo_.wal().missingSegments(identity_, walFirst_, walLast_);
}

nlohmann::json BackupSession::commit() {
  if (!finished_) fail(ErrorCode::Internal, "backup {}: committed before the entries ended", plan_.label);
  header_.repoSize = lock_.active().bytesStored;
  auto entries = spool_.replay();
  repo_.manifests().write(header_, [&] { return entries->next(); });
  logInfo("backup {} of stanza '{}' committed: {} files, {}, {} new in the repository", plan_.label, identity_.stanza,
          header_.fileCount, formatBytes(header_.size), formatBytes(header_.repoSize));
  return {{"label", plan_.label}, {"repoSize", header_.repoSize}, {"files", header_.fileCount}, {"size", header_.size}};
}

}  // namespace pgbr::repo
