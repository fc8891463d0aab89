#include "common/pg/lsn.h"

#include "common/error.h"

namespace pgbr::pg {
namespace {

std::optional<uint32_t> parseHalf(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    value = value << 4 | static_cast<uint32_t>(digit);
  }
  return value;
}

}  // namespace

std::optional<Lsn> Lsn::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto high = parseHalf(text.substr(0, slash));
  auto low = parseHalf(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return Lsn(uint64_t(*high) << 32 | *low);
}

Lsn Lsn::parseOrFail(std::string_view text, std::string_view what) {
  auto lsn = parse(text);
  if (!lsn) fail(ErrorCode::Format, "{} '{}' is not a WAL location (expected the form 16/B374D848)", what, text);
  return *lsn;
}

std::string Lsn::toString() const { return fmt::format("{:X}/{:X}", value_ >> 32, value_ & 0xFFFFFFFFu); }

}  // namespace pgbr::pg
