// The spool of asynchronous archiving (spool-path) and the machinery around it: where the status
// files and prefetched segments of a stanza live, the status files themselves, the lock that keeps
// one background process per stanza and direction, and starting that process detached.
//
//   <spool-path>/archive/<stanza>/out/<wal>.ok       pushed (durable); first line "<size> <mtime-ns>"
//                                                    of the file pushed, then warnings, one a line
//   <spool-path>/archive/<stanza>/out/<wal>.error    not pushed: first line the error code, then the message
//   <spool-path>/archive/<stanza>/out/global.error   the background process failed before any file
//   <spool-path>/archive/<stanza>/in/<segment>       fetched ahead, checked and fsynced
//   <spool-path>/archive/<stanza>/in/<segment>.missing  the archive does not have the requested segment
//   <spool-path>/archive/<stanza>/in/<segment>.error, global.error   as for out/
//   <spool-path>/archive/<stanza>/in/identity        "<system-id> <segment-size>" of the stanza whose
//                                                    segments the directory holds
//
// Every status file is written under a temporary name and renamed, so a reader sees it whole or
// not at all. The spool need not survive a crash: a lost status file only makes PostgreSQL ask
// again. Plain values and functions; a Spool may be used by several threads at once (each status
// file is written by one thread).
#pragma once

#include "common/config/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/storage/posix_io.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

// Size and modification time of a WAL file when it was pushed, so that a status file left from an
// earlier file of the same name (a restored cluster reusing names) is never taken for this one.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtimeNs = 0;

  // Throws FileMissing/FileOpen naming path.
  static FileStamp of(const std::string& path);
  bool operator==(const FileStamp&) const = default;
};

struct PushedStatus {
  FileStamp stamp;
  std::vector<std::string> warnings;
};

class Spool {
 public:
  enum class Direction { Out, In };

  // The directory <spool-path>/archive/<stanza>/<out|in>, created (with its parents) if missing.
  Spool(const Config& config, Direction direction);
  // The same for a given spool path and stanza (tests).
  Spool(const std::string& spoolPath, const std::string& stanza, Direction direction);

  const std::string& directory() const { return directory_; }
  std::string path(std::string_view file) const { return directory_ + "/" + std::string(file); }

  // <name>.ok with the stamp and warnings.
  void writePushed(std::string_view name, const FileStamp& stamp, const std::vector<std::string>& warnings) const;
  std::optional<PushedStatus> readPushed(std::string_view name) const;
  // <name>.error, or global.error for an empty name.
  void writeError(std::string_view name, const Error& error) const;
  std::optional<Error> readError(std::string_view name) const;
  // <name>.missing
  void writeMissing(std::string_view name) const;
  bool hasMissing(std::string_view name) const;

  // Removes a file of the spool; a missing one is fine.
  void remove(std::string_view file) const;
  // Every file name in the directory (not the temporary ones), sorted.
  std::vector<std::string> list() const;
  // Writes content to file through a temporary name; with durable, fsyncs it before the rename.
  void writeFile(std::string_view file, std::string_view content, bool durable) const;
  std::optional<std::string> readFile(std::string_view file) const;

 private:
  std::string directory_;
};

// An exclusive flock on <lock-path>/<stanza>-<name>.lock: one background process per stanza and
// direction. Held while the object lives; released by the kernel when the process dies.
class ProcessLock {
 public:
  // Takes the lock without waiting; nullopt when another process holds it.
  static std::optional<ProcessLock> tryAcquire(const std::string& path);
  // True when some process holds the lock (the background process is running).
  static bool held(const std::string& path);
  // <lock-path>/<stanza>-<command>-async.lock
  static std::string pathFor(const Config& config);

 private:
  explicit ProcessLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Runs body in a detached grandchild process: its own session, stdin, stdout and stderr on
// /dev/null, every other inherited descriptor closed, logging only to `log` (console off), so that
// neither PostgreSQL nor whoever started the command waits for it. Returns in the caller once the
// grandchild exists. Call only while this process has a single thread. body's result is the
// grandchild's exit code; an exception it throws is logged and exits with its code.
void spawnDetached(const LogSettings& log, const std::function<int()>& body);

// How a foreground command waits for its background process: calls done() until it returns true
// (done may throw what the process reported), starting the process with start() whenever none
// holds lockPath (at most every 250 ms); false when timeout passes first. Polls every 2 ms at
// most during the first second, every 20 ms after.
bool waitForBackground(const std::string& lockPath, std::chrono::milliseconds timeout,
                       const std::function<bool()>& done, const std::function<void()>& start);

// The log settings of a background process: the command's file level and log-path, the file
// <stanza>-<command>-async.log, no console.
LogSettings asyncLogSettings(const Config& config);

}  // namespace pgbr::agent
