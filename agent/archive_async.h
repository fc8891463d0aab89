// Asynchronous archive-push and archive-get (archive-async=y).
//
// archive-push: the command PostgreSQL runs waits until the spool says its file is pushed
// (<wal>.ok, written only once the repository answered that the file is durable) or failed
// (<wal>.error, global.error), and starts the background process whenever none runs. The
// background process (one per stanza, under a lock in lock-path) pushes every file PostgreSQL has
// marked .ready, process-max at a time over one connection, ahead of PostgreSQL's calls, until
// none is left; each worker sends its next file while the server makes the previous one durable. When the ready WAL exceeds archive-push-queue-max it drops all of it instead:
// <wal>.ok with a warning that the foreground command logs to PostgreSQL's log.
//
// archive-get: segments only (timeline histories are always fetched synchronously). The command
// PostgreSQL runs renames the segment from the spool when it is there; otherwise it starts the
// background process for it and waits for the segment, <segment>.missing (exit 1, quietly) or an
// error. The background process fetches the requested segment and the following ones on its
// timeline, up to archive-get-queue-max, process-max at a time, each checked and fsynced before it
// appears in the spool; it stops at the first segment the archive lacks. Only the requested
// segment's absence or error is ever reported, and only to a command that asked after it cleared
// the old reports, so recovery never acts on a stale "missing".
#pragma once

#include "common/config/config.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

int runArchivePushAsync(const Config& config, const std::string& path);
int runArchiveGetAsync(const Config& config, const std::string& name, const std::string& destination);

// Segments a fetch keeps ahead: archive-get-queue-max in segments, at least 2.
size_t prefetchCount(uint64_t queueMax, uint32_t segmentSize);
// The segments a fetch for head wants in the spool: head and the following ones on its timeline,
// count in all (fewer at the end of the timeline's address space).
std::vector<std::string> prefetchWindow(std::string_view head, uint32_t segmentSize, size_t count);
// Of the spool's files, the segments outside the window's segment numbers (on any timeline) and
// the status files of other segments than head: what a fetch for head removes first.
std::vector<std::string> staleSpoolFiles(const std::vector<std::string>& files, std::string_view head,
                                         uint32_t segmentSize, size_t count);

}  // namespace pgbr::agent
