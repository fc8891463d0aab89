// Byte-level helpers shared by the common/pg tests: writing native integers into synthetic
// PostgreSQL structures and damaging one byte of a real file.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace pgbr::pg::testing {

// Stores value at offset in host byte order, as PostgreSQL writes its structures.
template <typename T>
void putAt(std::vector<uint8_t>& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// XORs the byte at offset of the file with mask.
inline void flipByte(const std::filesystem::path& path, std::streamoff offset, uint8_t mask) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  char byte = 0;
  file.seekg(offset);
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ mask);
  file.seekp(offset);
  file.write(&byte, 1);
  if (!file) throw std::runtime_error("cannot change a byte of " + path.string());
}

}  // namespace pgbr::pg::testing
