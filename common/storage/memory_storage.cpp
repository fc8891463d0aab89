#include "common/storage/memory_storage.h"

#include "common/error.h"
#include "common/storage/path.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pgbr {
namespace {

class MemoryReader final : public StorageReader {
public:
  MemoryReader(std::shared_ptr<const std::vector<uint8_t>> data, uint64_t offset, std::optional<uint64_t> length)
      : data_(std::move(data)) {
    uint64_t size = data_->size();
    position_ = std::min(offset, size);
    end_ = length ? position_ + std::min(*length, size - position_) : size;
  }

  size_t read(std::span<uint8_t> buffer) override {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end_ - position_));
    if (n > 0) std::memcpy(buffer.data(), data_->data() + position_, n);
    position_ += n;
    return n;
  }
  uint64_t objectSize() const override { return data_->size(); }
  size_t readAt(uint64_t offset, std::span<uint8_t> buffer) override {
    if (offset >= data_->size()) return 0;
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), data_->size() - offset));
    if (n > 0) std::memcpy(buffer.data(), data_->data() + offset, n);
    return n;
  }

private:
  std::shared_ptr<const std::vector<uint8_t>> data_;
  uint64_t position_ = 0;
  uint64_t end_ = 0;
};

class MemoryWriter final : public StorageWriter {
public:
  MemoryWriter(MemoryStorage& storage, std::string path, WriteMode mode)
      : storage_(storage), path_(std::move(path)), mode_(mode) {}

  void write(std::span<const uint8_t> data) override {
    if (state_ != State::Open) fail(ErrorCode::Internal, "write to '{}' after it was finished, cancelled or failed", path_);
    data_.insert(data_.end(), data.begin(), data.end());
  }
  void finish() override {
    if (state_ != State::Open) fail(ErrorCode::Internal, "finish of '{}' after it was finished, cancelled or failed", path_);
    state_ = State::Finished;
    result_ = storage_.publish(path_, std::move(data_), mode_);
  }
  void cancel() noexcept override {
    if (state_ == State::Finished) return;
    state_ = State::Cancelled;
    data_.clear();
  }
  WriteResult result() const override { return result_; }

private:
  enum class State { Open, Finished, Cancelled };
  MemoryStorage& storage_;
  std::string path_;
  WriteMode mode_;
  std::vector<uint8_t> data_;
  State state_ = State::Open;
  WriteResult result_ = WriteResult::Written;
};

bool isUnder(std::string_view path, std::string_view directory) {
  if (directory.empty()) return true;
  return path.size() > directory.size() && path.starts_with(directory) && path[directory.size()] == '/';
}

}  // namespace

std::string MemoryStorage::describe(std::string_view path) const { return "memory:" + std::string(path); }

std::unique_ptr<StorageReader> MemoryStorage::openRead(std::string_view path, uint64_t offset,
                                                       std::optional<uint64_t> length) {
  validatePath(path);
  std::lock_guard lock(mutex_);
  auto it = objects_.find(path);
  if (it == objects_.end()) failErrno(ErrorCode::FileMissing, "cannot read", describe(path), ENOENT);
  return std::make_unique<MemoryReader>(it->second.data, offset, length);
}

std::unique_ptr<StorageWriter> MemoryStorage::openWrite(std::string_view path, WriteMode mode) {
  validatePath(path);
  return std::make_unique<MemoryWriter>(*this, std::string(path), mode);
}

WriteResult MemoryStorage::publish(const std::string& path, std::vector<uint8_t> data, WriteMode mode) {
  std::lock_guard lock(mutex_);
  // Like a filesystem, an object cannot sit where a directory is, nor below an object.
  for (std::string_view parent = parentPath(path); !parent.empty(); parent = parentPath(parent))
    if (objects_.contains(parent)) failErrno(ErrorCode::FileWrite, "cannot create", describe(path), ENOTDIR);
  auto below = objects_.lower_bound(path + "/");
  if (directories_.contains(path) || (below != objects_.end() && isUnder(below->first, path)))
    failErrno(ErrorCode::FileWrite, "cannot create", describe(path), EISDIR);
  auto [it, inserted] = objects_.try_emplace(path);
  if (!inserted && mode == WriteMode::IfAbsent) return WriteResult::AlreadyExists;
  it->second = Object{std::make_shared<const std::vector<uint8_t>>(std::move(data)), std::chrono::system_clock::now()};
  return WriteResult::Written;
}

std::vector<ListEntry> MemoryStorage::list(std::string_view directory, bool recursive) {
  validatePath(directory, true);
  std::lock_guard lock(mutex_);
  size_t skip = directory.empty() ? 0 : directory.size() + 1;
  std::vector<ListEntry> out;
  std::set<std::string, std::less<>> seenDirectories;
  auto addDirectory = [&](std::string_view rest) {
    std::string name(rest.substr(0, rest.find('/')));
    if (seenDirectories.insert(name).second) out.push_back({.path = name, .directory = true});
  };
  for (auto it = objects_.lower_bound(directory); it != objects_.end(); ++it) {
    if (!isUnder(it->first, directory)) {
      if (it->first > directory && !it->first.starts_with(directory)) break;
      continue;
    }
    std::string_view rest = std::string_view(it->first).substr(skip);
    if (recursive || rest.find('/') == std::string_view::npos)
      out.push_back({.path = std::string(rest), .size = it->second.data->size()});
    else
      addDirectory(rest);
  }
  if (!recursive) {
    for (const auto& dir : directories_)
      if (isUnder(dir, directory)) addDirectory(std::string_view(dir).substr(skip));
  }
  std::sort(out.begin(), out.end(), [](const ListEntry& a, const ListEntry& b) { return a.path < b.path; });
  return out;
}

bool MemoryStorage::exists(std::string_view path) { return info(path).has_value(); }

std::optional<ObjectInfo> MemoryStorage::info(std::string_view path) {
  validatePath(path);
  std::lock_guard lock(mutex_);
  auto it = objects_.find(path);
  if (it == objects_.end()) return std::nullopt;
  return ObjectInfo{.size = it->second.data->size(), .mtime = it->second.mtime};
}

bool MemoryStorage::remove(std::string_view path) {
  validatePath(path);
  std::lock_guard lock(mutex_);
  auto it = objects_.find(path);
  if (it == objects_.end()) return false;
  objects_.erase(it);
  return true;
}

void MemoryStorage::removeTree(std::string_view path) {
  validatePath(path);
  std::lock_guard lock(mutex_);
  std::erase_if(objects_, [&](const auto& entry) { return entry.first == path || isUnder(entry.first, path); });
  std::erase_if(directories_, [&](const std::string& dir) { return dir == path || isUnder(dir, path); });
}

void MemoryStorage::createDirectory(std::string_view path) {
  validatePath(path, true);
  std::lock_guard lock(mutex_);
  for (std::string_view dir = path; !dir.empty(); dir = parentPath(dir)) {
    if (objects_.contains(dir)) failErrno(ErrorCode::FileWrite, "cannot create directory", describe(dir), EEXIST);
    directories_.emplace(dir);
  }
}

}  // namespace pgbr
