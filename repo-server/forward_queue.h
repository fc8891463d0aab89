// The persistent queue of one forwarding target (repo2, repo3, …): what the server still has
// to copy there (or remove there), in the order it happened, kept as one small file per entry
// under <local>/forward/repo<n>/ so that it survives restarts and crashes. An entry is durable
// before push() returns and gone only after pop(); entries are applied in sequence order, which
// is the order of the primary's writes (packs before the index naming them before manifests).
//
// Threading: every member is safe from many threads; one consumer (the target's forwarder)
// calls front() and pop(). Memory: one small record per pending entry.
#pragma once

#include "common/storage/posix_storage.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace pgbr::repo {

struct ForwardEntry {
  enum class Op { Put, Remove, RemoveTree };
  uint64_t seq = 0;
  Op op = Op::Put;
  std::string path;
  uint64_t size = 0;  // of the object when queued (Put), for the pending byte count
  std::chrono::system_clock::time_point queued;
};

struct ForwardQueueStats {
  uint64_t pending = 0;
  uint64_t pendingBytes = 0;
  std::optional<std::chrono::system_clock::time_point> oldest;  // when the oldest pending entry was queued
};

class ForwardQueue {
 public:
  // Opens (creating) the queue directory and loads what a previous run left. Throws Corrupt for
  // an entry that cannot be read, naming it.
  explicit ForwardQueue(const std::string& directory);

  void push(ForwardEntry::Op op, const std::string& path, uint64_t size);
  // The oldest entry, waiting up to timeout for one; nullopt when there is none.
  std::optional<ForwardEntry> front(std::chrono::milliseconds timeout);
  // Removes the entry (durably) once it has been applied.
  void pop(uint64_t seq);
  // Wakes a front() that is waiting (for shutdown).
  void wake();
  bool contains(const std::string& path) const;
  ForwardQueueStats stats() const;
  const std::string& directory() const { return directory_; }

 private:
  static std::string fileName(uint64_t seq);

  std::string directory_;
  PosixStorage files_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<ForwardEntry> entries_;
  uint64_t nextSeq_ = 1;
  uint64_t wakes_ = 0;
};

}  // namespace pgbr::repo
