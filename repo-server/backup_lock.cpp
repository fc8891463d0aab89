#include "repo-server/backup_lock.h"

#include "common/error.h"
#include "repo-server/json_object.h"

namespace pgbr::repo {

BackupLocks::Guard::~Guard() {
  if (!active_) return;
  std::lock_guard lock(locks_->mutex_);
  auto it = locks_->active_.find(active_->stanza);
  if (it != locks_->active_.end() && it->second == active_) locks_->active_.erase(it);
}

void BackupLocks::Guard::setLabel(std::string label) {
  std::lock_guard lock(locks_->mutex_);
  active_->label = std::move(label);
}

BackupLocks::Guard BackupLocks::acquire(std::string_view stanza, std::string holder) {
  std::lock_guard lock(mutex_);
  if (auto it = active_.find(stanza); it != active_.end()) {
    const Active& running = *it->second;
    fail(ErrorCode::BackupInProgress,
         "a backup of stanza '{}' is already running{} (started {} by {}): wait for it to finish, or stop it", stanza,
         running.label.empty() ? "" : " as " + running.label, utcTimestamp(running.since), running.holder);
  }
  auto active = std::make_shared<Active>();
  active->stanza = std::string(stanza);
  active->holder = std::move(holder);
  active->since = std::time(nullptr);
  active_.emplace(active->stanza, active);
  return Guard(*this, std::move(active));
}

void BackupLocks::addStored(std::string_view stanza, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  if (auto it = active_.find(stanza); it != active_.end()) it->second->bytesStored += bytes;
}

bool BackupLocks::held(std::string_view stanza) const {
  std::lock_guard lock(mutex_);
  return active_.contains(stanza);
}

}  // namespace pgbr::repo
