#include "repo-server/forward_queue.h"

#include "common/error.h"
#include "repo-server/json_object.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgbr::repo {
namespace {

std::string_view opName(ForwardEntry::Op op) {
  switch (op) {
    case ForwardEntry::Op::Put: return "put";
    case ForwardEntry::Op::Remove: return "remove";
    case ForwardEntry::Op::RemoveTree: return "remove-tree";
  }
  return "put";
}

}  // namespace

std::string ForwardQueue::fileName(uint64_t seq) { return fmt::format("{:016x}.json", seq); }

ForwardQueue::ForwardQueue(const std::string& directory) : directory_(directory), files_(directory) {
  files_.createDirectory("");
  for (const auto& entry : files_.list("")) {
    if (entry.directory || !entry.path.ends_with(".json") || entry.path.size() != 21) continue;
    std::string what = files_.describe(entry.path);
    auto json = readJsonObject(files_, entry.path);
    if (!json) continue;
    ForwardEntry parsed;
    try {
      parsed.seq = std::stoull(entry.path.substr(0, 16), nullptr, 16);
      std::string op = jsonField<std::string>(*json, "op", what);
      parsed.op = op == "put" ? ForwardEntry::Op::Put : op == "remove" ? ForwardEntry::Op::Remove
                  : op == "remove-tree" ? ForwardEntry::Op::RemoveTree
                  : throw Error(ErrorCode::Corrupt, fmt::format("{}: unknown op '{}'", what, op));
      parsed.path = jsonField<std::string>(*json, "path", what);
      parsed.size = jsonField<uint64_t>(*json, "size", what);
      parsed.queued = std::chrono::system_clock::time_point(std::chrono::seconds(jsonField<int64_t>(*json, "queued", what)));
    } catch (const std::invalid_argument&) {
      fail(ErrorCode::Corrupt, "{} is not a forward queue entry", what);
    }
    entries_.push_back(std::move(parsed));
  }
  std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  if (!entries_.empty()) nextSeq_ = entries_.back().seq + 1;
}

void ForwardQueue::push(ForwardEntry::Op op, const std::string& path, uint64_t size) {
  auto now = std::chrono::system_clock::now();
  std::unique_lock lock(mutex_);
  uint64_t seq = nextSeq_++;
  nlohmann::json json{{"op", opName(op)},
                      {"path", path},
                      {"size", size},
                      {"queued", std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()}};
  // Written under the lock so entries become durable in sequence order.
  files_.write(fileName(seq), jsonBytes(json), WriteMode::IfAbsent);
  entries_.push_back(ForwardEntry{seq, op, path, size, now});
  changed_.notify_all();
}

std::optional<ForwardEntry> ForwardQueue::front(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  uint64_t wakes = wakes_;
  changed_.wait_for(lock, timeout, [&] { return !entries_.empty() || wakes_ != wakes; });
  if (entries_.empty()) return std::nullopt;
  return entries_.front();
}

void ForwardQueue::pop(uint64_t seq) {
  std::lock_guard lock(mutex_);
  files_.remove(fileName(seq));
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.seq == seq; });
  if (it != entries_.end()) entries_.erase(it);
}

void ForwardQueue::wake() {
  std::lock_guard lock(mutex_);
  ++wakes_;
  changed_.notify_all();
}

bool ForwardQueue::contains(const std::string& path) const {
  std::lock_guard lock(mutex_);
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return e.op == ForwardEntry::Op::Put && e.path == path; });
}

ForwardQueueStats ForwardQueue::stats() const {
  std::lock_guard lock(mutex_);
  ForwardQueueStats stats;
  stats.pending = entries_.size();
  for (const auto& entry : entries_) stats.pendingBytes += entry.size;
  if (!entries_.empty()) stats.oldest = entries_.front().queued;
  return stats;
}

}  // namespace pgbr::repo
