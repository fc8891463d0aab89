// The restore command: into an empty or absent pg1-path, from --set or the backup that
// restore_target.h chooses for the recovery target. The main thread streams the manifest
// (manifest.get), creates directories and links as they come (in manifest order, so a directory or
// a tablespace link always exists before what is below it) and hands files — large ones in parts
// any worker may take — to process-max RestoreWriters on an asio::thread_pool. When every file is
// written and fsynced (the fsyncs deferred and run in parallel, see DeferredSyncs) it writes backup_label,
// tablespace_map, the recovery settings in postgresql.auto.conf and the signal file, then
// global/pg_control last — a restore that failed half-way leaves a directory PostgreSQL refuses to
// start — and finally the directories' modes, owners and times.
#include "agent/channel_stream.h"
#include "agent/commands.h"
#include "agent/delta_merge.h"
#include "agent/info_format.h"
#include "agent/json_fields.h"
#include "agent/progress.h"
#include "agent/recovery_conf.h"
#include "agent/repo_keys.h"
#include "agent/restore_tree.h"
#include "agent/restore_target.h"
#include "agent/restore_writer.h"
#include "agent/tablespace_map.h"
#include "agent/work_queue.h"
#include "agent/worker_pool.h"
#include "common/log.h"
#include "common/pg/control.h"
#include "common/storage/posix_io.h"
#include "common/text.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>

namespace pgbr::agent {

using nlohmann::json;

namespace {

constexpr uint64_t kBatchBytes = 8 * 1024 * 1024;
constexpr uint64_t kQueuedChunkIds = 64 * 1024;
// Files larger than this are restored in parts of this size that all workers share (a relation's
// 1 GiB segment would otherwise keep one worker busy, hashing or writing, while the others idle).
constexpr uint64_t kPartBytes = 16 * 1024 * 1024;
// Files a restore keeps open at once, over all workers (well below the usual 1024 descriptors).
constexpr size_t kOpenFiles = 768;
// Restored files waiting for their fsync (a path each) before a worker syncs them itself.
constexpr size_t kDeferredSyncs = 8192;

// PostgreSQL must not be running where a delta restore writes. Like pgBackRest, any
// postmaster.pid refuses the restore: a live postmaster is named; a stale file (a crash) is the
// operator's to remove, since a restore cannot tell a crashed cluster from one starting up.
void refuseRunningCluster(const std::string& path) {
  std::string pidFile = path + "/postmaster.pid";
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(pidFile, ec))) return;
  std::string content;
  {
    int raw = openRetry(pidFile.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (raw >= 0) {
      UniqueFd fd(raw);
      std::vector<uint8_t> buffer(64);
      size_t n = readFd(fd.get(), buffer, pidFile);
      content.assign(reinterpret_cast<const char*>(buffer.data()), n);
    }
  }
  long pid = 0;
  try {
    pid = std::stol(content.substr(0, content.find('\n')));
  } catch (const std::exception&) {
    pid = 0;
  }
  if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM))
    fail(ErrorCode::PgRunning,
         "PostgreSQL is running in '{}' (postmaster.pid names PID {}, which is alive): stop it before restoring over "
         "it",
         path, pid);
  fail(ErrorCode::PgRunning,
       "'{}' exists{}: a restore never writes where PostgreSQL may be running; if the cluster crashed and no "
       "postmaster is running, remove postmaster.pid and run the restore again",
       pidFile, pid > 0 ? fmt::format(" (PID {}, no such process now)", pid) : std::string());
}

// Whether pg1-path holds anything, after checking it may be restored into: absent or empty for a
// restore, or for --delta an existing data directory (PG_VERSION, no postmaster.pid; --force
// skips the PG_VERSION test).
bool checkTarget(const std::string& path, const Config& config) {
  bool delta = config.flag("delta");
  if (config.flag("force") && !delta)
    fail(ErrorCode::OptionInvalidValue,
         "restore --force only goes with --delta (it makes the delta restore check files by content)");
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || status.type() == std::filesystem::file_type::not_found) return false;
  if (status.type() != std::filesystem::file_type::directory)
    fail(ErrorCode::PathInvalid, "pg1-path '{}' exists and is not a directory", path);
  if (std::filesystem::is_empty(path, ec) && !ec) return false;
  if (!delta)
    fail(ErrorCode::PathNotEmpty,
         "pg1-path '{}' is not empty: restore writes into an empty or absent directory; to restore over an existing "
         "cluster, stop PostgreSQL and use --delta",
         path);
  refuseRunningCluster(path);
  if (!config.flag("force") && !std::filesystem::exists(path + "/PG_VERSION", ec))
    fail(ErrorCode::PathInvalid,
         "pg1-path '{}' has no PG_VERSION: it does not look like a PostgreSQL data directory, and a delta restore "
         "removes everything the backup does not have; check the path, or add --force",
         path);
  return true;
}

bool isTablespaceLink(std::string_view path, uint32_t& oid) {
  constexpr std::string_view prefix = "pg_tblspc/";
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return false;
  std::string_view digits = path.substr(prefix.size());
  if (digits.size() > 10 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  uint64_t value = std::stoull(std::string(digits));
  if (value > UINT32_MAX) return false;
  oid = static_cast<uint32_t>(value);
  return true;
}

std::string agentPath() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail(ErrorCode::Unknown, "cannot find this program's path in /proc/self/exe: {}", ec.message());
  return path.string();
}

struct DirectoryAttributes {
  std::string path;
  uint32_t mode = 0700;
  int64_t mtime = 0;
  std::string user;
  std::string group;
};

// Writes a small file the restore makes itself (backup_label, recovery.signal, …) into the data
// directory: a new file, written, attributes applied, fsynced.
void writeNewFile(RestoreTree& tree, std::string_view path, std::string_view content, const Ownership& owner) {
  UniqueFd fd = tree.createFile(path);
  std::string where = tree.describe(path);
  writeFd(fd.get(), std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size()), where);
  if (owner.uid || owner.gid)
    if (::fchown(fd.get(), owner.uid.value_or(static_cast<uid_t>(-1)), owner.gid.value_or(static_cast<gid_t>(-1))) != 0)
      failErrno(ErrorCode::FileWrite, "cannot change the owner of", where, errno);
  fsyncFd(fd.get(), where);
  fd.closeChecked(where);
}

std::string readSmallFile(const std::string& path) {
  int raw = openRetry(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) {
    if (-raw == ENOENT) return {};
    failErrno(ErrorCode::FileOpen, "cannot open", path, -raw);
  }
  UniqueFd fd(raw);
  std::string content;
  std::vector<uint8_t> buffer(64 * 1024);
  while (size_t n = readFd(fd.get(), buffer, path)) content.append(reinterpret_cast<const char*>(buffer.data()), n);
  return content;
}

// Replaces postgresql.auto.conf (restored from the backup, or absent) with its edited version.
void writeAutoConf(RestoreTree& tree, const std::string& content, const Ownership& owner) {
  std::string path = tree.root() + "/postgresql.auto.conf";
  std::string temporary = "postgresql.auto.conf.pgbr-tmp";
  writeNewFile(tree, temporary, content, owner);
  std::string from = tree.root() + "/" + temporary;
  if (::rename(from.c_str(), path.c_str()) != 0) failErrno(ErrorCode::FileWrite, "cannot rename to", path, errno);
}

}  // namespace

int runRestore(const Config& config) {
  const std::string stanza = config.stanza();
  const std::string pgPath = config.str("pg-path", 1);
  auto began = std::chrono::steady_clock::now();
  const bool delta = checkTarget(pgPath, config);
  std::string configPath = config.has("config") ? config.str("config") : std::string();
  if (configPath.empty())
    logWarn(
        "--no-config: the restore_command written for recovery reads its repository settings from the "
        "environment PostgreSQL runs in");
  RecoveryOptions recovery = recoveryOptions(
      config, configPath.empty() ? fmt::format("{} --no-config {} archive-get %f \"%p\"", shellQuote(agentPath()),
                                               shellQuote("--stanza=" + stanza))
                                 : restoreCommand(agentPath(), configPath, stanza));

  RepoSession session(config);
  RepoClient& client = session.client();
  RepoKeys keys = fetchRepoKeys(client, stanza);
  // --set, or the backup that can reach the target: chosen before anything is written.
  const std::string set = selectBackup(client, config, keys, recovery).label;

  const json request = {{"op", "manifest.get"}, {"stanza", stanza}, {"label", set}};
  RepoChannel manifestChannel = client.download(request).first;
  ChannelSource source(manifestChannel);
  ManifestReader reader(source, fmt::format("manifest of backup '{}' of stanza '{}'", set, stanza));
  const ManifestHeader& header = reader.header();
  const std::string what = fmt::format("backup {}", header.label);
  if (set != "latest" && header.label != set)
    fail(ErrorCode::Protocol, "asked for backup {} and the repository server sent {}", set, header.label);
  if (header.chunkSize < kMinChunkSize || header.chunkSize > kMaxChunkSize || header.chunkSize % kPageSize != 0)
    fail(ErrorCode::Corrupt, "{}: chunk size {} is not a valid chunk size", what, header.chunkSize);
  if (header.backupLabel.empty()) fail(ErrorCode::Corrupt, "{} has no backup_label: it cannot be restored", what);
  logInfo("restoring backup {} ({} backup of {}, {} files, {}) into {}", header.label, header.type,
          formatTimestamp(header.stopTime), header.fileCount, formatBytes(header.size), pgPath);

  std::vector<Tablespace> tablespaces = backupTablespaces(header);
  std::map<uint32_t, std::string> tablespaceTargets = mapTablespaces(
      tablespaces, config.has("tablespace-map") ? config.map("tablespace-map") : std::map<std::string, std::string>{},
      config.has("tablespace-map-all") ? std::optional(config.str("tablespace-map-all")) : std::nullopt);
  std::map<std::string, std::string> linkMap =
      config.has("link-map") ? config.map("link-map") : std::map<std::string, std::string>{};
  bool linkAll = config.flag("link-all");

  std::error_code ec;
  if (!std::filesystem::exists(pgPath, ec)) {
    if (::mkdir(pgPath.c_str(), 0700) != 0) failErrno(ErrorCode::FileWrite, "cannot create pg1-path", pgPath, errno);
  }
  RestoreTree tree(pgPath);
  OwnershipCache owners;
  const json root = field(header.extra, "dataDirectory");
  Ownership rootOwner = owners.get(stringField(root, "user").value_or(""), stringField(root, "group").value_or(""));

  std::optional<DeltaMerge> merge;
  if (delta) {
    // First of all: without pg_control PostgreSQL refuses to start on a directory that a failed
    // delta restore left half old, half new. The backup's copy is written last.
    if (std::filesystem::is_directory(std::filesystem::symlink_status(pgPath + "/global", ec))) {
      tree.remove(pg::kControlFilePath);
      fsyncDirectory(pgPath + "/global");
    }
    merge.emplace(tree, fmt::format("PG_{}_", header.pgVersion));
    logInfo("delta restore over {}: {}", pgPath,
            config.flag("force") ? "every file is checked chunk by chunk against the backup (--force)"
                                 : "files whose size and modification time match the backup are kept");
  }

  Progress progress(header.fileCount, header.size);
  RestoreStats stats;
  RestoreContext context;
  context.stanza = stanza;
  context.client = &client;
  context.tree = &tree;
  context.keyring = keys.keyring;
  context.chunkSize = header.chunkSize;
  context.chunksPerBatch = static_cast<size_t>(std::clamp<uint64_t>(kBatchBytes / header.chunkSize, 1, 4096));
  context.progress = &progress;
  context.owners = &owners;
  context.stats = &stats;
  context.force = config.flag("force");
  context.backupStart = header.startTime;
  DeferredSyncs syncs(tree, kDeferredSyncs);
  context.syncs = &syncs;

  unsigned workers = static_cast<unsigned>(config.integer("process-max"));
  context.filesPerBatch = std::max<size_t>(8, kOpenFiles / workers);
  // Entries waiting for a worker hold at most about this many chunk ids, whatever the manifest's size.
  WorkQueue<RestoreJob> jobs(kQueuedChunkIds);
  const size_t partChunks = static_cast<size_t>(std::max<uint64_t>(1, kPartBytes / header.chunkSize));
  std::vector<DirectoryAttributes> directories;
  std::optional<ManifestEntry> control;
  std::set<std::string> linksUsed;
  TablespaceMapEntries restoredTablespaces;

  // The local entry at a manifest path (delta), consumed from the walk; strays before it removed.
  auto local = [&](const std::string& path) -> std::optional<LocalEntry> {
    if (!merge) return std::nullopt;
    return merge->match(path);
  };
  // A directory of the manifest: kept (and walked) when one is there, else created.
  auto ensureDirectory = [&](const std::string& path) {
    auto existing = local(path);
    if (existing && existing->type == LocalType::Directory) {
      merge->enter(path);
      return;
    }
    if (existing) merge->remove(*existing);
    tree.createDirectory(path);
  };
  // A symbolic link of the manifest: kept when the same link is there.
  auto ensureSymlink = [&](const std::string& path, const std::string& target) {
    auto existing = local(path);
    if (existing && existing->type == LocalType::Link && existing->target == target) return;
    if (existing) merge->remove(*existing);
    tree.createSymlink(path, target);
  };
  {
    ProgressReporter reporter("restore", progress, std::chrono::seconds(5), [&] {
      return delta ? fmt::format("kept {}, fetched {}", formatBytes(stats.bytesKept.load()),
                                 formatBytes(stats.bytesFetched.load()))
                   : fmt::format("fetched {}", formatBytes(stats.bytesFetched.load()));
    });
    WorkerPool<RestoreJob> pool(workers, jobs);
    pool.start([&] { return RestoreWriter(context); });
    try {
      while (auto entry = reader.next()) {
        if (pool.stopping()) break;
        uint32_t oid = 0;
        switch (entry->type) {
          case EntryType::Directory:
            ensureDirectory(entry->path);
            directories.push_back({entry->path, entry->mode, entry->mtime, entry->user, entry->group});
            break;
          case EntryType::File: {
            checkFileEntry(*entry, header.chunkSize, what);
            std::optional<LocalFile> file;
            if (auto existing = local(entry->path)) {
              // A hard link may share its data with another cluster (pg_upgrade --link): replaced,
              // never written in place.
              if (existing->type == LocalType::File && existing->links == 1)
                file = LocalFile{.size = existing->size, .mtime = existing->mtime};
              else
                merge->remove(*existing);
            }
            if (entry->path == pg::kControlFilePath) {
              control = std::move(*entry);
            } else {
              RestoreJob job{.entry = std::move(*entry), .local = file};
              if (keptBySizeAndTime(job, context) || job.entry.chunks.size() <= partChunks) {
                uint64_t weight = 1 + job.entry.chunks.size();
                jobs.push(std::move(job), weight);
              } else {
                // Shared by the workers: created here, so that none of its parts finds it absent.
                if (!job.local) tree.createFile(job.entry.path).closeChecked(tree.describe(job.entry.path));
                for (auto& part : splitJob(std::move(job), partChunks)) {
                  uint64_t weight = 1 + (part.endChunk - part.firstChunk);
                  jobs.push(std::move(part), weight);
                }
              }
            }
            break;
          }
          case EntryType::Link:
            if (isTablespaceLink(entry->path, oid)) {
              auto target = tablespaceTargets.find(oid);
              if (target == tablespaceTargets.end())
                fail(ErrorCode::Corrupt, "{} has the tablespace link '{}' but no tablespace {} in its tablespace list",
                     what, entry->path, oid);
              auto existing = local(entry->path);
              if (existing && existing->type == LocalType::Link && existing->target == target->second) {
                tree.adoptTablespaceLink(entry->path, target->second);
              } else {
                if (existing) merge->remove(*existing);
                tree.createTablespaceLink(entry->path, target->second, delta);
              }
              if (merge) merge->enterTablespace(entry->path);
              UniqueFd dir = tree.openTablespaceDirectory(entry->path);
              applyAttributes(dir.get(), 0700, entry->mtime, owners.get(entry->user, entry->group), target->second);
              auto owner = owners.get(entry->user, entry->group);
              std::string link = tree.describe(entry->path);
              if ((owner.uid || owner.gid) && ::lchown(link.c_str(), owner.uid.value_or(static_cast<uid_t>(-1)),
                                                       owner.gid.value_or(static_cast<gid_t>(-1))) != 0)
                failErrno(ErrorCode::FileWrite, "cannot change the owner of", link, errno);
              restoredTablespaces.emplace_back(oid, target->second);
              logDetail("tablespace {} restored into {}", oid, target->second);
            } else if (auto mapped = linkMap.find(entry->path); mapped != linkMap.end()) {
              ensureSymlink(entry->path, mapped->second);
              linksUsed.insert(entry->path);
            } else if (linkAll) {
              ensureSymlink(entry->path, entry->target);
            } else if (entry->path == "pg_wal") {
              // The WAL directory was a link; its contents come from the archive anyway.
              ensureDirectory(entry->path);
              directories.push_back({entry->path, 0700, entry->mtime, entry->user, entry->group});
              ensureDirectory("pg_wal/archive_status");
              directories.push_back({"pg_wal/archive_status", 0700, entry->mtime, entry->user, entry->group});
            } else {
              if (auto existing = local(entry->path)) merge->remove(*existing);
              logWarn(
                  "link {} -> {} is not restored: backups hold links, not what they point to; use --link-all or "
                  "--link-map={}=<path> to restore it as a link",
                  entry->path, entry->target, entry->path);
            }
            break;
        }
      }
      if (!pool.stopping() && !source.ended()) {
        while (manifestChannel.receiveData()) {
        }
      }
      // Whatever the backup does not have: stale WAL, old labels and signal files, dropped relations.
      if (merge && !pool.stopping()) merge->finish();
    } catch (...) {
      pool.fail(std::current_exception());
    }
    jobs.close();
    pool.join();
    pool.rethrow();
  }
  syncs.syncAll(workers);
  for (const auto& [link, target] : linkMap)
    if (!linksUsed.contains(link)) logWarn("link-map names '{}', which is not a link in backup {}", link, header.label);

  // What recovery needs, written only once every file is in place.
  writeNewFile(tree, "backup_label", header.backupLabel, rootOwner);
  if (!restoredTablespaces.empty() || !header.tablespaceMap.empty())
    writeNewFile(tree, "tablespace_map", formatTablespaceMap(restoredTablespaces), rootOwner);
  Settings settings = recoverySettings(recovery);
  if (replacesRecoverySettings(recovery)) {
    std::string current = readSmallFile(pgPath + "/postgresql.auto.conf");
    writeAutoConf(tree, editAutoConf(current, settings, true), rootOwner);
  }
  if (auto signal = signalFileName(recovery); !signal.empty()) writeNewFile(tree, signal, "", rootOwner);

  if (!control) fail(ErrorCode::Corrupt, "{} has no {}: it cannot be restored", what, pg::kControlFilePath);
  {
    RestoreWriter writer(context);
    writer.process(RestoreJob{.entry = *control, .local = std::nullopt});
    writer.flush();
  }
  syncs.syncAll(1);

  for (auto it = directories.rbegin(); it != directories.rend(); ++it) {
    UniqueFd dir = tree.openDirectory(it->path);
    std::string where = tree.describe(it->path);
    applyAttributes(dir.get(), it->mode, it->mtime, owners.get(it->user, it->group), where);
    fsyncFd(dir.get(), where);
  }
  {
    int raw = openRetry(pgPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (raw < 0) failErrno(ErrorCode::FileOpen, "cannot open", pgPath, -raw);
    UniqueFd dir(raw);
    applyAttributes(dir.get(), static_cast<uint32_t>(unsignedField(root, "mode").value_or(0700)),
                    static_cast<int64_t>(unsignedField(root, "mtime").value_or(0)), rootOwner, pgPath);
    fsyncFd(dir.get(), pgPath);
  }
  for (const auto& [oid, target] : restoredTablespaces) fsyncDirectory(target);
  std::string parent = std::filesystem::path(pgPath).parent_path().string();
  if (!parent.empty()) fsyncDirectory(parent);

  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began);
  auto snapshot = progress.snapshot();
  std::string fetched = fmt::format("fetched {} from the repository ({} chunks, {} written)",
                                    formatBytes(stats.bytesFetched.load()), stats.chunksFetched.load(),
                                    formatBytes(stats.bytesWritten.load()));
  std::string summary =
      delta ? fmt::format("{} files, {}: kept {} ({} files unchanged), {}; {} files updated, {} entries removed",
                          snapshot.filesDone, formatBytes(snapshot.bytesDone), formatBytes(stats.bytesKept.load()),
                          stats.filesKept.load(), fetched, stats.filesUpdated.load(), merge->removedEntries())
            : fmt::format("{} files, {}, {}", snapshot.filesDone, formatBytes(snapshot.bytesDone), fetched);
  logInfo("restored backup {} into {}{}: {} in {}; start PostgreSQL to recover{}", header.label, pgPath,
          delta ? " (delta)" : "", summary, formatDuration(seconds),
          recovery.type == "default" ? " to the end of the archived WAL" : "");
  fmt::print("{}\n", header.label);
  return 0;
}

}  // namespace pgbr::agent
