// A storage wrapper that injects write failures, for tests of failure paths: fail the Nth write
// call, fail once a byte budget is spent (a disk filling up mid-write), or fail the Nth
// finish() (a failing fsync). Failures are thrown as the real driver would throw them
// (Error(FileWrite) from errno, ENOSPC by default) and the inner write is never finished, so
// nothing partial becomes visible. Everything else passes straight through to the inner storage.
// Thread-safe: the counters are atomic; the wrapped storage must outlive the wrapper.
#pragma once

#include "common/storage/storage.h"

#include <atomic>
#include <cerrno>
#include <limits>

namespace pgbr {

struct FaultPlan {
  // 1-based number of the write() call (counted over all writers, a whole-object write counting
  // as one) that fails; 0 disables.
  uint64_t failWriteCall = 0;
  // Total bytes that may be written through this wrapper; the write that would exceed it writes
  // what fits and then fails.
  uint64_t byteBudget = std::numeric_limits<uint64_t>::max();
  // 1-based number of the finish() call that fails (before anything is published); 0 disables.
  uint64_t failFinishCall = 0;
  int error = ENOSPC;
};

class FaultStorage final : public Storage {
public:
  FaultStorage(Storage& inner, FaultPlan plan) : inner_(inner), plan_(plan) {}

  // Counts so far, for assertions.
  uint64_t writeCalls() const { return writeCalls_; }
  uint64_t bytesWritten() const { return bytesWritten_; }
  uint64_t finishCalls() const { return finishCalls_; }

  std::string describe(std::string_view path) const override { return inner_.describe(path); }
  std::vector<uint8_t> read(std::string_view path) override { return inner_.read(path); }
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override {
    return inner_.openRead(path, offset, length);
  }
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override {
    return inner_.list(directory, recursive);
  }
  bool exists(std::string_view path) override { return inner_.exists(path); }
  std::optional<ObjectInfo> info(std::string_view path) override { return inner_.info(path); }
  bool remove(std::string_view path) override { return inner_.remove(path); }
  void removeTree(std::string_view path) override { inner_.removeTree(path); }
  void createDirectory(std::string_view path) override { inner_.createDirectory(path); }

  // Called by this wrapper's writers: how many of size bytes may pass, and whether to fail after.
  struct Admission {
    size_t allowed;
    bool fail;
  };
  Admission admitWrite(size_t size);
  bool admitFinish();
  int error() const { return plan_.error; }

private:
  Storage& inner_;
  FaultPlan plan_;
  std::atomic<uint64_t> writeCalls_{0};
  std::atomic<uint64_t> bytesWritten_{0};
  std::atomic<uint64_t> finishCalls_{0};
};

}  // namespace pgbr
