#include "repo-server/repository.h"

#include "common/error.h"
#include "common/log.h"
#include "common/storage/posix_storage.h"
#include "common/text.h"
#include "repo-server/json_object.h"

#include <fmt/format.h>

#include <array>
#include <filesystem>

namespace pgbr::repo {
namespace {

constexpr std::string_view kKeysDir = "keys";

std::string keyPath(uint32_t n) { return fmt::format("{}/key-{}.json", kKeysDir, n); }

// The number of the newest key file (keys/key-<n>.json), or 0 when there is none.
uint32_t newestKeyFile(Storage& storage) {
  uint32_t newest = 0;
  for (const auto& entry : storage.list(kKeysDir)) {
    std::string_view name = entry.path;
    if (entry.directory || !name.starts_with("key-") || !name.ends_with(".json")) continue;
    std::string digits(name.substr(4, name.size() - 9));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    newest = std::max<uint32_t>(newest, static_cast<uint32_t>(std::stoul(digits)));
  }
  return newest;
}

RepositoryInfo parseInfo(const nlohmann::json& json, const std::string& what) {
  RepositoryInfo info;
  info.format = static_cast<int>(jsonField<int64_t>(json, "format", what));
  if (info.format > kRepositoryFormat)
    fail(ErrorCode::RepoVersion,
         "{} has format {}, newer than this pgbr-repo understands ({}): upgrade pgbr before serving this repository",
         what, info.format, kRepositoryFormat);
  if (info.format < 1) fail(ErrorCode::Corrupt, "{} has format {}, which no pgbr writes", what, info.format);
  info.id = jsonField<std::string>(json, "id", what);
  info.created = json.value("created", "");
  info.chunkSize = jsonField<uint32_t>(json, "chunkSize", what);
  auto cipher = parseCipher(jsonField<std::string>(json, "cipher", what));
  if (!cipher) fail(ErrorCode::Corrupt, "{} names an unknown cipher", what);
  info.cipher = *cipher;
  PipelineSpec check;
  check.chunkSize = info.chunkSize;
  try {
    check.validate();
  } catch (const Error& error) {
    fail(ErrorCode::Corrupt, "{}: {}", what, error.what());
  }
  return info;
}

// How the repository seals new data: its chunk size and cipher, zstd at the default level.
PipelineSpec pipelineOf(const RepositoryInfo& info) {
  PipelineSpec spec;
  spec.chunkSize = info.chunkSize;
  spec.cipher = info.cipher;
  return spec;
}

}  // namespace

// What opening found or created, before the parts are built on it.
struct Repository::Opened {
  RepositoryInfo info;
  MasterKey master;
};

Repository::Opened Repository::openOrCreate(Storage& storage, const RepositoryOptions& options) {
  std::string what = storage.describe(kRepositoryFile);
  std::optional<std::string_view> passphrase;
  if (options.passphrase) passphrase = *options.passphrase;
  if (options.cipher == Cipher::Aes256Gcm && (!passphrase || passphrase->empty()))
    fail(ErrorCode::OptionRequired,
         "repo1-cipher-type is aes-256-gcm: set repo1-cipher-pass to the repository's passphrase");
  if (options.cipher == Cipher::None) passphrase.reset();

  Opened opened;
  auto json = readJsonObject(storage, kRepositoryFile);
  if (json) {
    opened.info = parseInfo(*json, what);
    if (opened.info.cipher != options.cipher)
      fail(ErrorCode::OptionInvalidValue,
           "repo1-cipher-type is {}, but the repository {} was created with cipher {}: set repo1-cipher-type={}{}",
           cipherName(options.cipher), storage.describe(""), cipherName(opened.info.cipher),
           cipherName(opened.info.cipher),
           opened.info.cipher == Cipher::Aes256Gcm ? " and repo1-cipher-pass" : " and remove repo1-cipher-pass");
  } else {
    // A new repository, unless something else lives here.
    for (const auto& entry : storage.list(""))
      if (entry.path != kKeysDir && entry.path != kLockFile)
        fail(ErrorCode::Corrupt,
             "{} holds '{}' but no {}: it is not a pgbr repository (or its identity file was lost); point repo1-path "
             "at an empty directory or at a repository",
             storage.describe(""), entry.path, kRepositoryFile);
    std::array<uint8_t, 16> id{};
    randomBytes(id);
    opened.info.id = toHex(id);
    opened.info.created = utcTimestampNow();
    opened.info.chunkSize = options.chunkSize;
    opened.info.cipher = options.cipher;
  }

  uint32_t keyFile = newestKeyFile(storage);
  if (keyFile == 0) {
    if (json) fail(ErrorCode::Corrupt, "repository {} has no key file under {}/", storage.describe(""), kKeysDir);
    // The key file first, then the identity: a repository exists once both do.
    opened.master = MasterKey{SecretKey::random(), 1, options.cipher == Cipher::Aes256Gcm};
    storage.write(keyPath(1), makeKeyFile(opened.master, passphrase, options.kdf), WriteMode::IfAbsent);
    keyFile = 1;
  }
  std::string keyWhat = storage.describe(keyPath(keyFile));
  opened.master = openKeyFile(storage.read(keyPath(keyFile)), passphrase, keyWhat);
  if (opened.master.encrypted != (options.cipher == Cipher::Aes256Gcm))
    fail(ErrorCode::Corrupt, "key file {} is {} but the repository's cipher is {}", keyWhat,
         opened.master.encrypted ? "encrypted" : "not encrypted", cipherName(options.cipher));
  if (!json) {
    nlohmann::json identity{{"format", kRepositoryFormat},
                            {"id", opened.info.id},
                            {"created", opened.info.created},
                            {"chunkSize", opened.info.chunkSize},
                            {"cipher", cipherName(opened.info.cipher)}};
    if (storage.write(kRepositoryFile, jsonBytes(identity), WriteMode::IfAbsent) == WriteResult::AlreadyExists)
      fail(ErrorCode::Internal, "{} appeared while the repository was being created", what);
    logInfo("created repository {} (id {}, cipher {})", storage.describe(""), opened.info.id,
            cipherName(opened.info.cipher));
  }
  return opened;
}

Repository::Repository(Storage& storage, RepositoryOptions options)
    : Repository(nullptr, std::nullopt, storage, openOrCreate(storage, options), options) {}

Repository::Repository(std::unique_ptr<Storage> owned, std::optional<LockFile> lock, Storage& storage, Opened opened,
                       const RepositoryOptions& options)
    : lock_(std::move(lock)),
      owned_(std::move(owned)),
      storage_(storage),
      info_(opened.info),
      keys_(std::make_shared<const Keyring>(opened.master.key, opened.master.currentKeyId)),
      pipeline_(pipelineOf(info_)),
      chunks_(std::make_unique<ChunkStore>(storage_, options.chunkStore)),
      decoders_(keys_),
      patcher_(*chunks_, keys_, pipeline_),
      stanzas_(storage_),
      wal_(storage_, keys_),
      manifests_(storage_, keys_, pipeline_) {}

std::unique_ptr<Repository> Repository::openPosix(const std::string& path, RepositoryOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) failErrno(ErrorCode::FileOpen, "cannot create repository directory", path, ec.value());
  std::string lockPath = path + "/" + std::string(kLockFile);
  LockFile lock(lockPath, fmt::format("repository '{}' is in use by another pgbr-repo server (it holds the lock on "
                                      "'{}'): stop that server or set another repo1-path",
                                      path, lockPath));
  if (size_t removed = removeTemporaryFiles(path))
    logInfo("removed {} temporary file(s) left in repository '{}' by an interrupted write", removed, path);
  auto storage = std::make_unique<PosixStorage>(path);
  Storage& ref = *storage;
  Opened opened = openOrCreate(ref, options);
  return std::unique_ptr<Repository>(
      new Repository(std::move(storage), std::move(lock), ref, std::move(opened), options));
}

Repository::~Repository() = default;

size_t removeTemporaryFiles(const std::string& root) {
  size_t removed = 0;
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::skip_permission_denied,
                                                   ec);
  if (ec) failErrno(ErrorCode::FileRead, "cannot list repository", root, ec.value());
  for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) failErrno(ErrorCode::FileRead, "cannot list repository", root, ec.value());
    if (!it->is_regular_file(ec) || !PosixStorage::isTemporaryName(it->path().filename().string())) continue;
    if (!std::filesystem::remove(it->path(), ec) && ec)
      failErrno(ErrorCode::FileWrite, "cannot remove temporary file", it->path().string(), ec.value());
    ++removed;
  }
  return removed;
}

}  // namespace pgbr::repo
