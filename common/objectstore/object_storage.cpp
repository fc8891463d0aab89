#include "common/objectstore/object_storage.h"

#include "common/log.h"
#include "common/storage/path.h"

#include <algorithm>
#include <thread>

namespace pgbr::objectstore {

// ---- requests ----------------------------------------------------------------------------

ObjectStorage::ObjectStorage(HttpSettings http, std::string prefix, ObjectStoreTuning tuning)
    : http_(std::move(http)), tuning_(tuning) {
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(prefix.begin());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) {
    validatePath(prefix);
    prefix_ = prefix + "/";
  }
  if (tuning_.partSize == 0 || tuning_.readAhead == 0 || tuning_.retry.attempts < 1)
    fail(ErrorCode::Internal, "object store tuning needs a part size, a read-ahead and at least one attempt");
}

std::string ObjectStorage::keyOf(std::string_view path) const { return prefix_ + std::string(path); }

std::string ObjectStorage::describe(std::string_view path) const { return describeKey(keyOf(path)); }

HttpResponse ObjectStorage::send(std::string_view op, std::string_view key, ErrorCode code,
                                 const std::function<HttpRequest()>& build, const Check& check) {
  std::string why;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      auto delay = tuning_.retry.delayBefore(attempt);
      logDetail("{} {}: {}; attempt {} of {} in {} ms", op, describeKey(key), why, attempt, tuning_.retry.attempts,
                delay.count());
      std::this_thread::sleep_for(delay);
    }
    auto result = http_.send(build());
    if (auto* transport = std::get_if<HttpTransportError>(&result)) {
      why = transport->message;
    } else {
      auto& reply = std::get<HttpResponse>(result);
      if (RetryPolicy::retryableStatus(reply.status)) {
        std::string detail = errorDetail(reply);
        why = fmt::format("HTTP {}{}{}", reply.status, detail.empty() ? "" : " ", detail);
      } else if (reply.status / 100 == 2 && check) {
        try {
          check(reply);
          return std::move(reply);
        } catch (const Error& error) {
          if (error.code() != ErrorCode::Format) throw;
          why = fmt::format("the reply could not be read ({})", error.what());
        }
      } else {
        return std::move(reply);
      }
    }
    if (attempt >= tuning_.retry.attempts)
      fail(code, "{} {} failed after {} attempt(s): {}", op, describeKey(key), attempt, why);
  }
}

void ObjectStorage::failReply(std::string_view op, std::string_view key, ErrorCode code, const HttpResponse& reply) {
  std::string detail = errorDetail(reply);
  std::string hint;
  if (reply.status == 403 || reply.status == 401)
    hint = ": check the credentials, the region and the clock of this host";
  else if (reply.status == 404)
    hint = ": check that the bucket or container exists";
  fail(code, "{} {} failed: HTTP {}{}{}{}", op, describeKey(key), reply.status, detail.empty() ? "" : " ", detail,
       hint);
}

std::mutex& ObjectStorage::keyLock(const std::string& key) {
  return keyLocks_[std::hash<std::string>{}(key) % keyLocks_.size()];
}

WriteResult ObjectStorage::writeIfAbsent(const std::string& key, const std::function<PutOutcome()>& write) {
  std::lock_guard lock(keyLock(key));
  if (head(key)) return WriteResult::AlreadyExists;
  return write() == PutOutcome::Written ? WriteResult::Written : WriteResult::AlreadyExists;
}

// ---- reader ------------------------------------------------------------------------------

class ObjectStorage::Reader final : public StorageReader {
 public:
  Reader(ObjectStorage& storage, std::string key, Fetched first, uint64_t begin, uint64_t end)
      : storage_(storage), key_(std::move(key)), head_(std::move(first.head)), buffer_(std::move(first.bytes)),
        bufferAt_(begin), position_(begin), end_(end) {}

  uint64_t objectSize() const override { return head_.size; }

  size_t read(std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size() && position_ < end_) {
      if (position_ < bufferAt_ || position_ >= bufferAt_ + buffer_.size()) {
        // Windows grow with sequential reading, up to the read-ahead.
        window_ = std::min<uint64_t>(std::max<uint64_t>(window_ * 2, out.size() - done), storage_.tuning_.readAhead);
        buffer_ = fetch(position_, std::min<uint64_t>(window_, end_ - position_));
        bufferAt_ = position_;
        if (buffer_.empty()) break;
      }
      size_t offset = static_cast<size_t>(position_ - bufferAt_);
      size_t n = std::min<size_t>({out.size() - done, buffer_.size() - offset, static_cast<size_t>(end_ - position_)});
      std::copy_n(buffer_.begin() + static_cast<ptrdiff_t>(offset), n, out.begin() + static_cast<ptrdiff_t>(done));
      done += n;
      position_ += n;
    }
    return done;
  }

  size_t readAt(uint64_t offset, std::span<uint8_t> out) override {
    if (offset >= head_.size || out.empty()) return 0;
    uint64_t length = std::min<uint64_t>(out.size(), head_.size - offset);
    if (offset >= bufferAt_ && offset + length <= bufferAt_ + buffer_.size()) {
      std::copy_n(buffer_.begin() + static_cast<ptrdiff_t>(offset - bufferAt_), length, out.begin());
      return static_cast<size_t>(length);
    }
    auto bytes = fetch(offset, length);
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return bytes.size();
  }

 private:
  std::vector<uint8_t> fetch(uint64_t offset, uint64_t length) {
    auto fetched = storage_.get(key_, offset, length, head_.etag);
    if (!fetched)
      fail(ErrorCode::FileRead, "{} was removed while being read", storage_.describeKey(key_));
    if (fetched->bytes.size() != std::min<uint64_t>(length, head_.size - std::min(offset, head_.size)))
      fail(ErrorCode::FileRead, "{}: the store returned {} bytes for a range of {} at offset {}",
           storage_.describeKey(key_), fetched->bytes.size(), length, offset);
    return std::move(fetched->bytes);
  }

  ObjectStorage& storage_;
  std::string key_;
  ObjectHead head_;
  std::vector<uint8_t> buffer_;
  uint64_t bufferAt_;
  uint64_t position_;
  uint64_t end_;
  uint64_t window_ = 256 * 1024;
};

std::unique_ptr<StorageReader> ObjectStorage::openRead(std::string_view path, uint64_t offset,
                                                       std::optional<uint64_t> length) {
  validatePath(path);
  std::string key = keyOf(path);
  // The HEAD tells the size and the ETag the reader is pinned to; the first window comes with
  // the open, so a small object is read whole before anyone can replace it.
  auto found = head(key);
  if (!found) fail(ErrorCode::FileMissing, "{} does not exist", describeKey(key));
  uint64_t size = found->size;
  uint64_t begin = std::min(offset, size);
  uint64_t end = length ? begin + std::min(*length, size - begin) : size;
  Fetched first{{}, *found};
  if (end > begin) {
    auto fetched = get(key, begin, std::min<uint64_t>(end - begin, 256 * 1024), found->etag);
    if (!fetched) fail(ErrorCode::FileMissing, "{} does not exist", describeKey(key));
    first.bytes = std::move(fetched->bytes);
  }
  return std::make_unique<Reader>(*this, std::move(key), std::move(first), begin, end);
}

// ---- writer ------------------------------------------------------------------------------

class ObjectStorage::Writer final : public StorageWriter {
 public:
  Writer(ObjectStorage& storage, std::string key, WriteMode mode)
      : storage_(storage), key_(std::move(key)), mode_(mode) {}
  ~Writer() override { cancel(); }

  void write(std::span<const uint8_t> data) override {
    usable("write to");
    try {
      while (!data.empty()) {
        if (buffer_.size() >= storage_.tuning_.partSize) flushPart();
        size_t take = std::min(storage_.tuning_.partSize - buffer_.size(), data.size());
        buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
        data = data.subspan(take);
      }
    } catch (...) {
      fail();
      throw;
    }
  }

  void finish() override {
    usable("finish");
    try {
      if (upload_.empty()) {
        result_ = storage_.writeWhole(key_, buffer_, mode_);
      } else {
        if (!buffer_.empty()) flushPart();
        auto complete = [&] {
          return storage_.completeUpload(key_, upload_, tokens_, mode_ == WriteMode::IfAbsent);
        };
        if (mode_ == WriteMode::IfAbsent) {
          result_ = storage_.writeIfAbsent(key_, complete);
          if (result_ == WriteResult::AlreadyExists) storage_.abortUpload(key_, upload_);
        } else {
          result_ = complete() == PutOutcome::Written ? WriteResult::Written : WriteResult::AlreadyExists;
        }
        upload_.clear();
      }
      state_ = State::Finished;
      buffer_ = {};
    } catch (...) {
      fail();
      throw;
    }
  }

  void cancel() noexcept override {
    if (state_ == State::Open || state_ == State::Failed) abandon();
    if (state_ != State::Finished) state_ = State::Cancelled;
    buffer_ = {};
  }

  WriteResult result() const override { return result_; }

 private:
  enum class State { Open, Finished, Failed, Cancelled };

  void usable(std::string_view what) const {
    if (state_ != State::Open)
      pgbr::fail(ErrorCode::Internal, "cannot {} {}: the writer is {}", what, storage_.describeKey(key_),
                 state_ == State::Finished ? "finished" : state_ == State::Failed ? "failed" : "cancelled");
  }
  void flushPart() {
    if (upload_.empty()) upload_ = storage_.beginUpload(key_);
    tokens_.push_back(storage_.uploadPart(key_, upload_, static_cast<int>(tokens_.size()) + 1, buffer_));
    buffer_.clear();
  }
  void abandon() noexcept {
    if (!upload_.empty()) storage_.abortUpload(key_, upload_);
    upload_.clear();
  }
  void fail() noexcept {
    abandon();
    state_ = State::Failed;
  }

  ObjectStorage& storage_;
  std::string key_;
  WriteMode mode_;
  std::vector<uint8_t> buffer_;
  std::string upload_;
  std::vector<std::string> tokens_;
  State state_ = State::Open;
  WriteResult result_ = WriteResult::Written;
};

WriteResult ObjectStorage::writeWhole(const std::string& key, std::span<const uint8_t> data, WriteMode mode) {
  if (mode == WriteMode::IfAbsent) return writeIfAbsent(key, [&] { return put(key, data, true); });
  return put(key, data, false) == PutOutcome::Written ? WriteResult::Written : WriteResult::AlreadyExists;
}

WriteResult ObjectStorage::write(std::string_view path, std::span<const uint8_t> data, WriteMode mode) {
  validatePath(path);
  if (data.size() <= tuning_.singlePutMax) return writeWhole(keyOf(path), data, mode);
  return Storage::write(path, data, mode);
}

std::unique_ptr<StorageWriter> ObjectStorage::openWrite(std::string_view path, WriteMode mode) {
  validatePath(path);
  return std::make_unique<Writer>(*this, keyOf(path), mode);
}

// ---- listing and the rest ----------------------------------------------------------------

std::vector<ListEntry> ObjectStorage::list(std::string_view directory, bool recursive) {
  validatePath(directory, true);
  std::string prefix = directory.empty() ? prefix_ : keyOf(directory) + "/";
  std::vector<ListEntry> entries;
  std::string next;
  do {
    ObjectListing page = listPage(prefix, !recursive, next);
    for (auto& item : page.objects) {
      if (!item.key.starts_with(prefix)) continue;
      std::string relative = item.key.substr(prefix.size());
      // Directory markers ("<dir>/") are never objects.
      if (relative.empty() || relative.back() == '/') continue;
      entries.push_back(ListEntry{.path = std::move(relative), .directory = false, .size = item.size});
    }
    for (auto& common : page.prefixes) {
      if (!common.starts_with(prefix) || common.size() <= prefix.size() + 1) continue;
      std::string relative = common.substr(prefix.size(), common.size() - prefix.size() - 1);
      entries.push_back(ListEntry{.path = std::move(relative), .directory = true, .size = 0});
    }
    next = std::move(page.next);
  } while (!next.empty());
  std::sort(entries.begin(), entries.end(), [](const ListEntry& a, const ListEntry& b) { return a.path < b.path; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const ListEntry& a, const ListEntry& b) { return a.path == b.path; }),
                entries.end());
  return entries;
}

std::vector<std::string> ObjectStorage::allKeys(const std::string& prefix) {
  std::vector<std::string> keys;
  std::string next;
  do {
    ObjectListing page = listPage(prefix, false, next);
    for (auto& item : page.objects)
      if (item.key.starts_with(prefix)) keys.push_back(std::move(item.key));
    next = std::move(page.next);
  } while (!next.empty());
  return keys;
}

bool ObjectStorage::exists(std::string_view path) {
  validatePath(path);
  return head(keyOf(path)).has_value();
}

std::optional<ObjectInfo> ObjectStorage::info(std::string_view path) {
  validatePath(path);
  auto found = head(keyOf(path));
  if (!found) return std::nullopt;
  return ObjectInfo{.size = found->size, .mtime = found->mtime};
}

bool ObjectStorage::remove(std::string_view path) {
  validatePath(path);
  std::string key = keyOf(path);
  if (!head(key)) return false;
  deleteObject(key);
  return true;
}

void ObjectStorage::removeTree(std::string_view path) {
  validatePath(path);
  for (const auto& key : allKeys(keyOf(path) + "/")) deleteObject(key);
}

void ObjectStorage::createDirectory(std::string_view path) {
  validatePath(path, true);
  if (path.empty()) return;
  put(keyOf(path) + "/", {}, false);
}

}  // namespace pgbr::objectstore
