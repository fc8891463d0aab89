#include "common/objectstore/cached_storage.h"

#include "common/error.h"
#include "common/log.h"
#include "common/storage/path.h"

namespace pgbr::objectstore {

CachedStorage::CachedStorage(Storage& remote, Storage& cache, std::vector<std::string> cachedDirectories)
    : remote_(remote), cache_(cache), directories_(std::move(cachedDirectories)) {}

bool CachedStorage::cached(std::string_view path) const {
  for (const auto& directory : directories_)
    if (path.size() > directory.size() && path.starts_with(directory) && path[directory.size()] == '/') return true;
  return false;
}

std::unique_ptr<StorageReader> CachedStorage::openRead(std::string_view path, uint64_t offset,
                                                       std::optional<uint64_t> length) {
  validatePath(path);
  if (!cached(path)) return remote_.openRead(path, offset, length);
  try {
    return cache_.openRead(path, offset, length);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::FileMissing) throw;
  }
  // Not cached yet: fetch it whole (FileMissing from the remote goes to the caller).
  auto bytes = remote_.read(path);
  cache_.write(path, bytes, WriteMode::Replace);
  return cache_.openRead(path, offset, length);
}

WriteResult CachedStorage::write(std::string_view path, std::span<const uint8_t> data, WriteMode mode) {
  WriteResult result = remote_.write(path, data, mode);
  if (cached(path) && result == WriteResult::Written) cache_.write(path, data, WriteMode::Replace);
  return result;
}

std::unique_ptr<StorageWriter> CachedStorage::openWrite(std::string_view path, WriteMode mode) {
  // Streamed objects (manifests, WAL) are never under a cached directory; a cached object is
  // filled on its first read.
  return remote_.openWrite(path, mode);
}

bool CachedStorage::remove(std::string_view path) {
  bool removed = remote_.remove(path);
  if (cached(path)) cache_.remove(path);
  return removed;
}

void CachedStorage::removeTree(std::string_view path) {
  remote_.removeTree(path);
  cache_.removeTree(path);
}

}  // namespace pgbr::objectstore
