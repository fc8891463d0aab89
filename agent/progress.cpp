#include "agent/progress.h"

#include "common/log.h"
#include "common/text.h"

#include <fmt/format.h>

namespace pgbr::agent {

std::string formatDuration(std::chrono::seconds duration) {
  long long total = std::max<long long>(0, duration.count());
  long long hours = total / 3600, minutes = total / 60 % 60, seconds = total % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, seconds);
  return fmt::format("{}:{:02}", minutes, seconds);
}

std::string formatProgress(std::string_view what, const ProgressSnapshot& s) {
  std::string line = fmt::format("{}: {}/{} files, {} of {}", what, s.filesDone, s.filesTotal, formatBytes(s.bytesDone),
                                 formatBytes(s.bytesTotal));
  if (s.bytesTotal > 0) {
    uint64_t percent = s.bytesDone >= s.bytesTotal ? 99 : s.bytesDone * 100 / s.bytesTotal;
    line += fmt::format(" ({}%)", percent);
  }
  double seconds = static_cast<double>(s.elapsed.count()) / 1000.0;
  if (seconds >= 1.0 && s.bytesDone > 0) {
    double rate = static_cast<double>(s.bytesDone) / seconds;
    line += fmt::format(", {}/s", formatBytes(static_cast<uint64_t>(rate)));
    if (s.bytesTotal > s.bytesDone) {
      auto left =
          std::chrono::seconds(static_cast<long long>(static_cast<double>(s.bytesTotal - s.bytesDone) / rate + 0.5));
      line += fmt::format(", about {} left", formatDuration(left));
    }
  }
  return line;
}

ProgressSnapshot Progress::snapshot() const {
  return {.filesDone = files_.load(std::memory_order_relaxed),
          .filesTotal = filesTotal_,
          .bytesDone = bytes_.load(std::memory_order_relaxed),
          .bytesTotal = bytesTotal_,
          .elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_)};
}

ProgressReporter::ProgressReporter(std::string what, const Progress& progress, std::chrono::milliseconds interval,
                                   std::function<std::string()> detail)
    : what_(std::move(what)), progress_(progress), interval_(interval), detail_(std::move(detail)) {
  if (logEnabled(LogLevel::Info)) thread_ = std::thread([this] { loop(); });
}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProgressReporter::loop() {
  std::unique_lock lock(mutex_);
  while (!stop_.wait_for(lock, interval_, [&] { return stopping_; })) {
    std::string line = formatProgress(what_, progress_.snapshot());
    if (detail_) line += "; " + detail_();
    logInfo("{}", line);
  }
}

}  // namespace pgbr::agent
