// A remote Storage with a local read cache for immutable objects under chosen directories
// (the server keeps index segments of an object-store repository this way, because lookups
// read them in many small ranges). An object under a cached directory is read from the local
// copy, which is fetched whole from the remote on first use; writes go to the remote first and
// then to the cache; removals remove both. Everything else passes straight to the remote.
//
// Correct only for objects that are never replaced in place, which is what pgbr's
// content-addressed names guarantee: a cached copy can never be stale.
// Threading: as thread-safe as both storages (posix and object stores are). Lifetime: both
// storages must outlive this one and every reader or writer it returned.
#pragma once

#include "common/storage/storage.h"

#include <string>
#include <vector>

namespace pgbr::objectstore {

class CachedStorage final : public Storage {
 public:
  // cachedDirectories: top-level directories ("index") whose objects are cached.
  CachedStorage(Storage& remote, Storage& cache, std::vector<std::string> cachedDirectories);

  std::string describe(std::string_view path) const override { return remote_.describe(path); }
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override;
  WriteResult write(std::string_view path, std::span<const uint8_t> data, WriteMode mode = WriteMode::Replace) override;
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override {
    return remote_.list(directory, recursive);
  }
  bool exists(std::string_view path) override { return remote_.exists(path); }
  std::optional<ObjectInfo> info(std::string_view path) override { return remote_.info(path); }
  bool remove(std::string_view path) override;
  void removeTree(std::string_view path) override;
  void createDirectory(std::string_view path) override { remote_.createDirectory(path); }

 private:
  bool cached(std::string_view path) const;

  Storage& remote_;
  Storage& cache_;
  std::vector<std::string> directories_;
};

}  // namespace pgbr::objectstore
