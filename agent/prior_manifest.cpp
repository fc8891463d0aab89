#include "agent/prior_manifest.h"

#include <fmt/format.h>

namespace pgbr::agent {

bool unchangedSince(const pg::DataDirEntry& walked, const ManifestEntry& prior, int64_t priorStart) {
  return prior.type == EntryType::File && walked.type == pg::EntryType::File && prior.size == walked.size &&
         prior.mtime == walked.mtime && walked.mtime + kTimestampMargin <= priorStart;
}

PriorManifest::PriorManifest(RepoClient& client, const std::string& stanza, const std::string& label)
    : channel_(client.download({{"op", "manifest.get"}, {"stanza", stanza}, {"label", label}}).first),
      source_(channel_),
      reader_(std::make_unique<ManifestReader>(
          source_, fmt::format("manifest of backup {} of stanza '{}' (the prior backup)", label, stanza))) {}

PriorManifest::~PriorManifest() {
  // Entries after the last path asked for are not needed: end the download.
  if (!done_ && !source_.ended()) {
    try {
      channel_.cancel();
    } catch (const Error&) {
      // The connection is gone: nothing to end.
    }
  }
}

std::optional<ManifestEntry> PriorManifest::find(std::string_view path) {
  for (;;) {
    if (!next_) {
      if (done_) return std::nullopt;
      next_ = reader_->next();
      if (!next_) {
        done_ = true;
        return std::nullopt;
      }
    }
    if (manifestPathLess(next_->path, path)) {
      next_.reset();
      continue;
    }
    if (next_->path != path) return std::nullopt;
    auto found = std::move(next_);
    next_.reset();
    return found;
  }
}

}  // namespace pgbr::agent
