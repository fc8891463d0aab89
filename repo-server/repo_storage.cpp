#include "repo-server/repo_storage.h"

#include "common/error.h"
#include "common/log.h"
#include "common/objectstore/cached_storage.h"
#include "common/storage/posix_storage.h"
#include "repo-server/repository.h"

#include <filesystem>

namespace pgbr::repo {
namespace {

using namespace pgbr::objectstore;

constexpr std::string_view kForwardDir = "forward";
constexpr std::string_view kServerLock = "pgbr-server.lock";

objectstore::HttpSettings httpSettings(const Config& config, unsigned i, bool verifyTls) {
  objectstore::HttpSettings http;
  http.verifyTls = verifyTls;
  if (config.has("repo-storage-ca-file", i)) http.caFile = config.str("repo-storage-ca-file", i);
  http.stallTimeout = config.duration("io-timeout");
  return http;
}

objectstore::ObjectStoreTuning tuning(const Config& config, unsigned i) {
  objectstore::ObjectStoreTuning tuning;
  tuning.partSize = config.bytes("repo-storage-upload-chunk-size", i);
  return tuning;
}

RepoLocation location(const Config& config, unsigned i) {
  RepoLocation repo;
  repo.index = i;
  repo.type = std::string(config.choice("repo-type", i));
  repo.path = config.str("repo-path", i);
  if (repo.type == "s3") {
    S3Settings s3;
    s3.bucket = config.str("repo-s3-bucket", i);
    s3.endpoint = parseEndpoint(config.str("repo-s3-endpoint", i), config.describe("repo-s3-endpoint", i));
    s3.region = config.str("repo-s3-region", i);
    s3.uriStyle = config.choice("repo-s3-uri-style", i) == "path" ? UriStyle::Path : UriStyle::Host;
    s3.credentials.accessKey = config.str("repo-s3-key", i);
    s3.credentials.secretKey = config.str("repo-s3-key-secret", i);
    if (config.has("repo-s3-token", i)) s3.credentials.sessionToken = config.str("repo-s3-token", i);
    s3.prefix = repo.path;
    s3.http = httpSettings(config, i, config.flag("repo-s3-verify-tls", i));
    s3.tuning = tuning(config, i);
    repo.s3 = std::move(s3);
  } else if (repo.type == "azure") {
    AzureSettings azure;
    azure.account = config.str("repo-azure-account", i);
    azure.container = config.str("repo-azure-container", i);
    azure.endpoint = parseEndpoint(config.str("repo-azure-endpoint", i), config.describe("repo-azure-endpoint", i));
    azure.uriStyle = config.choice("repo-azure-uri-style", i) == "path" ? UriStyle::Path : UriStyle::Host;
    azure.keyType = config.choice("repo-azure-key-type", i) == "sas" ? AzureKeyType::Sas : AzureKeyType::Shared;
    azure.key = config.str("repo-azure-key", i);
    azure.prefix = repo.path;
    azure.http = httpSettings(config, i, config.flag("repo-azure-verify-tls", i));
    azure.tuning = tuning(config, i);
    repo.azure = std::move(azure);
  }
  return repo;
}

}  // namespace

std::string RepoStorageSettings::localPath() const {
  return repos.front().type == "posix" ? repos.front().path : serverPath;
}

RepoStorageSettings repoStorageSettings(const Config& config) {
  RepoStorageSettings settings;
  settings.serverPath = config.str("server-path");
  for (unsigned i : config.indexes("repo")) settings.repos.push_back(location(config, i));
  if (settings.repos.empty() || settings.repos.front().index != 1)
    fail(ErrorCode::OptionRequired, "the server's repository is repo1: set repo1-path (and repo1-type)");
  for (size_t a = 0; a < settings.repos.size(); ++a)
    for (size_t b = a + 1; b < settings.repos.size(); ++b) {
      const auto& x = settings.repos[a];
      const auto& y = settings.repos[b];
      if (x.type == "posix" && y.type == "posix" && std::filesystem::path(x.path) == std::filesystem::path(y.path))
        fail(ErrorCode::OptionInvalidValue, "{} and {} are the same directory: a forwarding target must be elsewhere",
             config.describe("repo-path", x.index), config.describe("repo-path", y.index));
    }
  if (settings.repos.front().type != "posix" && settings.repos.size() > 1)
    for (const auto& repo : settings.repos)
      if (repo.type == "posix" && std::filesystem::path(repo.path) == std::filesystem::path(settings.serverPath))
        fail(ErrorCode::OptionInvalidValue, "{} is server-path, the server's own directory", config.describe("repo-path", repo.index));
  settings.forwarding.excluded = {std::string(kLockFile), std::string(kForwardDir), std::string(kServerLock)};
  return settings;
}

std::unique_ptr<Storage> RepoStorage::open(const RepoLocation& location) {
  if (location.s3) return std::make_unique<S3Storage>(*location.s3);
  if (location.azure) return std::make_unique<AzureStorage>(*location.azure);
  return std::make_unique<PosixStorage>(location.path);
}

RepoStorage::RepoStorage(const RepoStorageSettings& settings) {
  const RepoLocation& first = settings.repos.front();
  std::string local = settings.localPath();
  std::error_code ec;
  std::filesystem::create_directories(local, ec);
  if (ec) failErrno(ErrorCode::FileOpen, "cannot create directory", local, ec.value());
  std::string lockPath = local + "/" + std::string(first.type == "posix" ? kLockFile : kServerLock);
  lock_.emplace(lockPath, fmt::format("repository '{}' is in use by another pgbr-repo server (it holds the lock on "
                                      "'{}'): stop that server or set another {}",
                                      first.type == "posix" ? local : first.path, lockPath,
                                      first.type == "posix" ? "repo1-path" : "server-path"));
  if (size_t removed = removeTemporaryFiles(local))
    logInfo("removed {} temporary file(s) left in '{}' by an interrupted write", removed, local);

  owned_.push_back(open(first));
  top_ = owned_.back().get();
  if (first.type != "posix") {
    // Index segments are read in many small ranges: keep a local copy of each.
    owned_.push_back(std::make_unique<PosixStorage>(local + "/cache"));
    Storage& cache = *owned_.back();
    owned_.push_back(std::make_unique<CachedStorage>(*top_, cache, std::vector<std::string>{"index"}));
    top_ = owned_.back().get();
  }
  std::vector<ForwardTarget> targets;
  for (size_t i = 1; i < settings.repos.size(); ++i) {
    owned_.push_back(open(settings.repos[i]));
    targets.push_back(ForwardTarget{settings.repos[i].name(), owned_.back().get()});
  }
  if (targets.empty()) return;
  recoverIfLost(targets);
  forwarding_ = std::make_unique<ForwardingStorage>(*top_, targets, local + "/" + std::string(kForwardDir),
                                                    settings.forwarding);
  top_ = forwarding_.get();
}

RepoStorage::~RepoStorage() = default;

void RepoStorage::start() {
  if (forwarding_) forwarding_->start();
}

nlohmann::json RepoStorage::status() const {
  return forwarding_ ? forwarding_->status() : nlohmann::json::array();
}

void RepoStorage::recoverIfLost(const std::vector<ForwardTarget>& targets) {
  Storage& primary = *top_;
  if (primary.exists(kRepositoryFile)) return;
  for (const auto& target : targets) {
    Storage& from = *target.storage;
    if (!from.exists(kRepositoryFile)) continue;
    logWarn("{} holds no repository but {} ({}) does: recovering the repository's metadata from it; packs are read "
            "from it when needed",
            primary.describe(""), target.name, from.describe(""));
    auto entries = from.list("", true);
    std::stable_sort(entries.begin(), entries.end(),
                     [](const ListEntry& a, const ListEntry& b) { return forwardRank(a.path) < forwardRank(b.path); });
    size_t copied = 0;
    for (const auto& entry : entries) {
      // The repository file last: a recovery cut short starts again at the next start.
      if (entry.path.starts_with("packs/") || entry.path == kRepositoryFile) continue;
      primary.write(entry.path, from.read(entry.path), WriteMode::IfAbsent);
      ++copied;
    }
    primary.write(kRepositoryFile, from.read(kRepositoryFile), WriteMode::IfAbsent);
    logInfo("recovered {} object(s) from {}", copied + 1, target.name);
    return;
  }
}

}  // namespace pgbr::repo
