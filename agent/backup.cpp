// The backup command. On the main thread: check the cluster (pg1-path is the running server's data
// directory, the stanza is this cluster), open the backup channel (the repository's lock on the
// stanza), pg_backup_start on a session kept open, then run the pipeline, pg_backup_stop, and END
// the channel with the manifest header; the server commits once the WAL is archived.
//
// The pipeline: a walker thread walks the data directory and tablespaces in manifest order
// (pg::walkDataDirectory, depth-first, sorted names), reserving a place for every entry in a
// bounded ReorderBuffer and handing files to process-max BackupReaders on an asio::thread_pool;
// the main thread takes finished entries back in manifest order and streams them to the server
// as JSON Lines. The reorder buffer, the readers' batches and the uploader's in-flight limit
// bound the memory, whatever the number or size of files.
//
// pg_control is read in walk order rather than last: for a backup of a primary, recovery starts
// from backup_label's checkpoint and replays to the backup's end, which rewrites pg_control, so
// the copy's age does not matter. That holds for a backup read from a standby too
// (agent/backup_standby.h): the backup_label is still the primary's, so recovery ends at the
// primary's backup-end record.
#include "agent/backup_reader.h"
#include "agent/backup_standby.h"
#include "agent/channel_stream.h"
#include "agent/chunk_uploader.h"
#include "agent/cluster.h"
#include "agent/commands.h"
#include "agent/json_fields.h"
#include "agent/prior_manifest.h"
#include "agent/progress.h"
#include "agent/reorder_buffer.h"
#include "agent/repo_keys.h"
#include "agent/tablespace_map.h"
#include "agent/work_queue.h"
#include "agent/worker_pool.h"
#include "common/config/help.h"
#include "common/log.h"
#include "common/pg/server.h"
#include "common/pg/version.h"
#include "common/text.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

namespace pgbr::agent {

using nlohmann::json;

namespace {

// Weight units of the reorder buffer: one per entry plus one per expected chunk id, so entries
// waiting to be sent hold at most about this many chunk ids (32 bytes each) in memory.
constexpr uint64_t kReorderCapacity = 64 * 1024;
// Plaintext a reader gathers before asking which chunks the repository lacks.
constexpr uint64_t kBatchBytes = 4 * 1024 * 1024;
// JSON Lines collected before they are sent as one DATA message.
constexpr size_t kManifestPiece = 256 * 1024;

// The exclude option: "dir" leaves out the path and everything below it, "dir/" keeps the
// directory itself and leaves out its contents.
class ExcludeList {
 public:
  explicit ExcludeList(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  bool excludes(std::string_view path) const {
    for (const auto& p : paths_) {
      if (p.ends_with('/')) {
        if (path.starts_with(p)) return true;
      } else if (path == p || (path.starts_with(p) && path.size() > p.size() && path[p.size()] == '/')) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::string> paths_;
};

bool takes(const pg::DataDirEntry& entry, const ExcludeList& excludes) {
  if (!entry.decision.included()) {
    logDebug("excluded {}: {}", entry.path, entry.decision.reason);
    return false;
  }
  if (excludes.excludes(entry.path)) {
    logDetail("excluded {}: exclude option", entry.path);
    return false;
  }
  if (entry.type == pg::EntryType::Other) {
    logWarn("skipped {}: not a regular file, directory or link", entry.path);
    return false;
  }
  return true;
}

struct ManifestTotals {
  uint64_t entries = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t pageErrors = 0;
};

// What a diff or incr backup builds on: the prior backup's manifest and when it started.
struct PriorBackup {
  PriorManifest* manifest = nullptr;  // null for a full backup
  int64_t startTime = 0;
  bool delta = false;  // compare contents: read every file, trust no timestamp
};

// The walker, the readers and the emitter of one backup (see the top of this file).
class BackupPipeline {
 public:
  BackupPipeline(const ReaderContext& context, const pg::DataDirectoryRules& rules, const ExcludeList& excludes,
                 unsigned workers, RepoChannel& manifest, PriorBackup prior)
      : context_(context),
        rules_(rules),
        excludes_(excludes),
        workers_(workers),
        manifest_(manifest),
        prior_(prior) {}

  ManifestTotals run() {
    ReorderBuffer<ManifestEntry> reorder(kReorderCapacity);
    WorkQueue<BackupFileJob> jobs;
    ReaderContext context = context_;
    context.reorder = &reorder;
    WorkerPool<BackupFileJob> workers(workers_, jobs, [&] { reorder.abort(); });
    workers.start([&] { return BackupReader(context); });

    std::thread walker([&] {
      try {
        walk(reorder, jobs);
        reorder.finishProducing();
        jobs.close();
      } catch (...) {
        workers.fail(std::current_exception());
      }
    });

    ManifestTotals totals;
    try {
      totals = emit(reorder);
    } catch (...) {
      workers.fail(std::current_exception());
    }
    walker.join();
    workers.join();
    workers.rethrow();
    return totals;
  }

 private:
  void walk(ReorderBuffer<ManifestEntry>& reorder, WorkQueue<BackupFileJob>& jobs) {
    const uint64_t chunkSize = context_.pipeline.chunkSize;
    pg::walkDataDirectory(context_.dataDirectory, rules_, [&](const pg::DataDirEntry& entry) {
      if (!takes(entry, excludes_)) return;
      uint64_t weight = 1 + (entry.type == pg::EntryType::File ? (entry.size + chunkSize - 1) / chunkSize : 0);
      std::optional<ManifestEntry> prior;
      if (prior_.manifest && entry.type == pg::EntryType::File) {
        prior = prior_.manifest->find(entry.path);
        if (prior && prior->type != EntryType::File) prior.reset();
        if (prior) weight += prior->chunks.size();
      }
      auto seq = reorder.reserve(weight);
      if (!seq) fail(ErrorCode::Cancelled, "the backup was stopped");
      if (entry.type != pg::EntryType::File) {
        reorder.complete(*seq, manifestEntryFor(entry, *context_.names));
      } else if (prior && !prior_.delta && unchangedSince(entry, *prior, prior_.startTime)) {
        reorder.complete(*seq, unchangedEntry(entry, std::move(*prior)));
      } else {
        BackupFileJob job{.seq = *seq, .entry = entry};
        if (prior) job.priorChunks = std::move(prior->chunks);
        jobs.push(std::move(job));
      }
    });
  }

  // A file the prior backup holds as it is now: its attributes as walked, its contents as before.
  ManifestEntry unchangedEntry(const pg::DataDirEntry& walked, ManifestEntry prior) {
    ManifestEntry entry = manifestEntryFor(walked, *context_.names);
    entry.size = prior.size;
    entry.checksum = std::move(prior.checksum);
    entry.chunks = std::move(prior.chunks);
    entry.pageErrors = std::move(prior.pageErrors);
    logDetail("unchanged {} ({}): recorded from the prior backup", walked.path, formatBytes(entry.size));
    context_.stats->unchangedFiles.fetch_add(1, std::memory_order_relaxed);
    context_.stats->unchangedBytes.fetch_add(entry.size, std::memory_order_relaxed);
    context_.progress->addBytes(entry.size);
    context_.progress->addFile();
    return entry;
  }

  ManifestTotals emit(ReorderBuffer<ManifestEntry>& reorder) {
    ManifestTotals totals;
    std::vector<ManifestEntry> ready;
    std::string lines;
    std::string last;
    auto send = [&] {
      manifest_.sendData(std::span(reinterpret_cast<const uint8_t*>(lines.data()), lines.size()));
      lines.clear();
    };
    while (reorder.takeReady(ready)) {
      for (const auto& entry : ready) {
        if (totals.entries > 0 && !manifestPathLess(last, entry.path))
          fail(ErrorCode::Internal, "manifest entries out of order: '{}' after '{}'", entry.path, last);
        last = entry.path;
        ++totals.entries;
        if (entry.type == EntryType::File) {
          ++totals.files;
          totals.bytes += entry.size;
          totals.pageErrors += entry.pageErrors.size();
        }
        lines += entry.toJson().dump();
        lines += '\n';
        if (lines.size() >= kManifestPiece) send();
      }
      ready.clear();
    }
    if (!lines.empty()) send();
    return totals;
  }

  const ReaderContext& context_;
  const pg::DataDirectoryRules& rules_;
  const ExcludeList& excludes_;
  unsigned workers_;
  RepoChannel& manifest_;
  PriorBackup prior_;
};

// Files and bytes the backup will read, for progress: a walk that only counts.
std::pair<uint64_t, uint64_t> countFiles(const std::string& dataDirectory, const pg::DataDirectoryRules& rules,
                                         const ExcludeList& excludes) {
  uint64_t files = 0, bytes = 0;
  pg::walkDataDirectory(dataDirectory, rules, [&](const pg::DataDirEntry& entry) {
    if (entry.type != pg::EntryType::File || !entry.decision.included() || excludes.excludes(entry.path)) return;
    ++files;
    bytes += entry.size;
  });
  return {files, bytes};
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

json dataDirectoryAttributes(const std::string& path, OwnerNames& names) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) failErrno(ErrorCode::FileOpen, "cannot read the attributes of", path, errno);
  return {{"mode", st.st_mode & 07777},
          {"user", names.user(st.st_uid)},
          {"group", names.group(st.st_gid)},
          {"mtime", static_cast<int64_t>(st.st_mtime)}};
}

// "incr backup L committed: 1234 files (1200 unchanged, not read), 2.1 GiB; read 300 MiB,
// sent 20 MiB (12 whole chunks, 900 chunks as 4000 changed pages, 100 already stored) in 80
// uploads; the repository grew by 5 MiB; 0:12"
std::string backupSummary(const std::string& type, const std::string& label, const ManifestTotals& totals,
                          const ReaderStats& stats, uint64_t uploads, uint64_t repoSize, const std::string& duration) {
  std::string files = fmt::format("{} files", totals.files);
  if (stats.unchangedFiles > 0) files += fmt::format(" ({} unchanged, not read)", stats.unchangedFiles.load());
  uint64_t patched = stats.patchChunks.load();
  std::string sent = fmt::format("{} whole chunks", stats.newChunks.load() - patched);
  if (patched > 0) sent += fmt::format(", {} chunks as {} changed pages", patched, stats.patchPages.load());
  if (stats.storedChunks > 0) sent += fmt::format(", {} already stored", stats.storedChunks.load());
  return fmt::format("{} backup {} committed: {}, {}; read {}, sent {} ({}) in {} uploads; the repository grew by {}; {}{}",
                     type, label, files, formatBytes(totals.bytes), formatBytes(stats.bytesRead.load()),
                     formatBytes(stats.sentBytes.load()), sent, uploads, formatBytes(repoSize), duration,
                     totals.pageErrors ? fmt::format("; {} pages with invalid checksums", totals.pageErrors)
                                       : std::string());
}

}  // namespace

int runBackup(const Config& config) {
  const std::string stanza = config.stanza();
  const std::string pgPath = config.str("pg-path", 1);
  const std::string requestedType(config.choice("type"));
  auto began = std::chrono::steady_clock::now();

  pg::PgConnection connection(pgConnectOptions(config));
  LocalCluster cluster = inspectCluster(connection, pgPath);
  pg::ServerSettings settings = pg::serverSettings(connection);
  if (config.flag("archive-check") && settings.archiveMode == "off")
    fail(ErrorCode::ConfigInvalid,
         "archive_mode is off in the PostgreSQL server at {}: the WAL that makes a backup consistent would never "
         "reach the archive; set archive_mode = on and archive_command = 'pgbr-agent --stanza={} archive-push %p' "
         "and restart PostgreSQL",
         connection.options().describe(), stanza);

  // Files come from a standby when backup-standby says so; start and stop stay on the primary.
  std::optional<StandbySource> standby = chooseStandby(config, cluster);
  const std::string readPath = standby ? standby->path : pgPath;

  RepoSession session(config);
  RepoClient& client = session.client();
  RepoKeys keys = fetchRepoKeys(client, stanza);
  applyCompressionOptions(config, keys.pipeline);
  const json stanzaRequest = {{"op", "stanza.get"}, {"stanza", stanza}};
  checkStanzaIdentity(ClusterIdentity::fromJson(field(client.call(stanzaRequest), "identity")), cluster.identity,
                      stanza);

  // The backup channel holds the stanza's lock for as long as it is open.
  const int64_t startTime = unixNow();
  const json backupRequest = {{"op", "backup"}, {"stanza", stanza}, {"type", requestedType}, {"startTime", startTime}};
  RepoChannel channel = client.open(backupRequest);
  json started = channel.receiveResponse();
  auto labelField = stringField(started, "label");
  auto typeField = stringField(started, "type");
  if (!labelField || !typeField)
    fail(ErrorCode::Protocol, "the repository server's backup answer has no label or type");
  const std::string label = *labelField;
  const std::string type = *typeField;
  const std::string priorLabel = stringField(field(started, "prior"), "label").value_or("");
  if (type != requestedType)
    logInfo("{} backup requested, but {}: taking a {} backup", requestedType,
            stringField(started, "reason").value_or("there is no prior backup to build on"), type);
  const bool delta = config.flag("delta");
  std::optional<PriorManifest> priorManifest;
  PriorBackup prior{.delta = delta};
  if (type != "full") {
    if (priorLabel.empty()) fail(ErrorCode::Protocol, "the repository server's {} backup answer names no prior", type);
    priorManifest.emplace(client, stanza, priorLabel);
    prior.manifest = &*priorManifest;
    prior.startTime = priorManifest->header().startTime;
    logInfo("{} backup {} after {}: {}; relation files send only the pages that changed", type, label, priorLabel,
            delta ? "every file is read and compared by content (delta)"
                  : "files whose size and modification time are unchanged are not read");
  }

  pg::BackupStart start = pg::backupStart(connection, "pgbr backup " + label, config.flag("start-fast"));
  logInfo("backup {} started at WAL location {} (file {}, timeline {})", label, start.lsn, start.walFileName,
          start.timeline);

  const double archiveTimeout = static_cast<double>(config.duration("archive-timeout").count()) / 1000.0;
  if (standby) syncStandby(*standby, start.lsn, pg::currentWalLsn(connection), config.duration("archive-timeout"));

  OwnerNames names;
  std::vector<Tablespace> tablespaces;
  // The locations where the files are read: a standby's tablespaces may be elsewhere.
  for (const auto& t : pg::tablespaces(standby ? standby->connection : connection))
    tablespaces.push_back({.oid = t.oid, .name = t.name, .location = t.location});

  bool checksums = cluster.control.checksumsEnabled();
  bool checkPages = config.has("checksum-page") ? config.flag("checksum-page") : checksums;
  if (checkPages && !checksums) {
    logWarn("checksum-page is set but the cluster does not have data checksums: page checksums are not checked");
    checkPages = false;
  }

  pg::DataDirectoryRules rules(cluster.control.version.major, cluster.control.catalogVersion);
  ExcludeList excludes(config.has("exclude") ? config.list("exclude") : std::vector<std::string>{});
  auto [filesTotal, bytesTotal] = countFiles(readPath, rules, excludes);
  Progress progress(filesTotal, bytesTotal);
  ReaderStats stats;
  unsigned workers = static_cast<unsigned>(config.integer("process-max"));
  uint64_t batchBytes = std::max<uint64_t>(kBatchBytes, keys.pipeline.chunkSize);
  ChunkUploader uploader(client, stanza, 2 * workers * batchBytes);

  ReaderContext context;
  context.dataDirectory = readPath;
  context.stanza = stanza;
  context.client = &client;
  context.keyring = keys.keyring;
  context.pipeline = keys.pipeline;
  context.batchBytes = batchBytes;
  if (checkPages) context.pageCheck = pg::PageCheckOptions{.checksums = true, .backupStart = start.lsn};
  context.segmentBlocks =
      cluster.control.relationSegmentSize ? cluster.control.relationSegmentSize : pg::kRelationSegmentBlocks;
  context.uploader = &uploader;
  context.progress = &progress;
  context.names = &names;
  context.stats = &stats;

  ManifestTotals totals;
  {
    ProgressReporter reporter("backup", progress);
    BackupPipeline pipeline(context, rules, excludes, workers, channel, prior);
    totals = pipeline.run();
  }
  priorManifest.reset();
  uploader.finish();

  pg::BackupStop stop = pg::backupStop(connection, false);
  const int64_t stopTime = unixNow();
  const uint32_t segmentSize = cluster.control.walSegmentSize;
  pg::Lsn lastByte = stop.lsn.valid() ? stop.lsn - 1 : stop.lsn;
  logInfo("backup {} stopped at WAL location {}", label, stop.lsn);

  ManifestHeader header;
  header.stanza = stanza;
  header.label = label;
  header.type = type;
  header.prior = priorLabel;
  header.startTime = startTime;
  header.stopTime = stopTime;
  header.startLsn = start.lsn.toString();
  header.stopLsn = stop.lsn.toString();
  header.timeline = start.timeline;
  header.walStart = start.walFileName;
  header.walStop = pg::WalSegment::containing(lastByte, start.timeline, segmentSize).fileName(segmentSize);
  header.pgVersion = cluster.identity.pgVersion;
  header.systemId = cluster.identity.systemId;
  header.chunkSize = keys.pipeline.chunkSize;
  header.pipeline = keys.pipeline.toJson();
  header.backupLabel = stop.backupLabel;
  header.tablespaceMap = stop.tablespaceMap;
  header.fileCount = totals.files;
  header.size = totals.bytes;
  header.repoSize = 0;  // the server counts what it stored
  header.pageErrors = totals.pageErrors;
  header.agentHost = hostName();
  header.agentVersion = std::string(pgbrVersion());
  header.extra = {{"tablespaces", tablespacesToJson(tablespaces)},
                  {"dataDirectory", dataDirectoryAttributes(readPath, names)},
                  {"checksumPage", checkPages},
                  {"chunks", stats.chunks.load()},
                  {"newChunks", stats.newChunks.load()},
                  {"patchChunks", stats.patchChunks.load()},
                  {"patchPages", stats.patchPages.load()},
                  {"bytesRead", stats.bytesRead.load()},
                  {"bytesSent", stats.sentBytes.load()},
                  {"unchangedFiles", stats.unchangedFiles.load()},
                  {"storedChunks", stats.storedChunks.load()},
                  {"uploads", uploader.totals().batches},
                  {"delta", delta},
                  {"standby", standby ? json(standby->index) : json(nullptr)}};

  const json end = {{"header", header.toJson()}, {"archiveTimeout", archiveTimeout}};
  logInfo("waiting for the repository to receive the WAL up to {} (archive-timeout {} s) and commit the backup",
          stop.lsn, archiveTimeout);
  channel.sendEnd(end);
  while (channel.receiveData()) {
  }
  const json& committed = channel.trailer();
  std::string committedLabel = stringField(committed, "label").value_or(label);
  uint64_t repoSize = unsignedField(committed, "repoSize").value_or(0);

  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began);
  logInfo("{}", backupSummary(type, committedLabel, totals, stats, uploader.totals().batches, repoSize,
                              formatDuration(seconds)));
  fmt::print("{}\n", committedLabel);
  return 0;
}

}  // namespace pgbr::agent
