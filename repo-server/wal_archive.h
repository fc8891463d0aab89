// The WAL archive of each stanza (docs/repository-format.md "WAL archive"): one record-stream
// object per WAL file, stanzas/<stanza>/wal/<system-id>/<dir>/<file>.<tag>.wal, where <dir> is
// the first 16 hex digits of the name (or "history" for timeline histories) and <tag> a keyed
// hash of the file's plaintext. A push is verified before it is stored: every record opens, the
// size and tag are those announced, and a segment's page header belongs to the stanza's
// cluster. A second push of the same name is a success when the tag is the same and
// ArchiveMismatch when it differs.
//
// Threading: WalArchive is thread-safe; pushes of one file name are serialised between the
// verification and the write. A WalPush belongs to one thread at a time. The Storage and the
// Keyring must outlive both.
#pragma once

#include "common/filter/crypto.h"
#include "common/filter/keys.h"
#include "common/pg/wal_header.h"
#include "common/storage/storage.h"
#include "repo-server/record_verifier.h"
#include "repo-server/stanza.h"

#include <nlohmann/json.hpp>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

// The largest WAL file accepted (PostgreSQL's largest segment size).
inline constexpr uint64_t kMaxWalFileSize = 1ull << 30;

// The tag of a WAL file: the first 8 bytes of HMAC-SHA256(K_id, plaintext), 16 hex digits.
std::string walTag(const Keyring& keys, std::span<const uint8_t> plaintext);

struct StoredWal {
  std::string name;  // as PostgreSQL named it
  std::string tag;
  std::string path;  // of the object
};

class WalPush;

class WalArchive {
 public:
  WalArchive(Storage& storage, std::shared_ptr<const Keyring> keys) : storage_(storage), keys_(std::move(keys)) {}

  // Throws Format unless name is a WAL file name pgbr archives (segment, .partial, .backup or
  // .history), and unless tag is 16 lower-case hex digits (when given).
  static void checkName(std::string_view name);
  static void checkTag(std::string_view tag);
  // "stanzas/<stanza>/wal/<system-id>/<dir>/<name>.<tag>.wal"
  static std::string objectPath(const StanzaIdentity& cluster, std::string_view name, std::string_view tag);

  // The stored object of a WAL file of this cluster, or nullopt.
  std::optional<StoredWal> find(const StanzaIdentity& cluster, std::string_view name);
  // As find(), searching the stanza's clusters from the current one back.
  std::optional<StoredWal> findInHistory(const std::vector<StanzaIdentity>& clusters, std::string_view name);
  // Names of the cluster's WAL files in name order, within [from, to] (empty: unbounded), at
  // most max of them.
  std::vector<std::string> list(const StanzaIdentity& cluster, std::string_view from, std::string_view to, size_t max);
  // The first and last archived segment of the cluster, or nullopt when there is none.
  struct Range {
    std::string min;
    std::string max;
  };
  std::optional<Range> segmentRange(const StanzaIdentity& cluster);
  // Segments missing between the first and the last archived segment of a timeline: WAL that
  // archive-push dropped (archive-push-queue-max) or that was lost. Recovery cannot cross a gap.
  struct Gap {
    std::string first;  // the first missing segment
    std::string last;   // the last missing segment
    uint64_t segments = 0;
  };
  // The gaps of every timeline of the cluster, oldest first, at most maxGaps of them.
  std::vector<Gap> gaps(const StanzaIdentity& cluster, size_t maxGaps);
  // What info reports about the archive: null when it holds no segment, else
  // {"min", "max", "gaps": [{"first", "last", "segments"}…]} (at most kMaxReportedGaps gaps).
  nlohmann::json summary(const StanzaIdentity& cluster);
  static constexpr size_t kMaxReportedGaps = 100;
  // Names of the segments from first to last (one timeline) that are not archived, in order.
  std::vector<std::string> missingSegments(const StanzaIdentity& cluster, const pg::WalSegment& first,
                                           const pg::WalSegment& last);
  // The plaintext size of a stored file, from its record headers (without decrypting).
  uint64_t plainSize(const StoredWal& stored);

  // Starts a push of `name` (plaintext of `size` bytes with this tag). Throws ArchiveMismatch at
  // once when another version of the file is archived.
  std::unique_ptr<WalPush> beginPush(const StanzaIdentity& cluster, std::string name, uint64_t size, std::string tag);

 private:
  friend class WalPush;
  std::string directory(const StanzaIdentity& cluster) const;
  std::vector<StoredWal> listDirectory(const std::string& dir);
  std::mutex& nameLock(const StanzaIdentity& cluster, std::string_view name);
  [[noreturn]] void mismatch(const StanzaIdentity& cluster, const StoredWal& stored, std::string_view tag) const;

  Storage& storage_;
  std::shared_ptr<const Keyring> keys_;
  std::array<std::mutex, 64> nameLocks_;  // striped by stanza and file name
};

// One upload of a WAL file: write() the record stream as it arrives (it is verified and
// streamed to a temporary object), then finish(). Destroying it unfinished stores nothing.
class WalPush {
 public:
  enum class Result { Stored, Duplicate };

  WalPush(WalArchive& archive, const StanzaIdentity& cluster, std::string name, uint64_t size, std::string tag);
  ~WalPush();

  void write(std::span<const uint8_t> bytes);
  // Completes the checks (size, tag, segment header), then stores the object durably; Duplicate
  // when the identical file was already archived. Throws Corrupt, Format, PgMismatch or
  // ArchiveMismatch, storing nothing.
  Result finish();

 private:
  void onPlaintext(std::span<const uint8_t> plaintext);

  WalArchive& archive_;
  StanzaIdentity cluster_;
  std::string name_;
  uint64_t size_;
  std::string tag_;
  pg::WalFileKind kind_;
  RecordVerifier verifier_;
  HmacSha256 mac_;
  uint64_t received_ = 0;
  std::vector<uint8_t> headerBytes_;
  bool headerChecked_ = false;
  std::unique_ptr<StorageWriter> writer_;  // null when the identical file is already stored
};

}  // namespace pgbr::repo
