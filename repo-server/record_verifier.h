// Opens a record stream (docs/chunk-format.md §6) as its bytes arrive from the network, in
// pieces of any size, so an upload is verified while it streams to storage instead of being
// held whole in memory. The checks are those of RecordReader: every record opens (tag,
// lengths), records are of one stream, in sequence, and the stream ends exactly after the one
// record marked last.
//
// Holds at most one record plus one received piece. One thread at a time.
#pragma once

#include "common/filter/envelope.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pgbr::repo {

class RecordVerifier {
 public:
  using PlaintextCallback = std::function<void(std::span<const uint8_t> plaintext)>;

  // name is used in messages ("WAL file '000000010000000000000003'").
  RecordVerifier(std::shared_ptr<const Keyring> keys, KeyPurpose purpose, std::string name);

  // Consumes the next bytes of the stream, passing the plaintext of each completed record to
  // onPlaintext in order. Throws Corrupt for any damage; Crypto for an unknown key id.
  void feed(std::span<const uint8_t> bytes, const PlaintextCallback& onPlaintext);
  // Throws Corrupt unless the stream ended exactly after its last record.
  void finish() const;

  uint64_t records() const { return sequence_; }

 private:
  void openRecord(std::span<const uint8_t> envelope, const PlaintextCallback& onPlaintext);

  EnvelopeCodec codec_;
  std::string name_;
  std::vector<uint8_t> pending_;  // bytes of an incomplete record
  uint64_t streamId_ = 0;
  uint64_t sequence_ = 0;
  bool ended_ = false;
};

}  // namespace pgbr::repo
