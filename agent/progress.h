// Progress of long work (backup, restore) for the console: files and bytes done of the total, the
// average rate and the time left, logged at info level every few seconds. Short runs stay quiet:
// the first line comes only after the first interval. formatProgress() is the pure part.
//
// Progress counters are atomics that any worker may add to; a ProgressReporter owns one thread
// that logs them and is stopped (and joined) by its destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace pgbr::agent {

struct ProgressSnapshot {
  uint64_t filesDone = 0;
  uint64_t filesTotal = 0;
  uint64_t bytesDone = 0;
  uint64_t bytesTotal = 0;
  std::chrono::milliseconds elapsed{0};
};

// "1:05", "12:00:07": hours only when needed.
std::string formatDuration(std::chrono::seconds duration);

// "backup: 1234/5678 files, 1.2 GiB of 4.5 GiB (27%), 85.3 MiB/s, about 0:40 left". The percentage
// is of bytes; a total exceeded by files that grew is shown as 99% until the end; rate and time
// left appear once there is a rate to speak of.
std::string formatProgress(std::string_view what, const ProgressSnapshot& snapshot);

class Progress {
 public:
  Progress(uint64_t filesTotal, uint64_t bytesTotal)
      : filesTotal_(filesTotal), bytesTotal_(bytesTotal), start_(std::chrono::steady_clock::now()) {}

  void addBytes(uint64_t bytes) { bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void addFile() { files_.fetch_add(1, std::memory_order_relaxed); }
  ProgressSnapshot snapshot() const;

 private:
  std::atomic<uint64_t> files_{0};
  std::atomic<uint64_t> bytes_{0};
  uint64_t filesTotal_;
  uint64_t bytesTotal_;
  std::chrono::steady_clock::time_point start_;
};

class ProgressReporter {
 public:
  // Logs formatProgress(what, …) at info level every `interval`, starting one interval from now;
  // detail(), when given, is appended after a semicolon (e.g. a restore's bytes fetched and kept).
  ProgressReporter(std::string what, const Progress& progress,
                   std::chrono::milliseconds interval = std::chrono::seconds(5),
                   std::function<std::string()> detail = {});
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

 private:
  void loop();

  std::string what_;
  const Progress& progress_;
  std::chrono::milliseconds interval_;
  std::function<std::string()> detail_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pgbr::agent
