// The backup locks of the server: one backup per stanza at a time. A lock lives in memory (the
// server is the repository's only writer, and a crash ends every backup it was running) and is
// held by the `backup` channel's handler through a Guard, so it is released however the backup
// ends: commit, error, cancellation or a client that disconnects.
//
// Threading: BackupLocks is thread-safe; a Guard belongs to its handler. BackupLocks must
// outlive every Guard.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace pgbr::repo {

class BackupLocks {
 public:
  // What is known about a backup in progress.
  struct Active {
    std::string stanza;
    std::string holder;  // "client certificate CN 'db1' (client 10.0.0.5:40112)"
    std::time_t since = 0;
    std::string label;                     // set once the backup is planned; guarded by the locks' mutex
    std::atomic<uint64_t> bytesStored{0};  // chunk bytes this stanza stored while the backup ran
  };

  class Guard {
   public:
    Guard(BackupLocks& locks, std::shared_ptr<Active> active) : locks_(&locks), active_(std::move(active)) {}
    Guard(Guard&& other) noexcept : locks_(other.locks_), active_(std::move(other.active_)) {}
    Guard& operator=(Guard&&) = delete;
    ~Guard();
    Active& active() const { return *active_; }
    void setLabel(std::string label);

   private:
    BackupLocks* locks_;
    std::shared_ptr<Active> active_;
  };

  // Takes the stanza's lock; Error(BackupInProgress) naming the running backup and its holder
  // when it is taken.
  Guard acquire(std::string_view stanza, std::string holder);
  // Adds chunk bytes stored for the stanza to its running backup, if any.
  void addStored(std::string_view stanza, uint64_t bytes);
  bool held(std::string_view stanza) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Active>, std::less<>> active_;
};

}  // namespace pgbr::repo
