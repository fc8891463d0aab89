// The server's repository storage when further repositories are configured (repo2, repo3, …;
// DESIGN §8, docs/object-stores.md): a Storage that writes to the primary (repo1) and forwards
// every committed object to each target through that target's persistent ForwardQueue, applied
// in order by one forwarder thread per target, with retries and back-off; reads of an object the
// primary lacks fall back to the targets in order, so packs lost (or dropped) locally are read
// from repo2. Listings come from the primary, except packs/, whose listing merges the targets'
// (verify and restores see packs that only a target still holds).
//
// At start each forwarder compares the primary with its target and queues what the target
// lacks (a target added later catches up; a crash between a write and its queue entry is
// repaired), in dependency order: keys, packs, index segments, identities and WAL, the
// repository file, manifests. A forwarder never deletes what the primary did not delete.
//
// Threading: thread-safe. Lifetime: the primary and the targets must outlive this object; the
// destructor stops the forwarders (an upload in flight finishes or fails first).
#pragma once

#include "common/storage/storage.h"
#include "repo-server/forward_queue.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace pgbr::repo {

struct ForwardTarget {
  std::string name;  // "repo2"
  Storage* storage = nullptr;
};

struct ForwardingOptions {
  std::chrono::milliseconds firstRetryDelay{1000};
  std::chrono::milliseconds maxRetryDelay{60'000};
  // Paths of the primary that are not repository objects (its lock file, the queues).
  std::vector<std::string> excluded;
};

class ForwardingStorage final : public Storage {
 public:
  // queueRoot: the local directory under which each target's queue lives (<queueRoot>/<name>).
  ForwardingStorage(Storage& primary, std::vector<ForwardTarget> targets, const std::string& queueRoot,
                    ForwardingOptions options = {});
  ~ForwardingStorage() override;

  // Starts the forwarders (after the repository is open, so start-up reads see no traffic).
  void start();

  // Per target: name, where, pending objects and bytes, lag in seconds, objects forwarded,
  // the last error. For `info`.
  nlohmann::json status() const;
  // Blocks until every target's queue is empty or timeout passes; true when empty (tests, shutdown).
  bool waitIdle(std::chrono::milliseconds timeout) const;

  std::string describe(std::string_view path) const override { return primary_.describe(path); }
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override;
  WriteResult write(std::string_view path, std::span<const uint8_t> data, WriteMode mode = WriteMode::Replace) override;
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override;
  bool exists(std::string_view path) override;
  std::optional<ObjectInfo> info(std::string_view path) override;
  bool remove(std::string_view path) override;
  void removeTree(std::string_view path) override;
  void createDirectory(std::string_view path) override { primary_.createDirectory(path); }

  // Queues a written object for every target (the writers call it after finish()).
  void written(const std::string& path, uint64_t size);

 private:
  struct Target;
  void run(Target& target);
  void catchUp(Target& target);
  void apply(Target& target, const ForwardEntry& entry);
  bool excluded(std::string_view path) const;

  Storage& primary_;
  ForwardingOptions options_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::atomic<bool> stopping_{false};
};

// Dependency rank of a repository path: objects of a lower rank are forwarded first.
int forwardRank(std::string_view path);

}  // namespace pgbr::repo
