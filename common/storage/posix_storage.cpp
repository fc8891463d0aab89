#include "common/storage/posix_storage.h"

#include "common/error.h"
#include "common/storage/path.h"
#include "common/storage/posix_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

namespace pgbr {
namespace {

constexpr std::string_view kTempMarker = ".pgbr-tmp.";
constexpr unsigned kFileMode = 0640;
constexpr unsigned kDirMode = 0750;

std::string randomSuffix() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

// Creates every missing directory of an absolute or root-relative path, fsyncing the parent of
// each one it creates so the new entry survives a crash.
void makeDirectories(const std::string& fullPath) {
  size_t pos = fullPath.front() == '/' ? 1 : 0;
  for (;;) {
    size_t slash = fullPath.find('/', pos);
    std::string prefix = fullPath.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), kDirMode) == 0) {
      size_t parentEnd = prefix.rfind('/');
      fsyncDirectory(parentEnd == std::string::npos ? "." : parentEnd == 0 ? "/" : prefix.substr(0, parentEnd));
    } else if (!prefix.empty() && errno != EEXIST) {
      failErrno(ErrorCode::FileWrite, "cannot create directory", prefix, errno);
    }
    if (slash == std::string::npos) return;
    pos = slash + 1;
  }
}

std::string parentOf(const std::string& fullPath) {
  size_t slash = fullPath.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : fullPath.substr(0, slash);
}

class PosixReader final : public StorageReader {
public:
  PosixReader(UniqueFd fd, std::string path, uint64_t size, uint64_t offset, std::optional<uint64_t> length)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size), position_(std::min(offset, size)) {
    end_ = length ? std::min(size_, position_ + std::min(*length, size_ - position_)) : size_;
    ::posix_fadvise(fd_.get(), static_cast<off_t>(position_), static_cast<off_t>(end_ - position_),
                    POSIX_FADV_SEQUENTIAL);
  }

  size_t read(std::span<uint8_t> buffer) override {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end_ - position_));
    if (want == 0) return 0;
    size_t n = preadFd(fd_.get(), buffer.first(want), position_, path_);
    position_ += n;
    if (n < want) end_ = position_;  // the file shrank: the stream ends where the data does
    return n;
  }

  uint64_t objectSize() const override { return size_; }
  size_t readAt(uint64_t offset, std::span<uint8_t> buffer) override {
    return preadFd(fd_.get(), buffer, offset, path_);
  }

private:
  UniqueFd fd_;
  std::string path_;
  uint64_t size_;
  uint64_t position_;
  uint64_t end_ = 0;
};

class PosixWriter final : public StorageWriter {
public:
  PosixWriter(std::string finalPath, WriteMode mode) : finalPath_(std::move(finalPath)), mode_(mode) {
    std::string directory = parentOf(finalPath_);
    std::string base = finalPath_.substr(finalPath_.rfind('/') + 1);
    for (int attempt = 0;; ++attempt) {
      tempPath_ = fmt::format("{}/.{}{}{}", directory, base, kTempMarker, randomSuffix());
      int fd = openRetry(tempPath_.c_str(), O_WRONLY | O_CREAT | O_EXCL, kFileMode);
      if (fd >= 0) {
        fd_ = UniqueFd(fd);
        return;
      }
      if (fd == -ENOENT && attempt == 0) makeDirectories(directory);
      else if (fd != -EEXIST || attempt > 8) failErrno(ErrorCode::FileWrite, "cannot create", finalPath_, -fd);
    }
  }
  ~PosixWriter() override { cancel(); }

  void write(std::span<const uint8_t> data) override {
    requireOpen();
    try {
      writeFd(fd_.get(), data, finalPath_);
    } catch (...) {
      state_ = State::Failed;
      throw;
    }
  }

  void finish() override {
    requireOpen();
    state_ = State::Failed;  // until every step below has succeeded
    fsyncFd(fd_.get(), finalPath_);
    fd_.closeChecked(finalPath_);
    if (mode_ == WriteMode::Replace) {
      if (::rename(tempPath_.c_str(), finalPath_.c_str()) != 0)
        failErrno(ErrorCode::FileWrite, "cannot rename into place", finalPath_, errno);
    } else {
      result_ = publishIfAbsent();
    }
    tempPath_.clear();
    fsyncDirectory(parentOf(finalPath_));
    state_ = State::Finished;
  }

  void cancel() noexcept override {
    if (state_ == State::Finished || state_ == State::Cancelled) return;
    fd_.reset();
    if (!tempPath_.empty()) ::unlink(tempPath_.c_str());
    tempPath_.clear();
    state_ = State::Cancelled;
  }

  WriteResult result() const override { return result_; }

private:
  enum class State { Open, Failed, Finished, Cancelled };

  void requireOpen() const {
    if (state_ != State::Open)
      fail(ErrorCode::Internal, "write to '{}' after it was finished, cancelled or failed", finalPath_);
  }

  // Moves the temporary file to the final name unless something is there already.
  WriteResult publishIfAbsent() {
    if (::renameat2(AT_FDCWD, tempPath_.c_str(), AT_FDCWD, finalPath_.c_str(), RENAME_NOREPLACE) == 0)
      return WriteResult::Written;
    int err = errno;
    if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
      // The filesystem cannot rename without replacing: link() fails with EEXIST instead.
      if (::link(tempPath_.c_str(), finalPath_.c_str()) == 0) {
        ::unlink(tempPath_.c_str());
        return WriteResult::Written;
      }
      err = errno;
    }
    if (err == EEXIST) {
      ::unlink(tempPath_.c_str());
      return WriteResult::AlreadyExists;
    }
    failErrno(ErrorCode::FileWrite, "cannot move into place", finalPath_, err);
  }

  std::string finalPath_;
  std::string tempPath_;
  WriteMode mode_;
  UniqueFd fd_;
  State state_ = State::Open;
  WriteResult result_ = WriteResult::Written;
};

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

// Appends the entries of fullDir to out with names prefixed by relative.
void listInto(const std::string& fullDir, const std::string& relative, bool recursive, std::vector<ListEntry>& out) {
  int fd = openRetry(fullDir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    if (fd == -ENOENT || fd == -ENOTDIR) return;
    failErrno(ErrorCode::FileRead, "cannot list", fullDir, -fd);
  }
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(fd));
  if (!dir) {
    int err = errno;
    ::close(fd);
    failErrno(ErrorCode::FileRead, "cannot list", fullDir, err);
  }
  for (;;) {
    errno = 0;
    dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) failErrno(ErrorCode::FileRead, "cannot list", fullDir, errno);
      return;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || PosixStorage::isTemporaryName(name)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we listed
      failErrno(ErrorCode::FileRead, "cannot stat", fullDir + "/" + entry->d_name, errno);
    }
    std::string path = joinPath(relative, name);
    if (S_ISDIR(st.st_mode)) {
      if (recursive) listInto(fullDir + "/" + entry->d_name, path, true, out);
      else out.push_back({.path = std::move(path), .directory = true});
    } else if (S_ISREG(st.st_mode)) {
      out.push_back({.path = std::move(path), .size = static_cast<uint64_t>(st.st_size)});
    }
  }
}

}  // namespace

PosixStorage::PosixStorage(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) fail(ErrorCode::PathInvalid, "the storage root path is empty");
}

std::string PosixStorage::describe(std::string_view path) const {
  return path.empty() ? root_ : root_ == "/" ? "/" + std::string(path) : root_ + "/" + std::string(path);
}

bool PosixStorage::isTemporaryName(std::string_view name) {
  return name.starts_with('.') && name.find(kTempMarker) != std::string_view::npos;
}

namespace {

// Opens a regular file for reading; returns it with its size. Throws FileMissing or FileRead.
std::pair<UniqueFd, uint64_t> openRegularFile(const std::string& full) {
  int fd = openRetry(full.c_str(), O_RDONLY);
  if (fd < 0) failErrno(fd == -ENOENT ? ErrorCode::FileMissing : ErrorCode::FileRead, "cannot read", full, -fd);
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) failErrno(ErrorCode::FileRead, "cannot stat", full, errno);
  if (!S_ISREG(st.st_mode)) fail(ErrorCode::FileRead, "cannot read '{}': it is not a regular file", full);
  return {std::move(file), static_cast<uint64_t>(st.st_size)};
}

}  // namespace

std::vector<uint8_t> PosixStorage::read(std::string_view path) {
  validatePath(path);
  std::string full = describe(path);
  auto [file, size] = openRegularFile(full);
  std::vector<uint8_t> data(static_cast<size_t>(size));
  data.resize(preadFd(file.get(), data, 0, full));
  return data;
}

std::unique_ptr<StorageReader> PosixStorage::openRead(std::string_view path, uint64_t offset,
                                                      std::optional<uint64_t> length) {
  validatePath(path);
  std::string full = describe(path);
  auto [file, size] = openRegularFile(full);
  return std::make_unique<PosixReader>(std::move(file), std::move(full), size, offset, length);
}

std::unique_ptr<StorageWriter> PosixStorage::openWrite(std::string_view path, WriteMode mode) {
  validatePath(path);
  return std::make_unique<PosixWriter>(describe(path), mode);
}

std::vector<ListEntry> PosixStorage::list(std::string_view directory, bool recursive) {
  validatePath(directory, true);
  std::vector<ListEntry> out;
  listInto(describe(directory), "", recursive, out);
  std::sort(out.begin(), out.end(), [](const ListEntry& a, const ListEntry& b) { return a.path < b.path; });
  return out;
}

bool PosixStorage::exists(std::string_view path) { return info(path).has_value(); }

std::optional<ObjectInfo> PosixStorage::info(std::string_view path) {
  validatePath(path);
  std::string full = describe(path);
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    failErrno(ErrorCode::FileRead, "cannot stat", full, errno);
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  auto since = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return ObjectInfo{.size = static_cast<uint64_t>(st.st_size),
                    .mtime = std::chrono::system_clock::time_point(
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(since))};
}

bool PosixStorage::remove(std::string_view path) {
  validatePath(path);
  std::string full = describe(path);
  if (::unlink(full.c_str()) != 0) {
    if (errno == ENOENT) return false;
    failErrno(ErrorCode::FileWrite, "cannot remove", full, errno);
  }
  fsyncDirectory(parentOf(full));
  return true;
}

void PosixStorage::removeTree(std::string_view path) {
  validatePath(path);
  std::string full = describe(path);
  std::error_code ec;
  std::filesystem::remove_all(full, ec);
  if (ec) failErrno(ErrorCode::FileWrite, "cannot remove", full, ec.value());
  std::string parent = parentOf(full);
  if (::access(parent.c_str(), F_OK) == 0) fsyncDirectory(parent);
}

void PosixStorage::createDirectory(std::string_view path) {
  validatePath(path, true);
  makeDirectories(describe(path));
}

}  // namespace pgbr
