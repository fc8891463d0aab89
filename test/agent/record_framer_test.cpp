#include "agent/record_framer.h"

#include "common/error.h"
#include "common/filter/bytes.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgbr;
using namespace pgbr::agent;

namespace {

std::vector<uint8_t> record(const std::string& body) {
  std::vector<uint8_t> out(4 + body.size());
  putU32(out, 0, static_cast<uint32_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

std::string text(std::span<const uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace

TEST_CASE("records split across DATA frames at every byte come out whole and in order") {
  std::vector<uint8_t> stream;
  for (std::string body : {"first", "", "the third record"}) {
    auto r = record(body);
    stream.insert(stream.end(), r.begin(), r.end());
  }
  for (size_t piece = 1; piece <= stream.size(); ++piece) {
    RecordFramer framer(1024, "test");
    std::vector<std::string> bodies;
    for (size_t at = 0; at < stream.size(); at += piece) {
      framer.feed(std::span(stream).subspan(at, std::min(piece, stream.size() - at)));
      while (auto body = framer.next()) bodies.push_back(text(*body));
    }
    CHECK(bodies == std::vector<std::string>{"first", "", "the third record"});
    CHECK(framer.atBoundary());
  }
}

TEST_CASE("a stream that stops inside a record is not at a boundary") {
  RecordFramer framer(1024, "test");
  auto r = record("abcdef");
  framer.feed(std::span(r).first(7));
  CHECK_FALSE(framer.next().has_value());
  CHECK_FALSE(framer.atBoundary());
}

TEST_CASE("a length beyond the largest record is a protocol error") {
  RecordFramer framer(16, "chunks.get answer");
  auto r = record(std::string(17, 'x'));
  framer.feed(r);
  CHECK_THROWS_WITH_AS(framer.next(), "chunks.get answer: a record claims 17 bytes, more than the 16 a record may have",
                       Error);
}

TEST_CASE("a chunk record is its length, the id and the envelope") {
  std::vector<uint8_t> out{9};
  std::array<uint8_t, 32> bytes{};
  bytes[0] = 0xab;
  ChunkId id(bytes);
  std::vector<uint8_t> envelope{1, 2, 3};
  appendChunkRecord(out, id, envelope);
  REQUIRE(out.size() == 1 + 4 + 32 + 3);
  CHECK(getU32(out, 1) == 35);
  CHECK(out[5] == 0xab);
  CHECK(out.back() == 3);
}
