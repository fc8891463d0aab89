#include "repo-server/record_verifier.h"

#include "common/error.h"

#include <fmt/format.h>

namespace pgbr::repo {

RecordVerifier::RecordVerifier(std::shared_ptr<const Keyring> keys, KeyPurpose purpose, std::string name)
    : codec_(std::move(keys), purpose, PipelineSpec{}), name_(std::move(name)) {}

void RecordVerifier::openRecord(std::span<const uint8_t> envelope, const PlaintextCallback& onPlaintext) {
  std::string what = fmt::format("{} record {}", name_, sequence_);
  auto [header, plaintext] = codec_.open(envelope, what);
  bool first = sequence_ == 0;
  if (header.kind == EnvelopeKind::Chunk)
    fail(ErrorCode::Corrupt, "{} is a chunk envelope, not a record of a stream", what);
  if (!first && header.streamId != streamId_)
    fail(ErrorCode::Corrupt, "{} comes from another record stream (spliced data)", what);
  if (header.sequence != sequence_)
    fail(ErrorCode::Corrupt, "{} carries sequence number {}: records are missing or reordered", what, header.sequence);
  streamId_ = header.streamId;
  ++sequence_;
  ended_ = header.kind == EnvelopeKind::LastRecord;
  onPlaintext(plaintext);
}

void RecordVerifier::feed(std::span<const uint8_t> bytes, const PlaintextCallback& onPlaintext) {
  while (!bytes.empty()) {
    if (ended_) fail(ErrorCode::Corrupt, "{} continues after its last record", name_);
    // Complete the header, then the record, from the buffered bytes and the new ones.
    size_t need = kEnvelopeHeaderSize;
    if (pending_.size() >= kEnvelopeHeaderSize)
      need = parseEnvelopeHeader(pending_, fmt::format("{} record {}", name_, sequence_)).envelopeSize();
    if (pending_.empty() && bytes.size() >= kEnvelopeHeaderSize) {
      // Fast path: a whole record inside this piece is opened in place.
      size_t size = parseEnvelopeHeader(bytes, fmt::format("{} record {}", name_, sequence_)).envelopeSize();
      if (bytes.size() >= size) {
        openRecord(bytes.first(size), onPlaintext);
        bytes = bytes.subspan(size);
        continue;
      }
    }
    size_t take = std::min(need - pending_.size(), bytes.size());
    pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    if (pending_.size() == need && need > kEnvelopeHeaderSize) {
      openRecord(pending_, onPlaintext);
      pending_.clear();
    }
  }
}

void RecordVerifier::finish() const {
  if (sequence_ == 0 && pending_.empty()) fail(ErrorCode::Corrupt, "{} is empty: it holds no records", name_);
  if (!pending_.empty()) fail(ErrorCode::Corrupt, "{} is truncated: it ends inside record {}", name_, sequence_);
  if (!ended_)
    fail(ErrorCode::Corrupt, "{} is truncated: it ends after {} records without its last record", name_, sequence_);
}

}  // namespace pgbr::repo
