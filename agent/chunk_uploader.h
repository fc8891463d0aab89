// Sends sealed chunks to the repository as chunks.put uploads (whole chunks) and chunks.patch
// uploads (the pages of a chunk that changed since the prior backup), several at once, so that
// workers keep reading and sealing while earlier batches are on the wire. submit() returns as soon as the
// batch is handed to the network thread and blocks only while more than maxInFlightBytes are
// outstanding, which bounds the memory of a backup whatever its size. The first failure (a
// refused or corrupt batch, a lost connection) is rethrown by the next submit() or by finish().
//
// Thread-safe: any number of workers submit; completions arrive on the network thread. The
// destructor waits for the uploads in flight (they end one way or another once the connection
// is closed), so the RepoClient must outlive it.
#pragma once

#include "agent/repo_client.h"
#include "common/filter/chunk_id.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::agent {

// Appends one chunks.patch record: the chunk's id, the id of the earlier chunk its pages are
// relative to, and the sealed page set.
void appendPatchRecord(std::vector<uint8_t>& out, const ChunkId& id, const ChunkId& earlier,
                       std::span<const uint8_t> envelope);

class ChunkUploader {
 public:
  struct Totals {
    uint64_t batches = 0;
    uint64_t chunks = 0;  // chunks sent
    uint64_t bytes = 0;   // record bytes sent
    uint64_t stored = 0;  // as the server counted them
    uint64_t duplicates = 0;
    uint64_t patches = 0;  // stored as patches
  };

  ChunkUploader(RepoClient& client, std::string stanza, uint64_t maxInFlightBytes);
  ~ChunkUploader();
  ChunkUploader(const ChunkUploader&) = delete;
  ChunkUploader& operator=(const ChunkUploader&) = delete;

  // op: chunks.put with `u32 length | id | envelope` records, or chunks.patch with
  // `u32 length | id | earlier id | envelope` records; `chunks` records in all.
  void submit(std::string_view op, std::vector<uint8_t> records, uint64_t chunks);
  // Waits until every upload has been answered; rethrows the first failure.
  void finish();
  Totals totals() const;

 private:
  void waitLocked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done);

  RepoClient& client_;
  std::string stanza_;
  uint64_t maxInFlight_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t inFlightBytes_ = 0;
  uint64_t inFlightCount_ = 0;
  std::exception_ptr failure_;
  Totals totals_;
};

}  // namespace pgbr::agent
