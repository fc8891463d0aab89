#include "common/pg/timeline_history.h"

#include "common/error.h"
#include "common/text.h"

#include <charconv>

namespace pgbr::pg {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view takeToken(std::string_view& text) {
  size_t start = 0;
  while (start < text.size() && isSpace(text[start])) ++start;
  size_t end = start;
  while (end < text.size() && !isSpace(text[end])) ++end;
  std::string_view token = text.substr(start, end - start);
  text.remove_prefix(end);
  return token;
}

}  // namespace

TimeLineId TimelineHistory::timelineOf(Lsn lsn) const {
  for (const auto& entry : switches)
    if (lsn < entry.switchPoint) return entry.timeline;
  return timeline;
}

bool TimelineHistory::descendsFrom(TimeLineId ancestor) const {
  if (ancestor == timeline) return true;
  for (const auto& entry : switches)
    if (entry.timeline == ancestor) return true;
  return false;
}

TimelineHistory parseTimelineHistory(std::string_view content, TimeLineId timeline, std::string_view source) {
  TimelineHistory history;
  history.timeline = timeline;
  size_t lineNumber = 0;
  for (const auto& rawLine : split(content, '\n')) {
    ++lineNumber;
    std::string_view line = trim(rawLine);
    if (line.empty() || line.front() == '#') continue;

    std::string_view rest = line;
    std::string_view tliText = takeToken(rest);
    TimeLineId tli = 0;
    auto [end, ec] = std::from_chars(tliText.data(), tliText.data() + tliText.size(), tli);
    if (ec != std::errc() || end != tliText.data() + tliText.size())
      fail(ErrorCode::Format, "timeline history '{}' line {} ('{}') does not start with a numeric timeline ID", source,
           lineNumber, line);
    auto switchPoint = Lsn::parse(takeToken(rest));
    if (!switchPoint)
      fail(ErrorCode::Format, "timeline history '{}' line {} ('{}') lacks a WAL switch point location (like 0/3000158)",
           source, lineNumber, line);
    if (!history.switches.empty() && tli <= history.switches.back().timeline)
      fail(ErrorCode::Format, "timeline history '{}' line {}: timeline IDs must increase, but {} follows {}", source,
           lineNumber, tli, history.switches.back().timeline);
    history.switches.push_back({tli, *switchPoint, std::string(trim(rest))});
  }
  if (!history.switches.empty() && history.switches.back().timeline >= timeline)
    fail(ErrorCode::Format, "timeline history '{}' of timeline {} lists timeline {}, which is not older than it",
         source, timeline, history.switches.back().timeline);
  return history;
}

}  // namespace pgbr::pg
