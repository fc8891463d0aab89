// The posix storage driver: objects are regular files under a root directory. A write goes to a
// temporary file in the target's directory (".<name>.pgbr-tmp.<random>", never listed), is
// fsynced, renamed into place (renameat2 RENAME_NOREPLACE for IfAbsent, link+unlink where the
// filesystem lacks it) and the directory is fsynced, so an object is visible only once durable.
// Thread-safe: holds only the root path.
#pragma once

#include "common/storage/storage.h"

#include <string>

namespace pgbr {

class PosixStorage final : public Storage {
public:
  // The root need not exist yet: writes and createDirectory() create it.
  explicit PosixStorage(std::string root);

  const std::string& root() const { return root_; }
  std::string describe(std::string_view path) const override;

  std::vector<uint8_t> read(std::string_view path) override;
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override;
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override;
  bool exists(std::string_view path) override;
  std::optional<ObjectInfo> info(std::string_view path) override;
  bool remove(std::string_view path) override;
  void removeTree(std::string_view path) override;
  void createDirectory(std::string_view path) override;

  // True for names of the driver's temporary files (left behind only by a crash; safe to delete
  // when no write is in flight).
  static bool isTemporaryName(std::string_view name);

private:
  std::string root_;
};

}  // namespace pgbr
