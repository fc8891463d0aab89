#include "repo-server/entry_spool.h"

#include "common/error.h"
#include "common/filter/record_stream.h"
#include "common/text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgbr::repo {

// Appends to the spool file (no fsync: the file never outlives the process).
class EntrySpool::FileSink final : public ByteSink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void write(std::span<const uint8_t> data) override { writeFd(fd_, data, path_); }
  void finish() override {}
  void cancel() noexcept override {}

 private:
  int fd_;
  std::string path_;
};

// Reads the spool file from its start, independently of the writer's position.
class EntrySpool::FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  size_t read(std::span<uint8_t> buffer) override {
    size_t n = preadFd(fd_, buffer, offset_, path_);
    offset_ += n;
    return n;
  }

 private:
  int fd_;
  std::string path_;
  uint64_t offset_ = 0;
};

class EntrySpool::ReplayImpl final : public EntrySpool::Replay {
 public:
  ReplayImpl(int fd, const std::string& path, std::shared_ptr<const Keyring> keys, const std::string& what)
      : records_(std::make_unique<FileSource>(fd, path), std::move(keys), KeyPurpose::Metadata, what),
        reader_(records_, what) {}
  std::optional<ManifestEntry> next() override { return reader_.next(); }

 private:
  RecordReader records_;
  ManifestReader reader_;
};

EntrySpool::EntrySpool(std::shared_ptr<const Keyring> keys, const PipelineSpec& spec, const std::string& directory,
                       std::string what)
    : keys_(std::move(keys)), what_(std::move(what)), path_(directory + "/(spool of " + what_ + ")") {
  int fd = openRetry(directory.c_str(), O_TMPFILE | O_RDWR, 0600);
  if (fd == -EOPNOTSUPP || fd == -EISDIR || fd == -EINVAL) {
    // A filesystem without O_TMPFILE: a named file, unlinked at once.
    std::string pattern = directory + "/.pgbr-spool-XXXXXX";
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0)
      fd = -errno;
    else
      ::unlink(pattern.c_str());
  }
  if (fd < 0) failErrno(ErrorCode::FileOpen, "cannot create a temporary file in", directory, -fd);
  fd_ = UniqueFd(fd);
  sink_ =
      std::make_unique<RecordWriter>(std::make_unique<FileSink>(fd_.get(), path_), keys_, KeyPurpose::Metadata, spec);
  writer_ = std::make_unique<ManifestWriter>(*sink_, ManifestHeader{});
}

EntrySpool::~EntrySpool() {
  if (!closed_) sink_->cancel();
}

void EntrySpool::feed(std::span<const uint8_t> bytes) {
  if (closed_) fail(ErrorCode::Internal, "{}: entries received after the spool was closed", what_);
  while (!bytes.empty()) {
    const void* found = std::memchr(bytes.data(), '\n', bytes.size());
    size_t take = found ? static_cast<size_t>(static_cast<const uint8_t*>(found) - bytes.data()) : bytes.size();
    if (line_.size() + take > kMaxManifestLine)
      fail(ErrorCode::Limit, "{}: a manifest entry is longer than {} bytes", what_, kMaxManifestLine);
    line_.append(reinterpret_cast<const char*>(bytes.data()), take);
    if (!found) return;
    addLine(line_);
    line_.clear();
    bytes = bytes.subspan(take + 1);
  }
}

void EntrySpool::addLine(std::string_view line) {
  if (trim(line).empty()) return;
  std::string what = fmt::format("{} entry {}", what_, entries_ + 1);
  auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object()) fail(ErrorCode::Format, "{} is not a JSON object", what);
  ManifestEntry entry;
  try {
    entry = ManifestEntry::fromJson(json, what);
  } catch (const Error& error) {
    // The manifest reader calls a bad stored entry corrupt; a bad entry on the wire is malformed.
    if (error.code() == ErrorCode::Corrupt) throw Error(ErrorCode::Format, error.what());
    throw;
  }
  if (entries_ > 0 && !manifestPathLess(lastPath_, entry.path))
    fail(ErrorCode::Format,
         "{}: '{}' comes after '{}': entries must be sent once each, in manifest order (depth-first, by name)", what,
         entry.path, lastPath_);
  writer_->add(entry);
  lastPath_ = entry.path;
  ++entries_;
  if (entry.type == EntryType::File) {
    ++files_;
    size_ += entry.size;
    pageErrors_ += entry.pageErrors.size();
  }
}

void EntrySpool::close() {
  if (closed_) return;
  if (!line_.empty()) fail(ErrorCode::Format, "{}: the entries end inside a line (a line ends with a newline)", what_);
  writer_->finish();
  sink_->finish();
  closed_ = true;
}

std::unique_ptr<EntrySpool::Replay> EntrySpool::replay() {
  if (!closed_) fail(ErrorCode::Internal, "{}: entries replayed before the spool was closed", what_);
  return std::make_unique<ReplayImpl>(fd_.get(), path_, keys_, "spooled entries of " + what_);
}

}  // namespace pgbr::repo
