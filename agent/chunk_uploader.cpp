#include "agent/chunk_uploader.h"
#include "agent/json_fields.h"

#include "common/filter/bytes.h"
#include "common/log.h"

#include <cstring>

namespace pgbr::agent {

using nlohmann::json;

ChunkUploader::ChunkUploader(RepoClient& client, std::string stanza, uint64_t maxInFlightBytes)
    : client_(client), stanza_(std::move(stanza)), maxInFlight_(maxInFlightBytes) {}

ChunkUploader::~ChunkUploader() {
  std::unique_lock lock(mutex_);
  // Completions refer to this object: wait for every one, whatever happened.
  while (inFlightCount_ > 0) {
    if (changed_.wait_for(lock, client_.protocolTimeout()) == std::cv_status::timeout && inFlightCount_ > 0)
      client_.abort(Error(ErrorCode::Timeout, "chunk uploads did not finish within protocol-timeout"));
  }
}

void ChunkUploader::waitLocked(std::unique_lock<std::mutex>& lock, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + client_.protocolTimeout();
  while (!done()) {
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && !done()) {
      client_.abort(
          Error(ErrorCode::Timeout, fmt::format("the repository server at {} did not answer chunk uploads within "
                                                "protocol-timeout ({} s)",
                                                client_.where(), client_.protocolTimeout().count() / 1000.0)));
      deadline = std::chrono::steady_clock::time_point::max();
    }
  }
}

void appendPatchRecord(std::vector<uint8_t>& out, const ChunkId& id, const ChunkId& earlier,
                       std::span<const uint8_t> envelope) {
  size_t at = out.size();
  out.resize(at + 4 + 2 * ChunkId::kSize + envelope.size());
  putU32(out, at, static_cast<uint32_t>(2 * ChunkId::kSize + envelope.size()));
  std::memcpy(out.data() + at + 4, id.bytes().data(), ChunkId::kSize);
  std::memcpy(out.data() + at + 4 + ChunkId::kSize, earlier.bytes().data(), ChunkId::kSize);
  std::memcpy(out.data() + at + 4 + 2 * ChunkId::kSize, envelope.data(), envelope.size());
}

void ChunkUploader::submit(std::string_view op, std::vector<uint8_t> records, uint64_t chunks) {
  uint64_t size = records.size();
  {
    std::unique_lock lock(mutex_);
    waitLocked(lock, [&] { return failure_ || inFlightBytes_ == 0 || inFlightBytes_ + size <= maxInFlight_; });
    if (failure_) std::rethrow_exception(failure_);
    inFlightBytes_ += size;
    ++inFlightCount_;
    ++totals_.batches;
    totals_.chunks += chunks;
    totals_.bytes += size;
  }
  json request = {{"op", op}, {"stanza", stanza_}};
  client_.uploadAsync(std::move(request), std::move(records), [this, size](std::exception_ptr error, json response) {
    std::lock_guard lock(mutex_);
    inFlightBytes_ -= size;
    --inFlightCount_;
    if (error) {
      if (!failure_) failure_ = error;
    } else {
      totals_.stored += unsignedField(response, "stored").value_or(0);
      totals_.duplicates += unsignedField(response, "duplicates").value_or(0);
      totals_.patches += unsignedField(response, "patches").value_or(0);
    }
    changed_.notify_all();
  });
}

void ChunkUploader::finish() {
  std::unique_lock lock(mutex_);
  waitLocked(lock, [&] { return inFlightCount_ == 0; });
  if (failure_) std::rethrow_exception(failure_);
}

ChunkUploader::Totals ChunkUploader::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

}  // namespace pgbr::agent
