// What a diff or incr backup takes from the backup it descends from (DESIGN §5): PriorManifest
// streams that backup's manifest (manifest.get) beside the walk of the data directory — both are
// in manifest order, so it holds one entry at a time whatever the cluster's size — and
// unchangedSince() is the rule that lets a file be recorded without reading it.
//
// A PriorManifest belongs to one thread (the walker); the RepoClient must outlive it.
#pragma once

#include "agent/channel_stream.h"
#include "agent/repo_client.h"
#include "common/manifest/manifest.h"
#include "common/pg/data_dir.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::agent {

// Seconds a file's modification time must lie before the prior backup's start for the file to be
// trusted unchanged: file-system clocks are coarse (a jiffy) and the manifest keeps whole
// seconds, so a file written again just after the prior backup read it could otherwise keep the
// same recorded time.
inline constexpr int64_t kTimestampMargin = 2;

// True when the walked file can be recorded with the prior backup's contents without being read:
// the prior backup has a file there of the same size and modification time, and that time lies
// at least kTimestampMargin before the prior backup started (so any later write would have
// changed it). priorStart is the prior backup's startTime.
bool unchangedSince(const pg::DataDirEntry& walked, const ManifestEntry& prior, int64_t priorStart);

class PriorManifest {
 public:
  // Starts the download of backup `label`'s manifest. Throws BackupMissing when it is gone.
  PriorManifest(RepoClient& client, const std::string& stanza, const std::string& label);
  ~PriorManifest();
  PriorManifest(const PriorManifest&) = delete;
  PriorManifest& operator=(const PriorManifest&) = delete;

  const ManifestHeader& header() const { return reader_->header(); }
  // The prior backup's entry for path, if it has one. Paths must come in increasing manifest
  // order (the walk's); entries before path are skipped.
  std::optional<ManifestEntry> find(std::string_view path);

 private:
  RepoChannel channel_;
  ChannelSource source_;
  std::unique_ptr<ManifestReader> reader_;
  std::optional<ManifestEntry> next_;
  bool done_ = false;
};

}  // namespace pgbr::agent
