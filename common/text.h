// Small text helpers shared by every part: hex, trimming, splitting, human-readable sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

std::string toHex(std::span<const uint8_t> bytes);
// Returns nullopt when text is not an even-length string of hex digits.
std::optional<std::vector<uint8_t>> fromHex(std::string_view text);

std::string_view trim(std::string_view text);
// Splits on every separator; empty fields are kept.
std::vector<std::string> split(std::string_view text, char separator);
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// "1.5 MiB", "812 B": for progress and info output.
std::string formatBytes(uint64_t bytes);
// Parses "8", "256KiB", "64MB", "1GiB" (binary multiples, pgBackRest style: KB=KiB); nullopt if bad.
std::optional<uint64_t> parseBytes(std::string_view text);

}  // namespace pgbr
