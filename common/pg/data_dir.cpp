#include "common/pg/data_dir.h"

#include "common/error.h"
#include "common/pg/version.h"
#include "common/text.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>

namespace pgbr::pg {
namespace {

// Directories whose contents PostgreSQL removes, recreates or zeroes at start (basebackup.c's
// excludeDirContents); the directories are kept, empty, to keep their permissions.
constexpr std::array<std::string_view, 7> kEmptiedDirectories{
    "pg_dynshmem",   // dynamic shared memory segments, removed at start
    "pg_notify",     // LISTEN/NOTIFY queue, reset at start
    "pg_replslot",   // replication slots: not useful on a restored cluster (and they would hold WAL)
    "pg_serial",     // serializable transaction state, reset at start
    "pg_snapshots",  // exported snapshots, removed at start
    "pg_stat_tmp",   // temporary statistics (extensions such as pg_stat_statements write here)
    "pg_subtrans",   // subtransaction state, zeroed at start
};

// Files of the data directory's top level that never go into a backup.
constexpr std::array<std::string_view, 12> kExcludedTopFiles{
    "postmaster.pid",    // would make the restored cluster think a server is running
    "postmaster.opts",   // the options of the running server
    "backup_label",      // the backup's own label comes from pg_backup_stop
    "backup_label.old",  // left by an earlier recovery
    "tablespace_map",    // as backup_label
    "tablespace_map.old",
    "backup_manifest",  // belongs to the backup the cluster was restored from
    "backup_manifest.tmp",
    "recovery.signal",  // restore writes the signal files its --type asks for
    "standby.signal",
    "postgresql.auto.conf.tmp",  // ALTER SYSTEM's temporary file
    "current_logfiles.tmp",      // the logging collector's temporary file
};

constexpr std::string_view kTempPrefix = "pgsql_tmp";           // PG_TEMP_FILE_PREFIX / PG_TEMP_FILES_DIR
constexpr std::string_view kRelcacheInit = "pg_internal.init";  // RELCACHE_INIT_FILENAME (and its temp copies)

bool isOid(std::string_view text) {
  if (text.empty() || text.size() > 10 || text[0] == '0') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool startsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

PathDecision excluded(std::string_view reason) { return {Disposition::Exclude, FileClass::Other, {}, {}, reason}; }

}  // namespace

DataDirectoryRules::DataDirectoryRules(unsigned pgMajor, uint32_t catalogVersion)
    : tablespaceSubdirectory_(tablespaceVersionDirectory(pgMajor, catalogVersion)) {}

PathDecision DataDirectoryRules::decide(std::string_view relPath, EntryType type, bool initForkExists) const {
  std::vector<std::string> parts = split(relPath, '/');
  const std::string& name = parts.back();
  const size_t depth = parts.size() - 1;  // components above name
  auto parent = [&](size_t i) -> std::string_view { return parts[i]; };

  // Temporary files and directories, anywhere (PostgreSQL removes them at start).
  if (startsWith(name, kTempPrefix)) return excluded("temporary file");

  if (depth == 0) {
    if (type == EntryType::Directory && contains(kEmptiedDirectories, name))
      return {Disposition::IncludeEmpty, FileClass::Other, {}, {}, "contents recreated by PostgreSQL at start"};
    if (type != EntryType::Directory && contains(kExcludedTopFiles, name))
      return excluded("not part of a backup (server state, old label or signal file)");
    return {};
  }

  // WAL comes from the archive: pg_wal is kept with an empty archive_status, nothing else.
  if (parent(0) == "pg_wal") {
    if (depth == 1 && name == "archive_status" && type == EntryType::Directory)
      return {Disposition::IncludeEmpty, FileClass::Other, {}, {}, "WAL status comes from the archive"};
    return excluded("WAL comes from the archive");
  }

  // The relation cache init file is rebuilt at start; temp copies carry a ".<pid>" suffix.
  if (type != EntryType::Directory && startsWith(name, kRelcacheInit))
    return excluded("relation cache, rebuilt at start");

  bool databaseDirectory = false;
  if (parent(0) == "global" && depth == 1) {
    if (name == "pg_control" && type == EntryType::File) return {Disposition::Include, FileClass::Control};
    if (type == EntryType::File)
      if (auto relation = parseRelationFileName(name)) return {Disposition::Include, FileClass::Relation, relation};
    return {};
  }
  if (parent(0) == "base") databaseDirectory = depth == 2 && isOid(parent(1));
  if (parent(0) == "pg_tblspc") {
    if (depth == 1) {
      // Each entry is a tablespace: a link to its location, or a directory (in-place tablespace).
      if (isOid(name) && (type == EntryType::Symlink || type == EntryType::Directory)) {
        PathDecision decision;
        decision.tablespaceOid = static_cast<uint32_t>(std::stoul(name));
        return decision;
      }
      return {};
    }
    // A tablespace location may also hold other major versions' directories (pg_upgrade).
    if (depth == 2 && name != tablespaceSubdirectory_) return excluded("belongs to another PostgreSQL version");
    databaseDirectory = depth == 4 && parent(2) == tablespaceSubdirectory_ && isOid(parent(3));
  }
  if (!databaseDirectory || type != EntryType::File) return {};

  if (isTempRelationFileName(name)) return excluded("temporary relation");
  auto relation = parseRelationFileName(name);
  if (!relation) return {};
  // Unlogged relations are reset from their init fork at the end of recovery.
  if (relation->fork != Fork::Init && initForkExists) return excluded("unlogged relation (only its init fork is kept)");
  return {Disposition::Include, FileClass::Relation, relation};
}

std::vector<PathDecision> DataDirectoryRules::decideDirectory(std::string_view dirRelPath,
                                                              const std::vector<Entry>& entries) const {
  std::set<uint32_t> initForks;
  for (const auto& entry : entries)
    if (entry.type == EntryType::File)
      if (auto relation = parseRelationFileName(entry.name); relation && relation->fork == Fork::Init)
        initForks.insert(relation->relfilenode);
  std::vector<PathDecision> decisions;
  decisions.reserve(entries.size());
  for (const auto& entry : entries) {
    std::string path = dirRelPath.empty() ? entry.name : std::string(dirRelPath) + "/" + entry.name;
    bool initFork = false;
    if (auto relation = parseRelationFileName(entry.name)) initFork = initForks.count(relation->relfilenode) != 0;
    decisions.push_back(decide(path, entry.type, initFork));
  }
  return decisions;
}

namespace {

EntryType entryType(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::File;
  if (S_ISDIR(mode)) return EntryType::Directory;
  if (S_ISLNK(mode)) return EntryType::Symlink;
  return EntryType::Other;
}

class Dir {
 public:
  explicit Dir(DIR* dir) : dir_(dir) {}
  ~Dir() {
    if (dir_) ::closedir(dir_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

// Names in a directory, sorted; nullopt when the directory vanished.
std::optional<std::vector<std::string>> listDirectory(const std::string& path, bool mustExist) {
  Dir dir(::opendir(path.c_str()));
  if (!dir.get()) {
    int err = errno;
    if (err == ENOENT && !mustExist) return std::nullopt;
    if (err == ENOENT) fail(ErrorCode::FileMissing, "data directory '{}' does not exist: check pg1-path", path);
    failErrno(ErrorCode::FileOpen, "cannot open directory", path, err);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    dirent* entry = ::readdir(dir.get());
    if (!entry) {
      if (errno != 0) failErrno(ErrorCode::FileRead, "cannot read directory", path, errno);
      break;
    }
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Walker {
  const DataDirectoryRules& rules;
  const std::function<void(const DataDirEntry&)>& visit;

  // Walks the directory at fsPath whose path relative to the data directory is relPath.
  void walk(const std::string& fsPath, const std::string& relPath, bool mustExist) {
    auto names = listDirectory(fsPath, mustExist);
    if (!names) return;
    std::vector<DataDirEntry> entries;
    std::vector<DataDirectoryRules::Entry> ruleEntries;
    std::vector<std::string> fsPaths;
    for (const auto& name : *names) {
      std::string childFs = fsPath + "/" + name;
      struct stat st;
      if (::lstat(childFs.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // dropped while we walk
        failErrno(ErrorCode::FileRead, "cannot stat", childFs, errno);
      }
      DataDirEntry entry;
      entry.path = relPath.empty() ? name : relPath + "/" + name;
      entry.type = entryType(st.st_mode);
      entry.size = entry.type == EntryType::File ? static_cast<uint64_t>(st.st_size) : 0;
      entry.mtime = st.st_mtim.tv_sec;
      entry.mode = st.st_mode & 07777;
      entry.uid = st.st_uid;
      entry.gid = st.st_gid;
      if (entry.type == EntryType::Symlink) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(childFs, ec);
        if (ec && ec != std::errc::no_such_file_or_directory)
          fail(ErrorCode::FileRead, "cannot read link '{}': {}", childFs, ec.message());
        if (ec) continue;
        entry.linkTarget = target.string();
      }
      ruleEntries.push_back({name, entry.type});
      entries.push_back(std::move(entry));
      fsPaths.push_back(std::move(childFs));
    }
    auto decisions = rules.decideDirectory(relPath, ruleEntries);
    for (size_t i = 0; i < entries.size(); ++i) {
      DataDirEntry& entry = entries[i];
      entry.decision = decisions[i];
      visit(entry);
      if (entry.decision.disposition != Disposition::Include) continue;
      if (entry.type == EntryType::Directory) walk(fsPaths[i], entry.path, false);
      // A tablespace link is followed: its contents belong to the backup.
      else if (entry.type == EntryType::Symlink && entry.decision.tablespaceOid)
        walk(fsPaths[i], entry.path, false);
    }
  }
};

}  // namespace

void walkDataDirectory(const std::filesystem::path& dataDirectory, const DataDirectoryRules& rules,
                       const std::function<void(const DataDirEntry&)>& visit) {
  Walker walker{rules, visit};
  walker.walk(dataDirectory.string(), "", true);
}

}  // namespace pgbr::pg
