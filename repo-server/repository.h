// A pgbr repository as the server holds it open (docs/repository-format.md): its identity
// (pgbr-repository.json), its keys (keys/key-<n>.json unwrapped with the passphrase), and the
// parts that live in it — the chunk store, the stanzas, the WAL archive, the manifests — plus
// the in-memory backup locks. Opening creates an empty repository, refuses one written by a
// newer pgbr, and checks the configured cipher and passphrase against the stored key.
//
// Threading: every part is thread-safe; the Repository itself is immutable after opening.
// Lifetime: the Storage passed in must outlive the Repository; openPosix() owns its storage
// and holds the repository's lock file until the Repository is destroyed.
#pragma once

#include "common/filter/keys.h"
#include "common/filter/pipeline.h"
#include "common/storage/storage.h"
#include "repo-server/backup_lock.h"
#include "repo-server/chunk_patcher.h"
#include "repo-server/chunk_store.h"
#include "repo-server/decoder_pool.h"
#include "repo-server/lock_file.h"
#include "repo-server/manifest_store.h"
#include "repo-server/stanza.h"
#include "repo-server/wal_archive.h"

#include <memory>
#include <optional>
#include <string>

namespace pgbr::repo {

inline constexpr int kRepositoryFormat = 1;
inline constexpr std::string_view kRepositoryFile = "pgbr-repository.json";
inline constexpr std::string_view kLockFile = "pgbr-repository.lock";

struct RepositoryOptions {
  Cipher cipher = Cipher::None;                                    // repo1-cipher-type
  std::optional<std::string> passphrase;                           // repo1-cipher-pass; required for aes-256-gcm
  uint32_t chunkSize = kDefaultChunkSize;                          // for a new repository
  PassphraseKdfParams kdf = PassphraseKdfParams::scryptDefault();  // for a new key file
  ChunkStoreOptions chunkStore;
};

// What pgbr-repository.json says.
struct RepositoryInfo {
  int format = kRepositoryFormat;
  std::string id;       // 32 hex digits
  std::string created;  // UTC
  uint32_t chunkSize = kDefaultChunkSize;
  Cipher cipher = Cipher::None;
};

class Repository {
 public:
  // Opens (or, when storage holds nothing, creates) the repository in storage. Throws
  // RepoVersion for a newer format, OptionInvalidValue when options.cipher contradicts the
  // repository, Crypto for a missing or wrong passphrase, Corrupt for damaged metadata.
  Repository(Storage& storage, RepositoryOptions options);
  // The posix repository at path: takes its lock (a second server gets a clear error), removes
  // temporary files left by a crash, then opens it as above.
  static std::unique_ptr<Repository> openPosix(const std::string& path, RepositoryOptions options);
  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  Storage& storage() { return storage_; }
  const RepositoryInfo& info() const { return info_; }
  // Every key (the server's); hand agents only what repo.keys returns.
  const std::shared_ptr<const Keyring>& keys() const { return keys_; }
  // Chunk size, default compression and the cipher: how new data is sealed.
  const PipelineSpec& pipeline() const { return pipeline_; }

  ChunkStore& chunks() { return *chunks_; }
  ChunkDecoderPool& decoders() { return decoders_; }
  ChunkPatcher& patcher() { return patcher_; }
  StanzaStore& stanzas() { return stanzas_; }
  WalArchive& wal() { return wal_; }
  ManifestStore& manifests() { return manifests_; }
  BackupLocks& backupLocks() { return backupLocks_; }

 private:
  struct Opened;
  Repository(std::unique_ptr<Storage> owned, std::optional<LockFile> lock, Storage& storage, Opened opened,
             const RepositoryOptions& options);
  static Opened openOrCreate(Storage& storage, const RepositoryOptions& options);

  std::optional<LockFile> lock_;
  std::unique_ptr<Storage> owned_;
  Storage& storage_;
  RepositoryInfo info_;
  std::shared_ptr<const Keyring> keys_;
  PipelineSpec pipeline_;
  std::unique_ptr<ChunkStore> chunks_;
  ChunkDecoderPool decoders_;
  ChunkPatcher patcher_;
  StanzaStore stanzas_;
  WalArchive wal_;
  ManifestStore manifests_;
  BackupLocks backupLocks_;
};

// Removes the temporary files a crashed writer left under a posix repository root; returns how
// many. Call only when no write is in flight (under the repository's lock).
size_t removeTemporaryFiles(const std::string& root);

}  // namespace pgbr::repo
