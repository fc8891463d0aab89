// The backup manifest (docs/repository-format.md "Manifests"): a header, one entry per path in
// path order, and a trailer, as JSON Lines inside a record stream. ManifestWriter and
// ManifestReader stream it, so memory holds one entry at a time whatever the cluster's size.
// Every path read is validated (relative, no "..", no empty parts). Plain values; the writer and
// reader belong to one thread.
#pragma once

#include "common/filter/chunk_id.h"
#include "common/storage/byte_stream.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pgbr {

inline constexpr int kManifestFormat = 1;

struct ManifestHeader {
  int format = kManifestFormat;
  std::string stanza;
  std::string label;
  std::string type;            // full, diff, incr
  std::string prior;           // label of the backup a diff/incr descends from
  int64_t startTime = 0;       // unix seconds
  int64_t stopTime = 0;
  std::string startLsn;        // "0/2000028"
  std::string stopLsn;
  uint32_t timeline = 0;
  std::string walStart;        // first WAL segment needed for consistency
  std::string walStop;         // last one
  unsigned pgVersion = 0;      // major version
  uint64_t systemId = 0;
  uint32_t chunkSize = 0;
  nlohmann::json pipeline;     // PipelineSpec as JSON
  std::string backupLabel;     // contents of backup_label
  std::string tablespaceMap;   // contents of tablespace_map (may be empty)
  uint64_t fileCount = 0;
  uint64_t size = 0;           // logical bytes of all files
  uint64_t repoSize = 0;       // bytes this backup added to the repository
  uint64_t pageErrors = 0;     // pages whose checksum failed
  std::string agentHost;
  std::string agentVersion;
  nlohmann::json extra = nlohmann::json::object();  // forward-compatible extensions

  nlohmann::json toJson() const;
  static ManifestHeader fromJson(const nlohmann::json& json, std::string_view what);
};

enum class EntryType { File, Directory, Link };

struct ManifestEntry {
  EntryType type = EntryType::File;
  std::string path;           // relative to the data directory
  uint64_t size = 0;
  int64_t mtime = 0;          // unix seconds
  uint32_t mode = 0;          // permission bits
  std::string user;
  std::string group;
  std::string target;         // links
  std::string checksum;       // files: hex FileChecksum
  std::vector<ChunkId> chunks;
  std::vector<uint32_t> pageErrors;  // block numbers whose page checksum failed

  nlohmann::json toJson() const;
  static ManifestEntry fromJson(const nlohmann::json& json, std::string_view what);
  bool operator==(const ManifestEntry&) const = default;
};

// Writes header, entries (the caller gives them in strictly increasing manifestPathLess order),
// trailer.
class ManifestWriter {
public:
  ManifestWriter(ByteSink& out, const ManifestHeader& header);
  void add(const ManifestEntry& entry);
  // Writes the trailer; does not finish the sink.
  void finish();
  uint64_t entryCount() const { return count_; }

private:
  void writeLine(const nlohmann::json& json);

  ByteSink& out_;
  std::string lastPath_;
  uint64_t count_ = 0;
  bool finished_ = false;
};

// Reads a manifest back; throws Corrupt/Format naming `what` for any malformed line, bad path,
// out-of-order entry, or a missing or mismatched trailer.
class ManifestReader {
public:
  ManifestReader(ByteSource& in, std::string what);
  const ManifestHeader& header() const { return header_; }
  // The next entry, or nullopt after the trailer has been read and checked.
  std::optional<ManifestEntry> next();

private:
  std::optional<std::string> readLine();

  ByteSource& in_;
  std::string what_;
  std::string buffer_;
  size_t position_ = 0;
  bool eof_ = false;
  ManifestHeader header_;
  std::string lastPath_;
  uint64_t count_ = 0;
  bool done_ = false;
};

// Largest JSON line a reader accepts: one entry of a 1 GiB relation segment with 256 KiB
// chunks is about 280 KiB; files can be larger outside relations, chunks smaller.
inline constexpr size_t kMaxManifestLine = 64 * 1024 * 1024;

std::string_view entryTypeName(EntryType type);

// Manifest order: paths compared component by component ('/' sorts before every other byte),
// which is the order of a depth-first walk that visits each directory's entries sorted by name.
bool manifestPathLess(std::string_view a, std::string_view b);

}  // namespace pgbr
