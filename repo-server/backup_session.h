// One backup of one stanza on the server side, from the `backup` request to the commit
// (docs/operations.md "backup"): it holds the stanza's backup lock, names the backup
// (pgBackRest-style labels) and finds its prior backup, spools the manifest entries the agent
// sends, builds the manifest header from the agent's END, and commits: every chunk named is
// stored and durable, the WAL from start to stop is archived, then the manifest is written.
// Nothing is committed unless every step succeeds.
//
// The blocking steps (checkChunks, missingWal, commit) belong on a worker thread; the
// session belongs to one coroutine and one thread at a time. The Repository must outlive it.
#pragma once

#include "common/manifest/manifest.h"
#include "common/pg/wal_name.h"
#include "repo-server/backup_lock.h"
#include "repo-server/entry_spool.h"
#include "repo-server/stanza.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::repo {

class Repository;

// "20261125-034319F"; with a full label and type D or I: "20261125-034319F_20261125-050000D".
// Times are UTC.
std::string makeBackupLabel(std::string_view type, std::time_t time, std::string_view fullLabel = {});
// The time a label was taken (its last timestamp), or nullopt when it is not a label.
std::optional<std::time_t> backupLabelTime(std::string_view label);

struct BackupPlan {
  std::string label;
  std::string type;           // full, diff, incr: what will be taken
  std::string requestedType;  // what the agent asked for
  std::optional<ManifestHeader> prior;
  std::time_t startTime = 0;
};

// Picks the label and the prior backup: a diff descends from the newest full, an incr from the
// newest backup, both only within the stanza's current cluster; with none, it becomes a full.
BackupPlan planBackup(Repository& repo, const StanzaIdentity& identity, std::string_view type, std::time_t startTime);

struct BackupSettings {
  std::string spoolDirectory;  // temporary files of the entry spool
};

class BackupSession {
 public:
  // Takes the stanza's backup lock (Error(BackupInProgress) when held), then plans the backup.
  BackupSession(Repository& repo, const BackupSettings& settings, const StanzaIdentity& identity, std::string_view type,
                std::time_t startTime, std::string holder);

  const BackupPlan& plan() const { return plan_; }
  const std::string& stanza() const { return identity_.stanza; }
  // {"label", "type", "prior": header | null, "reason"?}: the RESPONSE to the request.
  nlohmann::json response() const;

  // The agent's entries (DATA), in manifest order.
  void addEntries(std::span<const uint8_t> bytes) { spool_.feed(bytes); }

  // From the agent's END: the complete header (server-computed fields: label, type, prior,
  // totals, WAL range, chunk size) and the WAL segments it needs. Throws Format, PgMismatch.
  void finishEntries(const nlohmann::json& end);
  const ManifestHeader& header() const { return header_; }
  // Seconds the agent allows for the WAL to reach the archive.
  std::chrono::milliseconds archiveTimeout() const { return archiveTimeout_; }

  // Every chunk the entries name is stored, then durable (flushing the chunk store). Throws
  // Corrupt naming a missing chunk and its file.
  void checkChunks();
  // WAL segments from start to stop not yet archived, in order.
  std::vector<std::string> missingWal();
  // Writes the manifest: the commit. Returns the END trailer for the agent.
  nlohmann::json commit();

 private:
  Repository& repo_;
  StanzaIdentity identity_;
  BackupLocks::Guard lock_;
  BackupPlan plan_;
  EntrySpool spool_;
  ManifestHeader header_;
  pg::WalSegment walFirst_, walLast_;
  std::chrono::milliseconds archiveTimeout_{60'000};
  bool finished_ = false;
};

}  // namespace pgbr::repo
