#include "repo-server/record_verifier.h"

#include "common/filter/record_stream.h"
#include "test/repo-server/repo_client.h"

#include <doctest/doctest.h>

using namespace pgbr;
using namespace pgbr::repo;
using namespace pgbr::repo::test;

namespace {

std::shared_ptr<const Keyring> keyring() { return std::make_shared<const Keyring>(SecretKey::random(), 1); }

// Feeds `stream` in pieces of `piece` bytes and returns the plaintext.
std::vector<uint8_t> verify(const std::shared_ptr<const Keyring>& keys, std::span<const uint8_t> stream, size_t piece) {
  RecordVerifier verifier(keys, KeyPurpose::Data, "test stream");
  std::vector<uint8_t> plain;
  for (size_t at = 0; at < stream.size(); at += piece)
    verifier.feed(stream.subspan(at, std::min(piece, stream.size() - at)),
                  [&](std::span<const uint8_t> p) { plain.insert(plain.end(), p.begin(), p.end()); });
  verifier.finish();
  return plain;
}

}  // namespace

TEST_CASE("a record stream verifies the same whatever pieces it arrives in") {
  auto keys = keyring();
  auto plaintext = chunkPlaintext(5, 300'000);
  auto stream = sealRecords(keys, plaintext);
  for (size_t piece : {1ul, 47ul, 48ul, 65'536ul, 100'000ul, stream.size()}) {
    CAPTURE(piece);
    CHECK(verify(keys, stream, piece) == plaintext);
  }
  std::vector<uint8_t> empty;
  CHECK(verify(keys, sealRecords(keys, empty), 10).empty());
}

TEST_CASE("truncated, extended, reordered, damaged or foreign streams are Corrupt") {
  auto keys = keyring();
  auto plaintext = chunkPlaintext(6, 200'000);
  auto stream = sealRecords(keys, plaintext);
  auto codeOf = [&](std::vector<uint8_t> bytes, const std::shared_ptr<const Keyring>& with) {
    try {
      verify(with, bytes, 4096);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::Unknown;
  };
  CHECK(codeOf({stream.begin(), stream.end() - 1}, keys) == ErrorCode::Corrupt);
  CHECK(codeOf({}, keys) == ErrorCode::Corrupt);
  auto longer = stream;
  longer.push_back(0);
  CHECK(codeOf(longer, keys) == ErrorCode::Corrupt);
  auto damaged = stream;
  damaged[1000] ^= 1;
  CHECK(codeOf(damaged, keys) == ErrorCode::Corrupt);
  // The first record (64 KiB of plaintext, stored uncompressed) swapped with the second.
  size_t record = kEnvelopeHeaderSize + 64 * 1024 + kEnvelopeTrailerSize;
  std::vector<uint8_t> reordered(stream.begin() + static_cast<ptrdiff_t>(record),
                                 stream.begin() + static_cast<ptrdiff_t>(2 * record));
  reordered.insert(reordered.end(), stream.begin(), stream.begin() + static_cast<ptrdiff_t>(record));
  reordered.insert(reordered.end(), stream.begin() + static_cast<ptrdiff_t>(2 * record), stream.end());
  CHECK(codeOf(reordered, keys) == ErrorCode::Corrupt);
  CHECK(codeOf(stream, keyring()) == ErrorCode::Corrupt);  // another repository's keys
}
