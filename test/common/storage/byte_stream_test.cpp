#include "common/storage/byte_stream.h"

#include "common/error.h"

#include <doctest/doctest.h>

using namespace pgbr;

TEST_CASE("a span source reads in pieces and then returns 0") {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  SpanSource source(data);
  std::vector<uint8_t> piece(30);
  CHECK(source.read(piece) == 30);
  CHECK(piece[29] == 29);
  CHECK(readAll(source) == std::vector<uint8_t>(data.begin() + 30, data.end()));
  CHECK(source.read(piece) == 0);
}

TEST_CASE("readFull stops at the end of a short source") {
  std::vector<uint8_t> data(10, 7);
  SpanSource source(data);
  std::vector<uint8_t> buffer(64);
  CHECK(readFull(source, buffer) == 10);
}

TEST_CASE("readAll of a source larger than its step keeps every byte") {
  std::vector<uint8_t> data(200'000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  SpanSource source(data);
  CHECK(readAll(source) == data);
}

TEST_CASE("a vector sink collects, finishes once and refuses writes afterwards") {
  VectorSink sink;
  sink.write(std::vector<uint8_t>{1, 2});
  sink.write(std::vector<uint8_t>{3});
  sink.finish();
  CHECK(sink.finished());
  CHECK(sink.data() == std::vector<uint8_t>{1, 2, 3});
  CHECK_THROWS_AS(sink.write(std::vector<uint8_t>{4}), Error);
  CHECK_THROWS_AS(sink.finish(), Error);
  sink.cancel();  // a finished sink keeps its data
  CHECK(sink.take() == std::vector<uint8_t>{1, 2, 3});
}

TEST_CASE("a cancelled vector sink drops its data") {
  VectorSink sink;
  sink.write(std::vector<uint8_t>{1});
  sink.cancel();
  CHECK(sink.data().empty());
  CHECK_THROWS_AS(sink.finish(), Error);
}
