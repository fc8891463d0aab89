// Stanzas in the repository (docs/repository-format.md "Stanza identity"): each stanza records
// the clusters it has been as write-once identity files, stanzas/<stanza>/identity/<nnnn>.json;
// the highest number is the current cluster. StanzaStore creates and reads them and keeps the
// identities it has read in memory (they never change once written).
//
// Threading: StanzaStore is thread-safe. Its Storage must outlive it.
#pragma once

#include "common/pg/wal_header.h"
#include "common/storage/storage.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

struct StanzaIdentity {
  std::string stanza;
  uint32_t seq = 1;
  uint64_t systemId = 0;
  unsigned pgVersion = 0;  // major version
  uint32_t catalogVersion = 0;
  uint32_t controlVersion = 0;
  uint32_t walSegmentSize = 0;
  std::string created;  // UTC, "2026-11-25T03:43:19Z"

  // As stored: systemId is a decimal string (it does not fit a JSON double).
  nlohmann::json toJson() const;
  // Throws Corrupt naming `what` for a missing or mistyped field.
  static StanzaIdentity fromJson(const nlohmann::json& json, std::string_view what);
  pg::ClusterIdentity cluster() const { return {systemId, pgVersion, walSegmentSize}; }
};

// Throws Format unless name matches [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, so it is safe in paths.
void checkStanzaName(std::string_view name);

// "stanzas/<stanza>"
std::string stanzaPath(std::string_view stanza);

class StanzaStore {
 public:
  explicit StanzaStore(Storage& storage) : storage_(storage) {}

  struct Created {
    bool created = false;  // false: the stanza already had this cluster
    StanzaIdentity identity;
  };
  // Records the cluster of a new stanza (seq 1). Idempotent for the same system identifier and
  // version; Error(PgMismatch) naming both clusters when the stanza has another one. Concurrent
  // calls for one stanza are safe: exactly one writes.
  Created create(const StanzaIdentity& requested);

  // The current identity (highest seq), or nullopt when the stanza does not exist.
  std::optional<StanzaIdentity> find(std::string_view stanza);
  // As find(), but Error(StanzaMissing) saying to run stanza-create.
  StanzaIdentity get(std::string_view stanza);
  // Every identity of the stanza, oldest first.
  std::vector<StanzaIdentity> history(std::string_view stanza);
  // Names of every stanza with an identity, sorted.
  std::vector<std::string> list();

 private:
  std::vector<StanzaIdentity> load(std::string_view stanza);

  Storage& storage_;
  std::mutex mutex_;
  std::map<std::string, std::vector<StanzaIdentity>, std::less<>> cache_;  // stanzas with an identity
};

}  // namespace pgbr::repo
