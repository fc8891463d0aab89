#include "repo-server/stanza.h"

#include "common/error.h"
#include "common/pg/wal_name.h"
#include "common/storage/path.h"
#include "repo-server/json_object.h"

#include <fmt/format.h>

#include <cctype>

namespace pgbr::repo {
namespace {

std::string identityDir(std::string_view stanza) { return stanzaPath(stanza) + "/identity"; }
std::string identityPath(std::string_view stanza, uint32_t seq) {
  return fmt::format("{}/{:04}.json", identityDir(stanza), seq);
}

std::string describeCluster(const StanzaIdentity& identity) {
  return fmt::format("PostgreSQL {} with system identifier {}", identity.pgVersion, identity.systemId);
}

bool sameCluster(const StanzaIdentity& a, const StanzaIdentity& b) {
  return a.systemId == b.systemId && a.pgVersion == b.pgVersion && a.walSegmentSize == b.walSegmentSize;
}

}  // namespace

nlohmann::json StanzaIdentity::toJson() const {
  return {{"stanza", stanza},
          {"seq", seq},
          {"systemId", std::to_string(systemId)},
          {"pgVersion", pgVersion},
          {"catalogVersion", catalogVersion},
          {"controlVersion", controlVersion},
          {"walSegmentSize", walSegmentSize},
          {"created", created}};
}

StanzaIdentity StanzaIdentity::fromJson(const nlohmann::json& json, std::string_view what) {
  StanzaIdentity identity;
  identity.stanza = jsonField<std::string>(json, "stanza", what);
  identity.seq = jsonField<uint32_t>(json, "seq", what);
  auto systemId = jsonField<std::string>(json, "systemId", what);
  try {
    size_t used = 0;
    identity.systemId = std::stoull(systemId, &used);
    if (used != systemId.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::logic_error&) {
    fail(ErrorCode::Corrupt, "{}: systemId '{}' is not a decimal number", what, systemId);
  }
  identity.pgVersion = jsonField<uint32_t>(json, "pgVersion", what);
  identity.catalogVersion = jsonField<uint32_t>(json, "catalogVersion", what);
  identity.controlVersion = jsonField<uint32_t>(json, "controlVersion", what);
  identity.walSegmentSize = jsonField<uint32_t>(json, "walSegmentSize", what);
  identity.created = json.value("created", "");
  return identity;
}

void checkStanzaName(std::string_view name) {
  auto allowed = [](char c, bool first) {
    return std::isalnum(static_cast<unsigned char>(c)) || (!first && (c == '_' || c == '.' || c == '-'));
  };
  bool ok = !name.empty() && name.size() <= 64;
  for (size_t i = 0; ok && i < name.size(); ++i) ok = allowed(name[i], i == 0);
  if (!ok)
    fail(ErrorCode::Format,
         "'{}' is not a valid stanza name: use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or "
         "digit",
         name);
}

std::string stanzaPath(std::string_view stanza) {
  checkStanzaName(stanza);
  return "stanzas/" + std::string(stanza);
}

std::vector<StanzaIdentity> StanzaStore::load(std::string_view stanza) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(stanza); it != cache_.end()) return it->second;
  }
  std::vector<StanzaIdentity> identities;
  for (const auto& entry : storage_.list(identityDir(stanza))) {
    if (entry.directory || !entry.path.ends_with(".json")) continue;
    std::string path = identityDir(stanza) + "/" + entry.path;
    std::string what = storage_.describe(path);
    auto object = readJsonObject(storage_, path);
    if (!object) continue;  // removed while listing
    auto identity = StanzaIdentity::fromJson(*object, what);
    if (identity.stanza != stanza || identityPath(stanza, identity.seq) != path)
      fail(ErrorCode::Corrupt, "{} names stanza '{}' and number {}, which do not match its path", what, identity.stanza,
           identity.seq);
    identities.push_back(std::move(identity));
  }
  if (identities.empty()) return identities;
  std::lock_guard lock(mutex_);
  cache_[std::string(stanza)] = identities;
  return identities;
}

StanzaStore::Created StanzaStore::create(const StanzaIdentity& requested) {
  checkStanzaName(requested.stanza);
  if (requested.systemId == 0)
    fail(ErrorCode::Format, "stanza '{}': the system identifier must not be 0", requested.stanza);
  if (!pg::isValidWalSegmentSize(requested.walSegmentSize))
    fail(ErrorCode::Format, "stanza '{}': {} bytes is not a WAL segment size PostgreSQL uses", requested.stanza,
         requested.walSegmentSize);
  if (requested.pgVersion < 10)
    fail(ErrorCode::Format, "stanza '{}': PostgreSQL version {} is not supported", requested.stanza,
         requested.pgVersion);
  StanzaIdentity identity = requested;
  identity.seq = 1;
  identity.created = utcTimestampNow();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto current = find(requested.stanza)) {
      if (!sameCluster(*current, requested))
        fail(ErrorCode::PgMismatch,
             "stanza '{}' belongs to {}, but the cluster asking to create it is {}: check pg1-path and the stanza "
             "name",
             requested.stanza, describeCluster(*current), describeCluster(requested));
      return {false, *current};
    }
    auto result = storage_.write(identityPath(identity.stanza, 1), jsonBytes(identity.toJson()), WriteMode::IfAbsent);
    if (result == WriteResult::Written) {
      std::lock_guard lock(mutex_);
      cache_[identity.stanza] = {identity};
      return {true, identity};
    }
    // Another request created it meanwhile: compare with what it wrote.
  }
  fail(ErrorCode::Internal, "stanza '{}' could not be created or read back", requested.stanza);
}

std::optional<StanzaIdentity> StanzaStore::find(std::string_view stanza) {
  checkStanzaName(stanza);
  auto identities = load(stanza);
  if (identities.empty()) return std::nullopt;
  return identities.back();
}

StanzaIdentity StanzaStore::get(std::string_view stanza) {
  auto identity = find(stanza);
  if (!identity)
    fail(ErrorCode::StanzaMissing, "stanza '{}' does not exist in the repository: run stanza-create first", stanza);
  return *identity;
}

std::vector<StanzaIdentity> StanzaStore::history(std::string_view stanza) {
  checkStanzaName(stanza);
  return load(stanza);
}

std::vector<std::string> StanzaStore::list() {
  std::vector<std::string> names;
  for (const auto& entry : storage_.list("stanzas")) {
    if (!entry.directory || !isValidPath(entry.path)) continue;
    try {
      checkStanzaName(entry.path);
    } catch (const Error&) {
      continue;  // not a stanza directory
    }
    if (find(entry.path)) names.push_back(entry.path);
  }
  return names;
}

}  // namespace pgbr::repo
