// The committed backups of each stanza (docs/repository-format.md "Manifests"): one manifest
// per backup, stanzas/<stanza>/backups/<label>.manifest, a record stream under the metadata
// key whose plaintext is the manifest's JSON Lines. Writing a manifest is the commit of a
// backup: it becomes visible only once durable, and a label is never written twice.
//
// Threading: thread-safe (it holds no state but the storage and keys, which must outlive it).
// A reader it returns belongs to one thread.
#pragma once

#include "common/filter/keys.h"
#include "common/filter/pipeline.h"
#include "common/manifest/manifest.h"
#include "common/storage/storage.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::repo {

inline constexpr std::string_view kManifestSuffix = ".manifest";

class ManifestStore {
 public:
  // spec gives the record size and compression of written manifests.
  ManifestStore(Storage& storage, std::shared_ptr<const Keyring> keys, PipelineSpec spec)
      : storage_(storage), keys_(std::move(keys)), spec_(spec) {}

  static std::string path(std::string_view stanza, std::string_view label);

  // Labels of the stanza's committed backups, oldest first (labels sort in time order).
  std::vector<std::string> labels(std::string_view stanza);
  bool exists(std::string_view stanza, std::string_view label);
  // "latest" stands for the newest backup. Throws BackupMissing naming the stanza and label.
  std::string resolve(std::string_view stanza, std::string_view label);

  // The plaintext JSON Lines of a manifest, read as the caller pulls them. Throws BackupMissing.
  std::unique_ptr<ByteSource> open(std::string_view stanza, std::string_view label);
  // The header (the first record only is read). Throws BackupMissing, Corrupt.
  ManifestHeader readHeader(std::string_view stanza, std::string_view label);

  // Writes header, the entries `next` yields until nullopt, and the trailer, then makes the
  // manifest durable under header.label. Throws Internal when the label exists already; nothing
  // is visible when anything fails. Returns the stored size.
  uint64_t write(const ManifestHeader& header, const std::function<std::optional<ManifestEntry>()>& next);

 private:
  Storage& storage_;
  std::shared_ptr<const Keyring> keys_;
  PipelineSpec spec_;
};

}  // namespace pgbr::repo
