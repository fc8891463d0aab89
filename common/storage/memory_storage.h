// The in-memory storage driver, for unit tests and for code that wants a scratch repository
// without a disk. Objects live in a sorted map; directories exist implicitly (as prefixes of
// object paths, like an object store) or explicitly after createDirectory(). Writes become
// visible atomically at finish(). Thread-safe: one mutex guards the map; readers work on a
// snapshot of the object taken when they were opened.
#pragma once

#include "common/storage/storage.h"

#include <map>
#include <mutex>
#include <set>

namespace pgbr {

class MemoryStorage final : public Storage {
public:
  MemoryStorage() = default;

  std::string describe(std::string_view path) const override;
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override;
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override;
  bool exists(std::string_view path) override;
  std::optional<ObjectInfo> info(std::string_view path) override;
  bool remove(std::string_view path) override;
  void removeTree(std::string_view path) override;
  void createDirectory(std::string_view path) override;

  // Publishes an object (called by this driver's writers at finish()).
  WriteResult publish(const std::string& path, std::vector<uint8_t> data, WriteMode mode);

private:
  struct Object {
    std::shared_ptr<const std::vector<uint8_t>> data;
    std::chrono::system_clock::time_point mtime;
  };

  std::mutex mutex_;
  std::map<std::string, Object, std::less<>> objects_;
  std::set<std::string, std::less<>> directories_;
};

}  // namespace pgbr
