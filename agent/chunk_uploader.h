// Sends sealed chunks to the repository as chunks.put uploads, several at once, so that workers
// keep reading and sealing while earlier batches are on the wire. submit() returns as soon as the
// batch is handed to the network thread and blocks only while more than maxInFlightBytes are
// outstanding, which bounds the memory of a backup whatever its size. The first failure (a
// refused or corrupt batch, a lost connection) is rethrown by the next submit() or by finish().
//
// Thread-safe: any number of workers submit; completions arrive on the network thread. The
// destructor waits for the uploads in flight (they end one way or another once the connection
// is closed), so the RepoClient must outlive it.
#pragma once

#include "agent/repo_client.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace pgbr::agent {

class ChunkUploader {
 public:
  struct Totals {
    uint64_t batches = 0;
    uint64_t chunks = 0;  // chunks sent
    uint64_t bytes = 0;   // record bytes sent
    uint64_t stored = 0;  // as the server counted them
    uint64_t duplicates = 0;
  };

  ChunkUploader(RepoClient& client, std::string stanza, uint64_t maxInFlightBytes);
  ~ChunkUploader();
  ChunkUploader(const ChunkUploader&) = delete;
  ChunkUploader& operator=(const ChunkUploader&) = delete;

  // records: `u32 length | id | envelope` records of `chunks` chunks.
  void submit(std::vector<uint8_t> records, uint64_t chunks);
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
