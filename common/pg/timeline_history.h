// Timeline history files ("00000003.history"): for each ancestor timeline of a timeline, the LSN
// where it was left. Recovery and restore follow them to know which timeline holds a given LSN.
// Pure functions and value types; thread-safe.
#pragma once

#include "common/pg/lsn.h"
#include "common/pg/wal_name.h"

#include <string>
#include <string_view>
#include <vector>

namespace pgbr::pg {

struct TimelineSwitch {
  TimeLineId timeline = 0;  // the ancestor timeline
  Lsn switchPoint;          // its end: the first LSN that belongs to the next timeline
  std::string reason;       // free text PostgreSQL wrote ("no recovery target specified", ...)
};

// The history of one timeline: its ancestors in order, oldest first.
struct TimelineHistory {
  TimeLineId timeline = 0;
  std::vector<TimelineSwitch> switches;

  // The timeline of this history that holds lsn: the first ancestor whose switch point lies after
  // lsn, else the timeline itself.
  TimeLineId timelineOf(Lsn lsn) const;
  // True when ancestor is this timeline or one of its ancestors.
  bool descendsFrom(TimeLineId ancestor) const;
};

// Parses the content of the history file of timeline as PostgreSQL's readTimeLineHistory does:
// blank lines and '#' comments are skipped; each entry is "<timeline> <lsn> <reason>"; timelines
// increase and stay below the file's own. source names the file in messages; throws Error(Format)
// naming the line on any syntax or ordering error.
TimelineHistory parseTimelineHistory(std::string_view content, TimeLineId timeline, std::string_view source);

}  // namespace pgbr::pg
