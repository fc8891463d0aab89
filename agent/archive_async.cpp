#include "agent/archive_async.h"

#include "agent/archive.h"
#include "agent/archive_spool.h"
#include "agent/commands.h"
#include "common/log.h"
#include "common/pg/wal_name.h"
#include "common/storage/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

namespace pgbr::agent {
namespace {

using Clock = std::chrono::steady_clock;

// How long a background archive-push waits for more ready files before it exits: a busy cluster
// keeps one process and one connection, an idle one none.
constexpr auto kPushLinger = std::chrono::seconds(1);

// Runs job(0) … job(count - 1) on `threads` threads, handing out indexes in order.
void runParallel(unsigned threads, size_t count, const std::function<void(size_t)>& job) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) job(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, count); ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
}

// Runs worker(next) on `threads` threads (at most count); next() hands out the indexes 0 …
// count - 1 in order, then nullopt.
void runWorkers(unsigned threads, size_t count,
                const std::function<void(const std::function<std::optional<size_t>()>&)>& worker) {
  std::atomic<size_t> counter{0};
  std::function<std::optional<size_t>()> next = [&]() -> std::optional<size_t> {
    size_t i = counter++;
    if (i >= count) return std::nullopt;
    return i;
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, count); ++t) pool.emplace_back([&] { worker(next); });
  worker(next);
  for (auto& thread : pool) thread.join();
}

std::string describeLog(const Config& config) {
  LogSettings log = asyncLogSettings(config);
  return log.file == LogLevel::Off ? std::string("(log-level-file is off)") : log.filePath;
}

// ---------------------------------------------------------------------------------------------
// archive-push

// Ready files without a status file; status files of files PostgreSQL no longer offers are removed.
std::vector<ReadyFile> pendingPushes(const Spool& spool, const std::vector<ReadyFile>& ready) {
  std::set<std::string, std::less<>> readyNames;
  for (const auto& file : ready) readyNames.insert(file.name);
  std::set<std::string, std::less<>> reported;
  for (const auto& file : spool.list()) {
    for (std::string_view suffix : {".ok", ".error"}) {
      if (!file.ends_with(suffix)) continue;
      std::string name = file.substr(0, file.size() - suffix.size());
      if (name == "global") continue;
      if (readyNames.contains(name))
        reported.insert(name);
      else
        spool.remove(file);
    }
  }
  std::vector<ReadyFile> pending;
  for (const auto& file : ready)
    if (!reported.contains(file.name)) pending.push_back(file);
  return pending;
}

int pushInBackground(const Config& config, const std::string& walDirectory) {
  auto lock = ProcessLock::tryAcquire(ProcessLock::pathFor(config));
  if (!lock) return 0;  // another background archive-push serves the stanza
  Spool spool(config, Spool::Direction::Out);
  std::optional<uint64_t> queueMax;
  if (config.has("archive-push-queue-max")) queueMax = config.bytes("archive-push-queue-max");
  unsigned workers = static_cast<unsigned>(config.integer("process-max"));
  logInfo("archive-push background process started for {}", walDirectory);

  std::unique_ptr<RepoSession> session;
  ArchiveContext context;
  auto idleSince = Clock::now();
  uint64_t pushed = 0;
  for (;;) {
    std::vector<ReadyFile> pending = pendingPushes(spool, readyWal(walDirectory));
    if (pending.empty()) {
      if (Clock::now() - idleSince >= kPushLinger) break;
      // PostgreSQL waits for the next file it marks ready until this loop sees it.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (queueMax && totalSize(pending) > *queueMax) {
      // As pgBackRest does: the whole queue goes, so that archiving does not trickle through
      // only to exceed the limit again at once.
      for (const auto& file : pending) {
        std::string warning = dropWarning(file.name, *queueMax);
        logWarn("{}", warning);
        try {
          spool.writePushed(file.name, FileStamp::of(walDirectory + "/" + file.name), {warning});
        } catch (const Error& error) {
          logWarn("{}", error.what());
        }
      }
      idleSince = Clock::now();
      continue;
    }
    if (!session) {
      try {
        session = std::make_unique<RepoSession>(config);
        context = openArchiveContext(session->client(), config);
      } catch (const Error& error) {
        spool.writeError("", error);
        throw;
      }
    }
    logInfo("pushing {} WAL file(s) to the archive: {}{}", pending.size(), pending.front().name,
            pending.size() > 1 ? "..." + pending.back().name : std::string());
    std::atomic<bool> failed{false};
    auto report = [&](const std::string& name, const Error& error) {
      failed = true;
      logWarn("could not push WAL file '{}' (PostgreSQL will try again): [{}] {}", name, errorSlug(error.code()),
              error.what());
      try {
        spool.writeError(name, error);
      } catch (const Error& spoolError) {
        logWarn("{}", spoolError.what());
      }
    };
    // Each worker compresses and sends one file at a time, and sends its next file while the
    // server makes the previous one durable (fsync is disk time, not CPU): so process-max bounds
    // the CPU used, and the disk's latency is hidden. A file is reported pushed only once the
    // server's answer says it is durable.
    struct InFlight {
      FileStamp stamp;
      SentPush sent;
    };
    auto complete = [&](InFlight& flight) {
      try {
        PushResult result = awaitPush(flight.sent);
        spool.writePushed(flight.sent.name, flight.stamp, {});
        logDetail("{} WAL file {}", result == PushResult::Stored ? "pushed" : "already had", flight.sent.name);
      } catch (const Error& error) {
        report(flight.sent.name, error);
      }
    };
    runWorkers(workers, pending.size(), [&](const std::function<std::optional<size_t>()>& next) {
      std::optional<InFlight> previous;
      while (auto i = next()) {
        const std::string& name = pending[*i].name;
        std::string path = walDirectory + "/" + name;
        std::optional<InFlight> current;
        try {
          FileStamp stamp = FileStamp::of(path);
          current.emplace(InFlight{stamp, sendWalFile(session->client(), context, path)});
        } catch (const Error& error) {
          report(name, error);
        }
        if (previous) complete(*previous);
        previous.reset();  // (a channel is not assignable, only movable into place)
        if (current) previous.emplace(std::move(*current));
      }
      if (previous) complete(*previous);
    });
    pushed += pending.size();
    // A failure may have been the connection's: the next round starts on a new one.
    if (failed) session.reset();
    idleSince = Clock::now();
  }
  logInfo("archive-push background process done: {} WAL file(s) handled", pushed);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// archive-get

// Moves (or, across file systems, copies) a fetched segment from the spool to the destination;
// false when the spool does not have it.
bool takeFromSpool(const Spool& spool, std::string_view name, const std::string& destination) {
  std::string source = spool.path(name);
  if (::rename(source.c_str(), destination.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  if (errno != EXDEV) failErrno(ErrorCode::FileWrite, "cannot move the fetched WAL segment to", destination, errno);
  int raw = openRetry(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) {
    if (-raw == ENOENT) return false;
    failErrno(ErrorCode::FileOpen, "cannot open", source, -raw);
  }
  UniqueFd in(raw);
  std::string temporary = destination + ".pgbr-tmp";
  raw = openRetry(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw < 0) failErrno(ErrorCode::FileWrite, "cannot create", temporary, -raw);
  UniqueFd out(raw);
  try {
    std::vector<uint8_t> buffer(1024 * 1024);
    while (size_t n = readFd(in.get(), buffer, source)) writeFd(out.get(), std::span(buffer).first(n), temporary);
    out.closeChecked(temporary);
    if (::rename(temporary.c_str(), destination.c_str()) != 0)
      failErrno(ErrorCode::FileWrite, "cannot rename the fetched WAL segment to", destination, errno);
  } catch (...) {
    out.reset();
    ::unlink(temporary.c_str());
    throw;
  }
  spool.remove(name);
  return true;
}

// The spool holds segments of one cluster: another stanza identity (the stanza was deleted and
// made anew for another cluster) empties it first.
void checkSpoolIdentity(const Spool& spool, const ClusterIdentity& identity) {
  std::string expected = fmt::format("{} {}\n", identity.systemId, identity.walSegmentSize);
  if (spool.readFile("identity") == expected) return;
  for (const auto& file : spool.list())
    if (file != "global.error") spool.remove(file);
  spool.writeFile("identity", expected, false);
}

int fetchInBackground(const Config& config, const std::string& head, bool requested) {
  auto lock = ProcessLock::tryAcquire(ProcessLock::pathFor(config));
  if (!lock) return 0;  // another background archive-get serves the stanza
  Spool spool(config, Spool::Direction::In);
  // Leftovers of a process that died while writing (only one runs at a time).
  std::error_code ec;
  for (std::filesystem::directory_iterator it(spool.directory(), ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().find(".pgbr-tmp") != std::string::npos) ::unlink(it->path().c_str());

  std::unique_ptr<RepoSession> session;
  ArchiveContext context;
  try {
    session = std::make_unique<RepoSession>(config);
    context = openArchiveContext(session->client(), config);
  } catch (const Error& error) {
    if (requested) spool.writeError("", error);
    throw;
  }
  checkSpoolIdentity(spool, context.identity);
  uint32_t segmentSize = context.identity.walSegmentSize;
  size_t count = prefetchCount(config.bytes("archive-get-queue-max"), segmentSize);
  for (const auto& file : staleSpoolFiles(spool.list(), head, segmentSize, count)) spool.remove(file);
  std::vector<std::string> window = prefetchWindow(head, segmentSize, count);
  if (window.empty()) {
    Error error(ErrorCode::Format, fmt::format("'{}' is not a WAL segment of the stanza's cluster ({} byte segments)",
                                               head, segmentSize));
    if (requested) spool.writeError(head, error);
    throw error;
  }
  logInfo("archive-get background process: fetching {}...{}", window.front(), window.back());

  // The first segment the archive lacks ends the window: WAL beyond it cannot be replayed yet.
  std::atomic<size_t> end{window.size()};
  auto stopAt = [&](size_t i) {
    for (size_t seen = end.load(); i < seen && !end.compare_exchange_weak(seen, i);) {
    }
  };
  unsigned workers = static_cast<unsigned>(config.integer("process-max"));
  std::atomic<size_t> fetched{0};
  runParallel(workers, window.size(), [&](size_t i) {
    if (i >= end) return;
    const std::string& name = window[i];
    std::string path = spool.path(name);
    if (::access(path.c_str(), F_OK) == 0) return;
    bool report = i == 0 && requested;
    try {
      if (fetchWalFile(session->client(), context, name, path, true)) {
        ++fetched;
        logDetail("fetched WAL segment {} into the spool", name);
        return;
      }
      stopAt(i);
      logDetail("WAL segment {} is not in the archive", name);
      if (report) spool.writeMissing(name);
    } catch (const Error& error) {
      stopAt(i);
      logWarn("could not fetch WAL segment '{}': [{}] {}", name, errorSlug(error.code()), error.what());
      if (report) spool.writeError(name, error);
    }
  });
  logInfo("archive-get background process done: {} segment(s) fetched", fetched.load());
  return 0;
}

// After a segment was served: when fewer than half the window is left in the spool, fetch more.
void topUp(const Config& config, const Spool& spool, std::string_view served, const std::string& destination) {
  struct stat st {};
  if (::stat(destination.c_str(), &st) != 0 || !pg::isValidWalSegmentSize(static_cast<uint64_t>(st.st_size))) return;
  auto segmentSize = static_cast<uint32_t>(st.st_size);
  auto segment = pg::WalSegment::parse(served, segmentSize);
  if (!segment) return;
  size_t count = prefetchCount(config.bytes("archive-get-queue-max"), segmentSize);
  size_t ahead = 0;
  for (const auto& file : spool.list())
    if (auto held = pg::WalSegment::parse(file, segmentSize); held && held->number > segment->number) ++ahead;
  if (ahead * 2 >= count) return;
  std::string lockPath = ProcessLock::pathFor(config);
  if (ProcessLock::held(lockPath)) return;
  std::string next = segment->next().fileName(segmentSize);
  spawnDetached(asyncLogSettings(config), [&] { return fetchInBackground(config, next, false); });
}

}  // namespace

int runArchivePushAsync(const Config& config, const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  std::string walDirectory = std::filesystem::absolute(path).parent_path().string();
  FileStamp stamp = FileStamp::of(path);
  // The background process pushes what PostgreSQL marked ready; a file it did not mark (pushed by
  // hand) is pushed here and now.
  if (::access(fmt::format("{}/archive_status/{}.ready", walDirectory, name).c_str(), F_OK) != 0) {
    logDetail("{} is not marked ready for archiving in {}/archive_status: pushing it directly", name, walDirectory);
    return pushNow(config, path);
  }
  Spool spool(config, Spool::Direction::Out);
  // Only what the background process reports from now on counts: an earlier failure is retried.
  spool.remove(name + ".error");
  spool.remove("global.error");
  std::vector<std::string> warnings;
  auto done = [&]() -> bool {
    if (auto pushed = spool.readPushed(name)) {
      // The .ok stays until PostgreSQL has marked the file .done: the background process removes
      // it then (pendingPushes). Removed here, the background process's next listing would still
      // see the file .ready without a status and push all of it again.
      if (pushed->stamp == stamp) {
        warnings = std::move(pushed->warnings);
        return true;
      }
      spool.remove(name + ".ok");
      logDetail("ignoring a status file left by an earlier WAL file named {}", name);
    }
    if (auto error = spool.readError(name)) {
      spool.remove(name + ".error");
      throw *error;
    }
    if (auto error = spool.readError("")) {
      spool.remove("global.error");
      throw *error;
    }
    return false;
  };
  auto start = [&] {
    spawnDetached(asyncLogSettings(config), [&] { return pushInBackground(config, walDirectory); });
  };
  auto timeout = config.duration("archive-timeout");
  if (!waitForBackground(ProcessLock::pathFor(config), timeout, done, start))
    fail(ErrorCode::ArchiveTimeout,
         "WAL file '{}' was not pushed by the background archive-push process within archive-timeout ({} s); see "
         "its log {}",
         name, static_cast<double>(timeout.count()) / 1000, describeLog(config));
  for (const auto& warning : warnings) logWarn("{}", warning);
  if (warnings.empty()) logInfo("pushed WAL file {} to the archive asynchronously", name);
  return 0;
}

int runArchiveGetAsync(const Config& config, const std::string& name, const std::string& destination) {
  Spool spool(config, Spool::Direction::In);
  // Only answers to this request count: "missing" from an earlier one may no longer be true.
  spool.remove(name + ".missing");
  spool.remove(name + ".error");
  spool.remove("global.error");
  auto done = [&]() -> bool {
    if (takeFromSpool(spool, name, destination)) return true;
    if (spool.hasMissing(name)) {
      spool.remove(name + ".missing");
      fail(ErrorCode::ArchiveMissing, "WAL file '{}' is not in the archive of stanza '{}'", name, config.stanza());
    }
    if (auto error = spool.readError(name)) {
      spool.remove(name + ".error");
      throw *error;
    }
    if (auto error = spool.readError("")) {
      spool.remove("global.error");
      throw *error;
    }
    return false;
  };
  auto start = [&] {
    spawnDetached(asyncLogSettings(config), [&] { return fetchInBackground(config, name, true); });
  };
  auto timeout = config.duration("archive-timeout");
  if (!waitForBackground(ProcessLock::pathFor(config), timeout, done, start))
    fail(ErrorCode::ArchiveTimeout,
         "WAL segment '{}' was not fetched by the background archive-get process within archive-timeout ({} s); "
         "see its log {}",
         name, static_cast<double>(timeout.count()) / 1000, describeLog(config));
  logInfo("fetched WAL file {} from the archive (prefetched asynchronously)", name);
  topUp(config, spool, name, destination);
  return 0;
}

size_t prefetchCount(uint64_t queueMax, uint32_t segmentSize) {
  return std::max<size_t>(2, segmentSize == 0 ? 0 : static_cast<size_t>(queueMax / segmentSize));
}

std::vector<std::string> prefetchWindow(std::string_view head, uint32_t segmentSize, size_t count) {
  std::vector<std::string> names;
  auto segment = pg::WalSegment::parse(head, segmentSize);
  if (!segment) return names;
  // Segment numbers end where the 64-bit address space does.
  uint64_t last = UINT64_MAX / segmentSize;
  for (size_t i = 0; i < count && segment->number <= last; ++i) {
    names.push_back(segment->fileName(segmentSize));
    if (segment->number == last) break;
    *segment = segment->next();
  }
  return names;
}

std::vector<std::string> staleSpoolFiles(const std::vector<std::string>& files, std::string_view head,
                                         uint32_t segmentSize, size_t count) {
  std::vector<std::string> stale;
  auto first = pg::WalSegment::parse(head, segmentSize);
  for (const auto& file : files) {
    if (file == "identity" || file == "global.error") continue;
    if (pg::walFileKind(file) == pg::WalFileKind::Segment) {
      auto segment = pg::WalSegment::parse(file, segmentSize);
      if (first && segment && segment->number >= first->number && segment->number - first->number < count) continue;
    } else if ((file == std::string(head) + ".missing" || file == std::string(head) + ".error")) {
      continue;
    }
    stale.push_back(file);
  }
  return stale;
}

}  // namespace pgbr::agent
