#include "common/filter/record_stream.h"

#include "common/error.h"

#include <algorithm>
#include <cstring>

namespace pgbr {

RecordWriter::RecordWriter(std::unique_ptr<ByteSink> out, std::shared_ptr<const Keyring> keys, KeyPurpose purpose,
                           const PipelineSpec& spec)
    : out_(std::move(out)), codec_(std::move(keys), purpose, spec) {
  if (!out_) fail(ErrorCode::Internal, "a record writer needs a sink");
  randomBytes({reinterpret_cast<uint8_t*>(&streamId_), sizeof streamId_});
  pending_.reserve(spec.chunkSize);
}

RecordWriter::~RecordWriter() { cancel(); }

void RecordWriter::requireOpen() const {
  if (state_ != State::Open) fail(ErrorCode::Internal, "record stream used after it was finished, cancelled or failed");
}

void RecordWriter::sealRecord(EnvelopeKind kind, std::span<const uint8_t> plaintext) {
  out_->write(codec_.seal(kind, streamId_, sequence_, plaintext));
  ++sequence_;
}

void RecordWriter::write(std::span<const uint8_t> data) {
  requireOpen();
  const size_t recordSize = codec_.spec().chunkSize;
  try {
    plainBytes_ += data.size();
    // A record is sealed only once more data follows it, so the last one can be marked as such.
    while (!data.empty()) {
      if (pending_.size() == recordSize) {
        sealRecord(EnvelopeKind::Record, pending_.span());
        pending_.clear();
      }
      if (pending_.empty() && data.size() > recordSize) {
        sealRecord(EnvelopeKind::Record, data.first(recordSize));  // no copy for large writes
        data = data.subspan(recordSize);
        continue;
      }
      size_t take = std::min(recordSize - pending_.size(), data.size());
      pending_.append(data.first(take));
      data = data.subspan(take);
    }
  } catch (...) {
    state_ = State::Failed;
    throw;
  }
}

void RecordWriter::finish() {
  requireOpen();
  state_ = State::Failed;
  sealRecord(EnvelopeKind::LastRecord, pending_.span());
  pending_.clear();
  out_->finish();
  state_ = State::Finished;
}

void RecordWriter::cancel() noexcept {
  if (state_ == State::Finished || state_ == State::Cancelled) return;
  state_ = State::Cancelled;
  out_->cancel();
}

RecordReader::RecordReader(std::unique_ptr<ByteSource> in, std::shared_ptr<const Keyring> keys, KeyPurpose purpose,
                           std::string name)
    : in_(std::move(in)), codec_(std::move(keys), purpose, PipelineSpec{}), name_(std::move(name)) {
  if (!in_) fail(ErrorCode::Internal, "a record reader needs a source");
}

void RecordReader::nextRecord() {
  std::string what = fmt::format("{} record {}", name_, sequence_);
  envelope_.resize(kEnvelopeHeaderSize);
  size_t got = readFull(*in_, envelope_.span());
  if (got < kEnvelopeHeaderSize) {
    if (got == 0 && sequence_ == 0) fail(ErrorCode::Corrupt, "{} is empty: it holds no records", name_);
    fail(ErrorCode::Corrupt, "{} is truncated: it ends after {} records without its last record", name_, sequence_);
  }
  EnvelopeHeader h = parseEnvelopeHeader(envelope_.span(), what);
  envelope_.resize(h.envelopeSize());
  std::span<uint8_t> rest = envelope_.span().subspan(kEnvelopeHeaderSize);
  if (readFull(*in_, rest) != rest.size())
    fail(ErrorCode::Corrupt, "{} is truncated: it ends inside record {}", name_, sequence_);
  auto opened = codec_.open(envelope_.span(), what);
  if (h.kind == EnvelopeKind::Chunk) fail(ErrorCode::Corrupt, "{} is a chunk envelope inside a record stream", what);
  if (sequence_ == 0) streamId_ = h.streamId;
  else if (h.streamId != streamId_) fail(ErrorCode::Corrupt, "{} belongs to another stream (spliced objects)", what);
  if (h.sequence != sequence_)
    fail(ErrorCode::Corrupt, "{} has sequence number {}: records are missing or out of order", what, h.sequence);
  ++sequence_;
  available_ = opened.plaintext;
  if (h.kind == EnvelopeKind::LastRecord) {
    ended_ = true;
    uint8_t extra = 0;
    if (in_->read({&extra, 1}) != 0) fail(ErrorCode::Corrupt, "{} has data after its last record", name_);
  }
}

size_t RecordReader::read(std::span<uint8_t> buffer) {
  while (available_.empty()) {
    if (ended_) return 0;
    nextRecord();
  }
  size_t n = std::min(buffer.size(), available_.size());
  if (n > 0) std::memcpy(buffer.data(), available_.data(), n);
  available_ = available_.subspan(n);
  return n;
}

void HashingSink::write(std::span<const uint8_t> data) {
  if (done_) fail(ErrorCode::Internal, "hashing sink used after it was finished, cancelled or failed");
  done_ = true;  // until the write has gone through
  hash_.update(data);
  size_ += data.size();
  out_->write(data);
  done_ = false;
}

void HashingSink::finish() {
  if (done_) fail(ErrorCode::Internal, "hashing sink finished twice, or after it was cancelled or failed");
  done_ = true;
  digest_ = hash_.finish();
  out_->finish();
}

}  // namespace pgbr
