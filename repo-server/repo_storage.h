// Where the server keeps its repository: repo1 (posix, S3 or Azure) and the further
// repositories it forwards to (repo2…repo4), built from the repo<n>-* options. RepoStorage owns
// the whole stack — the lock that keeps a second server away, the drivers, the local cache of
// index segments when repo1 is an object store, and the ForwardingStorage with its queues —
// and hands the Repository one Storage. docs/object-stores.md describes the layout.
//
// When repo1 holds no repository but a forwarding target does (the server's disk was lost or
// replaced), opening first recovers: every object but the packs is copied back from the first
// target that has a repository, the repository file last; packs are then read from the target
// on demand.
//
// Threading: storage() is thread-safe (every layer is); construct and destroy on one thread.
// Lifetime: the Repository opened on storage() must be destroyed before the RepoStorage.
#pragma once

#include "common/config/config.h"
#include "common/objectstore/azure_storage.h"
#include "common/objectstore/s3_storage.h"
#include "repo-server/forwarding_storage.h"
#include "repo-server/lock_file.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::repo {

struct RepoLocation {
  unsigned index = 1;          // the n of repo<n>
  std::string type = "posix";  // posix, s3, azure
  std::string path;            // posix: the directory; object stores: the prefix
  std::optional<objectstore::S3Settings> s3;
  std::optional<objectstore::AzureSettings> azure;

  std::string name() const { return "repo" + std::to_string(index); }
};

struct RepoStorageSettings {
  std::vector<RepoLocation> repos;  // repo1 first
  std::string serverPath;           // the local directory when repo1 is an object store
  ForwardingOptions forwarding;

  // Where the lock, the queues and spooled entries live: repo1-path for posix, else serverPath.
  std::string localPath() const;
};

// Reads repo<n>-type and the options of each configured repository. Throws OptionInvalidValue
// (naming the option) for a value the server cannot use, such as two repositories in one place.
RepoStorageSettings repoStorageSettings(const Config& config);

class RepoStorage {
 public:
  explicit RepoStorage(const RepoStorageSettings& settings);
  ~RepoStorage();
  RepoStorage(const RepoStorage&) = delete;
  RepoStorage& operator=(const RepoStorage&) = delete;

  Storage& storage() { return *top_; }
  // Starts forwarding (call once the repository is open).
  void start();
  // Each forwarding target's state (ForwardingStorage::status()); empty without targets.
  nlohmann::json status() const;
  ForwardingStorage* forwarding() { return forwarding_.get(); }
  // "/var/lib/pgbr" or "s3://bucket/prefix/": how logs name the repository.
  std::string describe() const { return top_->describe(""); }

 private:
  std::unique_ptr<Storage> open(const RepoLocation& location);
  void recoverIfLost(const std::vector<ForwardTarget>& targets);

  std::optional<LockFile> lock_;
  std::vector<std::unique_ptr<Storage>> owned_;
  Storage* top_ = nullptr;
  std::unique_ptr<ForwardingStorage> forwarding_;
};

}  // namespace pgbr::repo
