#include "repo-server/manifest_store.h"

#include "common/error.h"
#include "common/filter/record_stream.h"
#include "repo-server/stanza.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgbr::repo {
namespace {

std::string backupsDir(std::string_view stanza) { return stanzaPath(stanza) + "/backups"; }

// The storage writer under the record stream, counting what passes through it so write() can
// report the stored size, and keeping the writer's result.
class CountingSink final : public ByteSink {
 public:
  explicit CountingSink(std::unique_ptr<StorageWriter> out) : out_(std::move(out)) {}
  void write(std::span<const uint8_t> data) override {
    out_->write(data);
    bytes_ += data.size();
  }
  void finish() override { out_->finish(); }
  void cancel() noexcept override { out_->cancel(); }
  uint64_t bytes() const { return bytes_; }
  WriteResult result() const { return out_->result(); }

 private:
  std::unique_ptr<StorageWriter> out_;
  uint64_t bytes_ = 0;
};

}  // namespace

std::string ManifestStore::path(std::string_view stanza, std::string_view label) {
  if (label.empty() || label.find('/') != std::string_view::npos || label.starts_with('.'))
    fail(ErrorCode::Format, "'{}' is not a backup label", label);
  return fmt::format("{}/{}{}", backupsDir(stanza), label, kManifestSuffix);
}

std::vector<std::string> ManifestStore::labels(std::string_view stanza) {
  std::vector<std::string> labels;
  for (const auto& entry : storage_.list(backupsDir(stanza)))
    if (!entry.directory && entry.path.ends_with(kManifestSuffix))
      labels.push_back(entry.path.substr(0, entry.path.size() - kManifestSuffix.size()));
  std::sort(labels.begin(), labels.end());
  return labels;
}

bool ManifestStore::exists(std::string_view stanza, std::string_view label) {
  return storage_.exists(path(stanza, label));
}

std::string ManifestStore::resolve(std::string_view stanza, std::string_view label) {
  if (label == "latest") {
    auto all = labels(stanza);
    if (all.empty()) fail(ErrorCode::BackupMissing, "stanza '{}' has no backup yet", stanza);
    return all.back();
  }
  if (!exists(stanza, label)) fail(ErrorCode::BackupMissing, "stanza '{}' has no backup '{}'", stanza, label);
  return std::string(label);
}

std::unique_ptr<ByteSource> ManifestStore::open(std::string_view stanza, std::string_view label) {
  std::string file = path(stanza, label);
  std::unique_ptr<StorageReader> reader;
  try {
    reader = storage_.openRead(file);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::FileMissing) throw;
    fail(ErrorCode::BackupMissing, "stanza '{}' has no backup '{}'", stanza, label);
  }
  return std::make_unique<RecordReader>(std::move(reader), keys_, KeyPurpose::Metadata,
                                        fmt::format("manifest {}", storage_.describe(file)));
}

ManifestHeader ManifestStore::readHeader(std::string_view stanza, std::string_view label) {
  auto source = open(stanza, label);
  ManifestReader reader(*source, fmt::format("manifest {}", storage_.describe(path(stanza, label))));
  return reader.header();
}

uint64_t ManifestStore::write(const ManifestHeader& header, const std::function<std::optional<ManifestEntry>()>& next) {
  std::string file = path(header.stanza, header.label);
  auto counting = std::make_unique<CountingSink>(storage_.openWrite(file, WriteMode::IfAbsent));
  CountingSink& counted = *counting;
  RecordWriter out(std::move(counting), keys_, KeyPurpose::Metadata, spec_);
  try {
    ManifestWriter manifest(out, header);
    while (auto entry = next()) manifest.add(*entry);
    manifest.finish();
    out.finish();
  } catch (...) {
    out.cancel();
    throw;
  }
  if (counted.result() == WriteResult::AlreadyExists)
    fail(ErrorCode::Internal, "backup '{}' of stanza '{}' is already committed: a label is never written twice",
         header.label, header.stanza);
  return counted.bytes();
}

}  // namespace pgbr::repo
