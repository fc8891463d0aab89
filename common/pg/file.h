// Reading the first bytes of a small PostgreSQL file (pg_control, a WAL segment's first page, a
// history file) with errors that name the file. Internal to pgbr_pg; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr::pg::detail {

// Reads up to maxBytes from the start of path (fewer when the file is shorter). what names the
// file's role in messages ("pg_control", "WAL segment"). Throws Error(FileMissing) when the file
// does not exist, Error(FileOpen/FileRead) on other failures.
std::vector<uint8_t> readFilePrefix(const std::string& path, size_t maxBytes, std::string_view what);

}  // namespace pgbr::pg::detail
