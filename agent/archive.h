// The two WAL transfers that archive-push and archive-get are made of, shared by the synchronous
// commands and the asynchronous processes: one WAL file pushed to the repository, one fetched from
// it, over an open RepoClient. A push returns only once the repository's RESPONSE says the file is
// durable (or was already archived identical); a fetch writes to a temporary name beside the
// destination, checks every record, the size and the tag, and only then renames, so nothing
// unchecked ever appears under the destination's name.
//
// ArchiveContext is immutable once made and may be shared by the threads of one process, which
// push or fetch in parallel over the one RepoClient (see repo_client.h for its threading).
#pragma once

#include "agent/cluster.h"
#include "agent/repo_client.h"
#include "agent/repo_keys.h"
#include "common/config/config.h"
#include "common/pg/wal_name.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

// What every transfer of one stanza needs, asked for once per connection: the keys (with this
// agent's compression options applied) and the stanza's cluster identity.
struct ArchiveContext {
  std::string stanza;
  RepoKeys keys;
  ClusterIdentity identity;
  size_t bufferSize = 1024 * 1024;
};

// repo.keys and stanza.get for the configured stanza.
ArchiveContext openArchiveContext(RepoClient& client, const Config& config);

// Throws CommandInvalid unless name is the name of a WAL file (segment, .partial, .history, .backup).
pg::WalFileKind requireWalFileName(std::string_view name);

enum class PushResult { Stored, Duplicate };

// Pushes the WAL file at path under its file name. A segment's page header must name the stanza's
// cluster (PgMismatch naming both system identifiers otherwise) and a segment must be whole.
// Throws the server's error (ArchiveMismatch, Corrupt, …) or FileRead when the file changed while
// it was read.
PushResult pushWalFile(RepoClient& client, const ArchiveContext& context, const std::string& path);

// pushWalFile in two halves, so that one thread can compress and send its next file while the
// server makes this one durable: sendWalFile returns once the whole file is sent (throwing what
// pushWalFile throws up to then), awaitPush waits for the server's answer (throwing its error).
struct SentPush {
  std::string name;
  RepoChannel channel;
};
SentPush sendWalFile(RepoClient& client, const ArchiveContext& context, const std::string& path);
PushResult awaitPush(SentPush& sent);

// Fetches the archived file `name` into destination (replacing it). false when the archive does not
// have it (nothing is written). With durable, the file is fsynced before it is renamed and the
// directory after. Throws Corrupt naming the file when the archived copy fails a check.
bool fetchWalFile(RepoClient& client, const ArchiveContext& context, std::string_view name,
                  const std::string& destination, bool durable);

// The archived file `name` (a timeline history) in memory, at most kMaxWalContent bytes; nullopt
// when the archive does not have it. Checked as fetchWalFile checks.
inline constexpr size_t kMaxWalContent = 16 * 1024 * 1024;
std::optional<std::string> fetchWalContent(RepoClient& client, const ArchiveContext& context, std::string_view name);

// archive-push without the spool: connects, pushes the file at path, logs the result; 0 or throws.
int pushNow(const Config& config, const std::string& path);

// The WAL files PostgreSQL has marked ready for archiving in walDirectory (archive_status/*.ready)
// with their sizes, in archiving order (timeline histories first, then by name).
struct ReadyFile {
  std::string name;
  uint64_t size = 0;
};
std::vector<ReadyFile> readyWal(const std::string& walDirectory);
uint64_t totalSize(const std::vector<ReadyFile>& files);

// The warning logged for a WAL file dropped because archive-push-queue-max was exceeded.
std::string dropWarning(std::string_view name, uint64_t queueMax);

}  // namespace pgbr::agent
