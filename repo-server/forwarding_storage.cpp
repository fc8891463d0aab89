#include "repo-server/forwarding_storage.h"

#include "common/error.h"
#include "common/log.h"
#include "common/storage/path.h"
#include "common/storage/posix_storage.h"
#include "common/text.h"

#include <algorithm>
#include <map>
#include <set>

namespace pgbr::repo {
namespace {

constexpr std::string_view kPacks = "packs";

// A writer of the primary that queues its object for the targets once it is durable.
class ForwardingWriter final : public StorageWriter {
 public:
  ForwardingWriter(ForwardingStorage& owner, std::string path, std::unique_ptr<StorageWriter> inner)
      : owner_(owner), path_(std::move(path)), inner_(std::move(inner)) {}
  void write(std::span<const uint8_t> data) override {
    inner_->write(data);
    bytes_ += data.size();
  }
  void finish() override {
    inner_->finish();
    if (inner_->result() == WriteResult::Written) owner_.written(path_, bytes_);
  }
  void cancel() noexcept override { inner_->cancel(); }
  WriteResult result() const override { return inner_->result(); }

 private:
  ForwardingStorage& owner_;
  std::string path_;
  std::unique_ptr<StorageWriter> inner_;
  uint64_t bytes_ = 0;
};

bool isPacks(std::string_view path) { return path == kPacks || path.starts_with("packs/"); }

}  // namespace

int forwardRank(std::string_view path) {
  if (path.starts_with("keys/")) return 0;
  if (path.starts_with("packs/")) return 1;
  if (path.starts_with("index/")) return 2;
  if (path.starts_with("stanzas/") && path.find("/backups/") != std::string_view::npos) return 5;
  if (path.starts_with("stanzas/")) return 3;
  if (path == "pgbr-repository.json") return 4;
  return 6;
}

struct ForwardingStorage::Target {
  std::string name;
  Storage* storage;
  ForwardQueue queue;
  std::thread thread;
  mutable std::mutex mutex;  // guards the fields below
  std::string lastError;
  uint64_t forwarded = 0;
  uint64_t forwardedBytes = 0;
  bool caughtUp = false;

  Target(std::string n, Storage* s, const std::string& directory)
      : name(std::move(n)), storage(s), queue(directory) {}
};

ForwardingStorage::ForwardingStorage(Storage& primary, std::vector<ForwardTarget> targets,
                                     const std::string& queueRoot, ForwardingOptions options)
    : primary_(primary), options_(std::move(options)) {
  for (auto& target : targets)
    targets_.push_back(std::make_unique<Target>(target.name, target.storage, queueRoot + "/" + target.name));
}

ForwardingStorage::~ForwardingStorage() {
  stopping_ = true;
  for (auto& target : targets_) {
    target->queue.wake();
    if (target->thread.joinable()) target->thread.join();
  }
}

void ForwardingStorage::start() {
  for (auto& target : targets_) {
    Target* t = target.get();
    t->thread = std::thread([this, t] { run(*t); });
  }
}

bool ForwardingStorage::excluded(std::string_view path) const {
  for (const auto& prefix : options_.excluded)
    if (path == prefix || (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/'))
      return true;
  return PosixStorage::isTemporaryName(baseName(path));
}

void ForwardingStorage::written(const std::string& path, uint64_t size) {
  for (auto& target : targets_) {
    try {
      target->queue.push(ForwardEntry::Op::Put, path, size);
    } catch (const Error& error) {
      // The object is durable in the primary: the write stands, and the forwarder's comparison
      // at the next start queues what is missing.
      logError("cannot queue {} for {}: {}; it will be forwarded after the next restart", primary_.describe(path),
               target->name, error.what());
    }
  }
}

// ---- the Storage calls -----------------------------------------------------------------------

std::unique_ptr<StorageReader> ForwardingStorage::openRead(std::string_view path, uint64_t offset,
                                                           std::optional<uint64_t> length) {
  try {
    return primary_.openRead(path, offset, length);
  } catch (const Error& missing) {
    if (missing.code() != ErrorCode::FileMissing) throw;
    for (auto& target : targets_) {
      try {
        auto reader = target->storage->openRead(path, offset, length);
        logDetail("{} is missing: reading it from {} ({})", primary_.describe(path), target->name,
                  target->storage->describe(path));
        return reader;
      } catch (const Error& error) {
        if (error.code() != ErrorCode::FileMissing) logWarn("{}: {}", target->name, error.what());
      }
    }
    throw;
  }
}

WriteResult ForwardingStorage::write(std::string_view path, std::span<const uint8_t> data, WriteMode mode) {
  WriteResult result = primary_.write(path, data, mode);
  if (result == WriteResult::Written) written(std::string(path), data.size());
  return result;
}

std::unique_ptr<StorageWriter> ForwardingStorage::openWrite(std::string_view path, WriteMode mode) {
  return std::make_unique<ForwardingWriter>(*this, std::string(path), primary_.openWrite(path, mode));
}

std::vector<ListEntry> ForwardingStorage::list(std::string_view directory, bool recursive) {
  auto entries = primary_.list(directory, recursive);
  // The server's own files beside the repository (its lock, the queues) are not objects of it.
  if (directory.empty())
    std::erase_if(entries, [&](const ListEntry& entry) { return excluded(entry.path); });
  if (!isPacks(directory)) return entries;
  std::map<std::string, ListEntry> merged;
  for (auto& entry : entries) merged.emplace(entry.path, std::move(entry));
  for (auto& target : targets_) {
    try {
      for (auto& entry : target->storage->list(directory, recursive)) merged.emplace(entry.path, std::move(entry));
    } catch (const Error& error) {
      logWarn("cannot list {} on {}: {}", target->storage->describe(directory), target->name, error.what());
    }
  }
  std::vector<ListEntry> out;
  for (auto& [path, entry] : merged) out.push_back(std::move(entry));
  return out;
}

bool ForwardingStorage::exists(std::string_view path) { return info(path).has_value(); }

std::optional<ObjectInfo> ForwardingStorage::info(std::string_view path) {
  if (auto found = primary_.info(path)) return found;
  for (auto& target : targets_) {
    try {
      if (auto found = target->storage->info(path)) return found;
    } catch (const Error& error) {
      logWarn("{}: {}", target->name, error.what());
    }
  }
  return std::nullopt;
}

bool ForwardingStorage::remove(std::string_view path) {
  bool removed = primary_.remove(path);
  if (removed)
    for (auto& target : targets_) target->queue.push(ForwardEntry::Op::Remove, std::string(path), 0);
  return removed;
}

void ForwardingStorage::removeTree(std::string_view path) {
  primary_.removeTree(path);
  for (auto& target : targets_) target->queue.push(ForwardEntry::Op::RemoveTree, std::string(path), 0);
}

// ---- the forwarders --------------------------------------------------------------------------

void ForwardingStorage::catchUp(Target& target) {
  std::set<std::string> present;
  for (auto& entry : target.storage->list("", true)) present.insert(std::move(entry.path));
  std::vector<ListEntry> missing;
  for (auto& entry : primary_.list("", true))
    if (!excluded(entry.path) && !present.contains(entry.path) && !target.queue.contains(entry.path))
      missing.push_back(std::move(entry));
  std::stable_sort(missing.begin(), missing.end(), [](const ListEntry& a, const ListEntry& b) {
    return forwardRank(a.path) < forwardRank(b.path);
  });
  if (!missing.empty())
    logInfo("{} ({}) lacks {} object(s) of the repository: queued to forward", target.name,
            target.storage->describe(""), missing.size());
  for (const auto& entry : missing) target.queue.push(ForwardEntry::Op::Put, entry.path, entry.size);
}

void ForwardingStorage::apply(Target& target, const ForwardEntry& entry) {
  Storage& to = *target.storage;
  switch (entry.op) {
    case ForwardEntry::Op::Remove:
      to.remove(entry.path);
      return;
    case ForwardEntry::Op::RemoveTree:
      to.removeTree(entry.path);
      return;
    case ForwardEntry::Op::Put:
      break;
  }
  // Names are write-once: an object the target holds is the same object.
  if (to.exists(entry.path)) return;
  std::unique_ptr<StorageReader> reader;
  try {
    reader = primary_.openRead(entry.path);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::FileMissing) throw;
    logDetail("{}: {} was removed before it was forwarded", target.name, primary_.describe(entry.path));
    return;
  }
  auto writer = to.openWrite(entry.path, WriteMode::IfAbsent);
  std::vector<uint8_t> buffer(1024 * 1024);
  uint64_t copied = 0;
  try {
    while (size_t n = reader->read(buffer)) {
      writer->write(std::span(buffer).first(n));
      copied += n;
    }
    writer->finish();
  } catch (...) {
    writer->cancel();
    throw;
  }
  std::lock_guard lock(target.mutex);
  ++target.forwarded;
  target.forwardedBytes += copied;
}

void ForwardingStorage::run(Target& target) {
  auto delay = options_.firstRetryDelay;
  auto pause = [&](std::chrono::milliseconds duration) {
    auto until = std::chrono::steady_clock::now() + duration;
    while (!stopping_ && std::chrono::steady_clock::now() < until) target.queue.front(std::chrono::milliseconds(200));
  };
  auto lastReport = std::chrono::steady_clock::now();
  while (!stopping_) {
    // The lag, once a minute while there is any.
    if (std::chrono::steady_clock::now() - lastReport >= std::chrono::minutes(1)) {
      lastReport = std::chrono::steady_clock::now();
      auto stats = target.queue.stats();
      if (stats.pending > 0)
        logInfo("forwarding to {}: {} object(s) ({}) pending, the oldest queued {:.0f} s ago", target.name,
                stats.pending, formatBytes(stats.pendingBytes),
                std::chrono::duration<double>(std::chrono::system_clock::now() - *stats.oldest).count());
    }
    try {
      if (!target.caughtUp) {
        catchUp(target);
        std::lock_guard lock(target.mutex);
        target.caughtUp = true;
      }
      auto entry = target.queue.front(std::chrono::milliseconds(500));
      if (!entry) continue;
      apply(target, *entry);
      delay = options_.firstRetryDelay;
      {
        // Cleared before the pop: whoever sees the queue drained also sees the error gone.
        std::lock_guard lock(target.mutex);
        target.lastError.clear();
      }
      target.queue.pop(entry->seq);
    } catch (const std::exception& error) {
      {
        std::lock_guard lock(target.mutex);
        target.lastError = error.what();
      }
      logWarn("forwarding to {} failed: {} (next attempt in {} s)", target.name, error.what(),
              static_cast<double>(delay.count()) / 1000.0);
      pause(delay);
      delay = std::min(delay * 2, options_.maxRetryDelay);
    }
  }
}

nlohmann::json ForwardingStorage::status() const {
  nlohmann::json out = nlohmann::json::array();
  auto now = std::chrono::system_clock::now();
  for (const auto& target : targets_) {
    auto stats = target->queue.stats();
    std::lock_guard lock(target->mutex);
    double lag = stats.oldest ? std::chrono::duration<double>(now - *stats.oldest).count() : 0.0;
    out.push_back(nlohmann::json{{"name", target->name},
                                 {"location", target->storage->describe("")},
                                 {"pending", stats.pending},
                                 {"pendingBytes", stats.pendingBytes},
                                 {"lagSeconds", std::max(0.0, lag)},
                                 {"forwarded", target->forwarded},
                                 {"forwardedBytes", target->forwardedBytes},
                                 {"caughtUp", target->caughtUp},
                                 {"lastError", target->lastError}});
  }
  return out;
}

bool ForwardingStorage::waitIdle(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool idle = true;
    for (const auto& target : targets_) {
      std::lock_guard lock(target->mutex);
      idle = idle && target->caughtUp && target->queue.stats().pending == 0;
    }
    if (idle) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace pgbr::repo
