#include "agent/restore_target.h"

#include "agent/info_format.h"
#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <ctime>

namespace pgbr::agent {
namespace {

using nlohmann::json;

constexpr std::string_view kTimeForms =
    "'YYYY-MM-DD HH:MM:SS' with optional fractions of a second and an optional zone (Z, UTC or an offset such as "
    "+00, +02:00, -0530); without a zone it is this host's local time";

// Reads exactly `digits` decimal digits (or 1 to `digits` when atMost) from text.
std::optional<int> takeNumber(std::string_view& text, size_t digits, bool atMost = false) {
  size_t n = 0;
  while (n < digits && n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  if (n == 0 || (!atMost && n != digits)) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + n, value);
  text.remove_prefix(n);
  return value;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

int daysInMonth(int year, int month) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string formatOffset(int seconds) {
  char sign = seconds < 0 ? '-' : '+';
  int magnitude = std::abs(seconds);
  std::string out = fmt::format("{}{:02}", sign, magnitude / 3600);
  if (magnitude % 3600 != 0) out += fmt::format(":{:02}", magnitude % 3600 / 60);
  return out;
}

[[noreturn]] void badTarget(std::string_view type, std::string_view target, std::string_view why) {
  fail(ErrorCode::OptionInvalidValue, "--target '{}' is not a valid target for --type={}: {}", target, type, why);
}

std::string describeBackup(const ManifestHeader& backup) {
  return fmt::format("{} ({} backup on timeline {}, ended {} at LSN {})", backup.label, backup.type, backup.timeline,
                     formatTimestamp(backup.stopTime), backup.stopLsn);
}

std::string formatTargetTime(double unixSeconds) {
  auto seconds = static_cast<int64_t>(std::floor(unixSeconds));
  return formatTimestamp(seconds);
}

bool usesArchiveRecovery(const RecoveryOptions& recovery) {
  return recovery.type != "preserve" && recovery.type != "none";
}

std::optional<pg::TimeLineId> parseTimelineNumber(std::string_view text) {
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    base = 16;
    text.remove_prefix(2);
  }
  pg::TimeLineId value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<TargetTime> parseTargetTime(std::string_view text) {
  text = trim(text);
  auto year = takeNumber(text, 4);
  if (!year || !take(text, '-')) return std::nullopt;
  auto month = takeNumber(text, 2);
  if (!month || !take(text, '-')) return std::nullopt;
  auto day = takeNumber(text, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > daysInMonth(*year, *month)) return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  double fraction = 0;
  if (!text.empty() && (text.front() == ' ' || text.front() == 'T') && text.size() > 1 && text[1] >= '0' &&
      text[1] <= '9') {
    text.remove_prefix(1);
    auto h = takeNumber(text, 2, true);
    if (!h || !take(text, ':')) return std::nullopt;
    auto m = takeNumber(text, 2);
    if (!m) return std::nullopt;
    hour = *h;
    minute = *m;
    if (take(text, ':')) {
      auto s = takeNumber(text, 2);
      if (!s) return std::nullopt;
      second = *s;
      if (take(text, '.')) {
        size_t n = 0;
        while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
        if (n == 0 || n > 6) return std::nullopt;
        int digits = 0;
        std::from_chars(text.data(), text.data() + n, digits);
        fraction = digits / std::pow(10.0, static_cast<double>(n));
        text.remove_prefix(n);
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  }
  TargetTime result;
  std::string_view zone = trim(text);
  if (!zone.empty()) {
    result.zoneGiven = true;
    if (zone == "Z" || zone == "z" || zone == "UTC" || zone == "GMT") {
      result.offsetSeconds = 0;
    } else {
      int sign = zone.front() == '+' ? 1 : zone.front() == '-' ? -1 : 0;
      if (sign == 0) return std::nullopt;
      zone.remove_prefix(1);
      auto h = takeNumber(zone, 2, true);
      if (!h || *h > 15) return std::nullopt;
      int offset = *h * 3600;
      if (!zone.empty()) {
        take(zone, ':');
        auto m = takeNumber(zone, 2);
        if (!m || *m > 59 || !zone.empty()) return std::nullopt;
        offset += *m * 60;
      }
      result.offsetSeconds = sign * offset;
    }
  }
  int64_t local = daysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 +
                  hour * 3600 + minute * 60 + second;
  if (!result.zoneGiven) {
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    std::time_t instant = std::mktime(&tm);
    if (instant == static_cast<std::time_t>(-1)) return std::nullopt;
    std::tm back{};
    ::localtime_r(&instant, &back);
    result.offsetSeconds = static_cast<int>(back.tm_gmtoff);
    result.unixSeconds = static_cast<double>(instant) + fraction;
  } else {
    result.unixSeconds = static_cast<double>(local - result.offsetSeconds) + fraction;
  }
  return result;
}

std::string checkTarget(std::string_view type, std::string_view target) {
  if (type == "time") {
    auto time = parseTargetTime(target);
    if (!time) badTarget(type, target, fmt::format("expected {}", kTimeForms));
    std::string value(trim(target));
    if (!time->zoneGiven) {
      value += formatOffset(time->offsetSeconds);
      logInfo("--target '{}' has no time zone: it is read as local time here, and PostgreSQL is given '{}'", target,
              value);
    }
    return value;
  }
  if (type == "xid") {
    uint64_t xid = 0;
    auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), xid);
    if (target.empty() || ec != std::errc() || end != target.data() + target.size())
      badTarget(type, target, "expected a transaction id, a decimal number such as 1234");
    if (xid < 3) badTarget(type, target, "transaction ids 0, 1 and 2 are reserved by PostgreSQL and never commit");
    return std::string(target);
  }
  if (type == "lsn") {
    if (!pg::Lsn::parse(target))
      badTarget(type, target, "expected a WAL location such as 0/3000060 (two hexadecimal halves)");
    return std::string(target);
  }
  if (type == "name") {
    if (target.empty()) badTarget(type, target, "expected the name given to pg_create_restore_point()");
    if (target.size() > 63)
      badTarget(type, target, "restore point names are at most 63 bytes long in PostgreSQL");
    return std::string(target);
  }
  fail(ErrorCode::OptionInvalid, "--target is not used with --type={}: only time, xid, lsn and name have a target",
       type);
}

BackupChoice chooseBackup(const std::vector<ManifestHeader>& backups, const RecoveryOptions& recovery,
                          std::string_view set, const std::optional<TargetTimeline>& timeline,
                          std::string_view stanza) {
  if (backups.empty())
    fail(ErrorCode::BackupMissing, "stanza '{}' has no backup to restore: take one first with pgbr-agent backup",
         stanza);
  std::optional<TargetTime> time;
  std::optional<pg::Lsn> lsn;
  if (recovery.type == "time") time = parseTargetTime(recovery.target);
  if (recovery.type == "lsn") lsn = pg::Lsn::parse(recovery.target);

  // On the history of the timeline recovery follows: the backup's end lies on its own timeline
  // there (before the point where that timeline was left).
  auto onTimeline = [&](const ManifestHeader& backup) {
    if (!timeline) return true;
    auto stop = pg::Lsn::parse(backup.stopLsn);
    if (!stop || backup.timeline > timeline->timeline) return false;
    return timeline->history.timelineOf(*stop) == backup.timeline;
  };
  // A backup reaches the target when it is consistent before it. Stop times are whole seconds
  // taken after the backup ended, so the backup ended before stopTime + 1.
  auto reaches = [&](const ManifestHeader& backup) {
    if (time) return static_cast<double>(backup.stopTime) + 1 <= time->unixSeconds;
    if (lsn) {
      auto stop = pg::Lsn::parse(backup.stopLsn);
      return stop && *stop <= *lsn;
    }
    return true;
  };
  std::string targetText = time  ? fmt::format("time {}", recovery.target)
                           : lsn ? fmt::format("LSN {}", recovery.target)
                                 : std::string();
  std::string timelineText =
      timeline ? fmt::format("timeline {}", timeline->timeline) : std::string("the backup's timeline");

  if (!set.empty()) {
    auto it = std::find_if(backups.begin(), backups.end(), [&](const auto& b) { return b.label == set; });
    if (it == backups.end()) {
      std::vector<std::string> labels;
      for (const auto& b : backups) labels.push_back(b.label);
      fail(ErrorCode::BackupMissing, "--set={}: stanza '{}' has no such backup (its backups: {})", set, stanza,
           join(labels, ", "));
    }
    if (!onTimeline(*it))
      fail(ErrorCode::RestoreTarget,
           "--set={}: backup {} is not on the history of {}, which recovery follows (--target-timeline): recovery "
           "could not get from it to that timeline",
           set, describeBackup(*it), timelineText);
    if (!reaches(*it))
      fail(ErrorCode::RestoreTarget,
           "--set={}: backup {} ends after the target {}: recovery cannot stop before the backup is consistent; "
           "choose an older backup or leave out --set",
           set, describeBackup(*it), targetText);
    return {std::string(set), "given by --set"};
  }

  const ManifestHeader* oldestOnTimeline = nullptr;
  for (auto it = backups.rbegin(); it != backups.rend(); ++it) {
    if (!onTimeline(*it)) continue;
    oldestOnTimeline = &*it;
    if (!reaches(*it)) continue;
    std::string reason = time  ? "the newest backup that ended before the target time"
                         : lsn ? "the newest backup that ended before the target LSN"
                               : "the newest backup";
    if (timeline && it != backups.rbegin()) reason += fmt::format(" on the history of {}", timelineText);
    return {it->label, reason};
  }
  if (!oldestOnTimeline)
    fail(ErrorCode::RestoreTarget,
         "no backup of stanza '{}' is on the history of {}, which recovery would follow (the newest backup is {}); "
         "give --target-timeline=current or the number of a timeline the backups belong to",
         stanza, timelineText, describeBackup(backups.back()));
  fail(ErrorCode::RestoreTarget,
       "the target {} is before the end of the oldest backup of stanza '{}' that recovery could start from, {}: "
       "recovery to a point in time starts from a backup that was consistent before it (nothing was written)",
       time ? fmt::format("time {} ({})", recovery.target, formatTargetTime(time->unixSeconds)) : targetText, stanza,
       describeBackup(*oldestOnTimeline));
}

BackupChoice selectBackup(RepoClient& client, const Config& config, const RepoKeys& keys,
                          const RecoveryOptions& recovery) {
  std::string stanza = config.stanza();
  const json request = {{"op", "info"}, {"stanza", stanza}};
  auto stanzas = parseInfo(client.call(request));
  std::vector<ManifestHeader> backups = stanzas.empty() ? std::vector<ManifestHeader>{} : stanzas.front().backups;
  std::string set = config.isSet("set") ? config.str("set") : std::string();

  std::optional<TargetTimeline> timeline;
  std::string requested = recovery.targetTimeline.value_or("latest");
  if (usesArchiveRecovery(recovery) && requested != "current" && !backups.empty()) {
    ArchiveContext context{stanza, keys, {}, config.bytes("buffer-size")};
    auto history = [&](pg::TimeLineId tli) -> std::optional<pg::TimelineHistory> {
      if (tli == 1) return pg::TimelineHistory{1, {}};
      std::string name = pg::historyFileName(tli);
      auto content = fetchWalContent(client, context, name);
      if (!content) return std::nullopt;
      return pg::parseTimelineHistory(*content, tli, fmt::format("{} from the archive", name));
    };
    TargetTimeline target;
    if (requested == "latest") {
      // As PostgreSQL does: from the backups' timeline, the last of the history files that follow.
      pg::TimeLineId newest = backups.front().timeline;
      for (const auto& b : backups) newest = std::min(newest, b.timeline);
      while (newest < UINT32_MAX && fetchWalContent(client, context, pg::historyFileName(newest + 1))) ++newest;
      target.timeline = newest;
    } else {
      auto number = parseTimelineNumber(requested);
      if (!number)
        fail(ErrorCode::OptionInvalidValue, "--target-timeline '{}': expected current, latest or a timeline number",
             requested);
      target.timeline = *number;
    }
    if (auto found = history(target.timeline)) {
      target.history = std::move(*found);
    } else {
      bool ownTimeline = std::any_of(backups.begin(), backups.end(),
                                     [&](const auto& b) { return b.timeline == target.timeline; });
      if (!ownTimeline)
        fail(ErrorCode::RestoreTarget,
             "--target-timeline={}: the archive of stanza '{}' has no history file {} for that timeline, so "
             "recovery could not follow it",
             requested, stanza, pg::historyFileName(target.timeline));
      target.history = pg::TimelineHistory{target.timeline, {}};
    }
    timeline = std::move(target);
  }
  BackupChoice choice = chooseBackup(backups, recovery, set, timeline, stanza);
  logInfo("restoring backup {}: {}", choice.label, choice.reason);
  return choice;
}

}  // namespace pgbr::agent
