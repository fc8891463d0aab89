#include "common/storage/storage.h"

#include "common/error.h"

namespace pgbr {

std::vector<uint8_t> Storage::read(std::string_view path) {
  auto reader = openRead(path);
  std::vector<uint8_t> data(reader->objectSize());
  size_t n = readFull(*reader, data);
  data.resize(n);
  return data;
}

std::optional<std::vector<uint8_t>> Storage::readIfExists(std::string_view path) {
  try {
    return read(path);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::FileMissing) return std::nullopt;
    throw;
  }
}

WriteResult Storage::write(std::string_view path, std::span<const uint8_t> data, WriteMode mode) {
  auto writer = openWrite(path, mode);
  try {
    writer->write(data);
    writer->finish();
  } catch (...) {
    writer->cancel();
    throw;
  }
  return writer->result();
}

}  // namespace pgbr
