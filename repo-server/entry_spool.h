// The manifest entries of a backup in progress, kept until the backup commits: the agent sends
// them as JSON Lines while files complete, the server checks each (valid path, manifest order)
// and appends it to an anonymous temporary file, sealed under the metadata key so no plaintext
// metadata touches the disk; at commit they are read back to check their chunks and to write
// the manifest. Memory holds one line, whatever the size of the cluster; the file vanishes with
// the spool or the process.
//
// One thread at a time; a Replay must not outlive its spool.
#pragma once

#include "common/filter/keys.h"
#include "common/filter/pipeline.h"
#include "common/manifest/manifest.h"
#include "common/storage/posix_io.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace pgbr::repo {

class EntrySpool {
 public:
  // directory holds the temporary file; what names the backup in messages.
  EntrySpool(std::shared_ptr<const Keyring> keys, const PipelineSpec& spec, const std::string& directory,
             std::string what);
  ~EntrySpool();
  EntrySpool(const EntrySpool&) = delete;
  EntrySpool& operator=(const EntrySpool&) = delete;

  // Takes the next bytes of the JSON Lines, split anywhere. Throws Format for a line that is not
  // an entry, PathInvalid for a bad path, Format for an entry out of manifest order, Limit for
  // a line longer than kMaxManifestLine.
  void feed(std::span<const uint8_t> bytes);
  // Ends the input: Format when it stops inside a line.
  void close();

  uint64_t entries() const { return entries_; }
  uint64_t files() const { return files_; }
  uint64_t size() const { return size_; }
  uint64_t pageErrors() const { return pageErrors_; }

  // Reads the entries back in order (after close()); each Replay starts from the first.
  class Replay {
   public:
    virtual ~Replay() = default;
    virtual std::optional<ManifestEntry> next() = 0;
  };
  std::unique_ptr<Replay> replay();

 private:
  class FileSink;
  class FileSource;
  class ReplayImpl;
  void addLine(std::string_view line);

  std::shared_ptr<const Keyring> keys_;
  std::string what_;
  std::string path_;  // for messages
  UniqueFd fd_;
  std::unique_ptr<ByteSink> sink_;  // the record stream into the file
  std::unique_ptr<ManifestWriter> writer_;
  std::string line_;
  std::string lastPath_;
  uint64_t entries_ = 0, files_ = 0, size_ = 0, pageErrors_ = 0;
  bool closed_ = false;
};

}  // namespace pgbr::repo
