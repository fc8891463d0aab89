// Record streams (docs/chunk-format.md §6): an object of any size — a manifest, a WAL segment,
// an index — stored as a sequence of envelopes, each holding up to one chunk size of data, so
// writing and reading need memory for one record, not the object. Records carry a random stream
// id and a sequence number in their authenticated header and the last one is marked, so a
// reader detects reordered, dropped, spliced or truncated records, not just damaged ones.
//
// RecordWriter is a ByteSink that owns its downstream sink; RecordReader is a ByteSource that
// owns its upstream source. HashingSink observes the bytes passing through it (size and
// SHA-256). Each object belongs to one thread.
#pragma once

#include "common/filter/buffer.h"
#include "common/filter/crypto.h"
#include "common/filter/envelope.h"
#include "common/storage/byte_stream.h"

#include <memory>
#include <string>

namespace pgbr {

class RecordWriter final : public ByteSink {
public:
  // Records hold up to spec.chunkSize plaintext bytes each; purpose picks the key.
  RecordWriter(std::unique_ptr<ByteSink> out, std::shared_ptr<const Keyring> keys, KeyPurpose purpose,
               const PipelineSpec& spec);
  ~RecordWriter() override;

  void write(std::span<const uint8_t> data) override;
  // Seals the buffered bytes as the last record (possibly empty), then finishes the downstream.
  void finish() override;
  void cancel() noexcept override;

  uint64_t plainBytes() const { return plainBytes_; }
  uint64_t recordCount() const { return sequence_; }

private:
  void sealRecord(EnvelopeKind kind, std::span<const uint8_t> plaintext);
  void requireOpen() const;

  std::unique_ptr<ByteSink> out_;
  EnvelopeCodec codec_;
  ByteBuffer pending_;
  uint64_t streamId_ = 0;
  uint64_t sequence_ = 0;
  uint64_t plainBytes_ = 0;
  enum class State { Open, Failed, Finished, Cancelled } state_ = State::Open;
};

class RecordReader final : public ByteSource {
public:
  // name is used in messages ("manifest 'backup/x/manifest'").
  RecordReader(std::unique_ptr<ByteSource> in, std::shared_ptr<const Keyring> keys, KeyPurpose purpose,
               std::string name);

  // Returns plaintext in order; 0 only after the last record has been read and nothing follows
  // it. Throws Corrupt for damage, truncation, reordering or trailing data.
  size_t read(std::span<uint8_t> buffer) override;

private:
  void nextRecord();

  std::unique_ptr<ByteSource> in_;
  EnvelopeCodec codec_;
  std::string name_;
  ByteBuffer envelope_;
  std::span<const uint8_t> available_;
  uint64_t streamId_ = 0;
  uint64_t sequence_ = 0;
  bool ended_ = false;
};

// Passes bytes through to an owned downstream sink while counting them and hashing them with
// SHA-256 (for end-to-end checksums of uploads and whole-object checksums).
class HashingSink final : public ByteSink {
public:
  explicit HashingSink(std::unique_ptr<ByteSink> out) : out_(std::move(out)) {}

  void write(std::span<const uint8_t> data) override;
  void finish() override;
  void cancel() noexcept override {
    done_ = true;
    out_->cancel();
  }

  uint64_t size() const { return size_; }
  // Valid after finish().
  const Sha256Digest& digest() const { return digest_; }

private:
  std::unique_ptr<ByteSink> out_;
  Sha256 hash_;
  uint64_t size_ = 0;
  Sha256Digest digest_{};
  bool done_ = false;  // finished, failed or cancelled
};

}  // namespace pgbr
