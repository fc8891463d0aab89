#include "common/pg/backup_label.h"

#include "common/error.h"
#include "common/text.h"

#include <charconv>

namespace pgbr::pg {
namespace {

struct WalLocation {
  Lsn lsn;
  std::string file;
};

// "0/2000028 (file 000000010000000000000002)"
WalLocation parseWalLocation(std::string_view value, std::string_view key, std::string_view source) {
  std::string what = fmt::format("{} {}", source, key);
  size_t space = value.find(' ');
  WalLocation location{Lsn::parseOrFail(value.substr(0, space), what), {}};
  if (space == std::string_view::npos) return location;
  std::string_view rest = trim(value.substr(space));
  constexpr std::string_view kPrefix = "(file ";
  if (rest.substr(0, kPrefix.size()) != kPrefix || rest.back() != ')' ||
      walFileKind(rest.substr(kPrefix.size(), rest.size() - kPrefix.size() - 1)) != WalFileKind::Segment)
    fail(ErrorCode::Format, "{} '{}' should end with '(file <WAL segment name>)'", what, value);
  location.file = std::string(rest.substr(kPrefix.size(), rest.size() - kPrefix.size() - 1));
  return location;
}

TimeLineId parseTimeline(std::string_view value, std::string_view key, std::string_view source) {
  TimeLineId tli = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), tli);
  if (ec != std::errc() || end != value.data() + value.size() || tli == 0)
    fail(ErrorCode::Format, "{} {} '{}' is not a timeline ID", source, key, value);
  return tli;
}

}  // namespace

BackupLabel parseBackupLabel(std::string_view content, std::string_view source) {
  BackupLabel result;
  size_t lineNumber = 0;
  for (const auto& rawLine : split(content, '\n')) {
    ++lineNumber;
    std::string_view line = rawLine;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos || colon == 0)
      fail(ErrorCode::Format, "{} line {} ('{}') is not of the form 'KEY: value'", source, lineNumber, line);
    // A LABEL is the rest of its line, whatever it holds; other values are trimmed.
    std::string key(line.substr(0, colon));
    std::string value(key == "LABEL" ? line.substr(colon + 2) : trim(line.substr(colon + 2)));
    result.fields[key] = value;
  }

  auto field = [&](const char* key) -> const std::string* {
    auto it = result.fields.find(key);
    return it == result.fields.end() ? nullptr : &it->second;
  };
  const std::string* start = field("START WAL LOCATION");
  const std::string* checkpoint = field("CHECKPOINT LOCATION");
  if (!start || !checkpoint)
    fail(ErrorCode::Format, "{} lacks {}: it is not a backup_label", source,
         !start ? "START WAL LOCATION" : "CHECKPOINT LOCATION");

  auto startLocation = parseWalLocation(*start, "START WAL LOCATION", source);
  result.startWalLocation = startLocation.lsn;
  result.startWalFile = startLocation.file;
  result.checkpointLocation = Lsn::parseOrFail(*checkpoint, fmt::format("{} CHECKPOINT LOCATION", source));
  if (const auto* v = field("START TIMELINE"))
    result.startTimeline = parseTimeline(*v, "START TIMELINE", source);
  else if (auto tli = walFileTimeline(result.startWalFile))
    result.startTimeline = *tli;
  if (const auto* v = field("BACKUP METHOD")) result.backupMethod = *v;
  if (const auto* v = field("BACKUP FROM")) result.backupFrom = *v;
  if (const auto* v = field("START TIME")) result.startTime = *v;
  if (const auto* v = field("LABEL")) result.label = *v;
  if (const auto* v = field("STOP WAL LOCATION")) {
    auto stop = parseWalLocation(*v, "STOP WAL LOCATION", source);
    result.stopWalLocation = stop.lsn;
    result.stopWalFile = stop.file;
  }
  if (const auto* v = field("STOP TIME")) result.stopTime = *v;
  if (const auto* v = field("STOP TIMELINE")) result.stopTimeline = parseTimeline(*v, "STOP TIMELINE", source);
  return result;
}

}  // namespace pgbr::pg
