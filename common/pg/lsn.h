// A WAL location (XLogRecPtr): a byte position in the endless WAL stream, written by PostgreSQL
// as two hex halves, "16/B374D848". A small value type; thread-safe.
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgbr::pg {

class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t value) : value_(value) {}

  // "16/B374D848" (hex digits of either case, 1 to 8 on each side); nullopt for anything else.
  static std::optional<Lsn> parse(std::string_view text);
  // As parse, but throws Error(Format) naming what (for example "backup_label START WAL LOCATION").
  static Lsn parseOrFail(std::string_view text, std::string_view what);

  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }  // InvalidXLogRecPtr is 0
  // Upper-case halves without leading zeros, as PostgreSQL prints them.
  std::string toString() const;

  constexpr auto operator<=>(const Lsn&) const = default;
  constexpr Lsn operator+(uint64_t bytes) const { return Lsn(value_ + bytes); }
  constexpr Lsn operator-(uint64_t bytes) const { return Lsn(value_ - bytes); }
  // Bytes of WAL between two locations (this - other); the caller ensures this >= other.
  constexpr uint64_t operator-(const Lsn& other) const { return value_ - other.value_; }

 private:
  uint64_t value_ = 0;
};

}  // namespace pgbr::pg

template <>
struct fmt::formatter<pgbr::pg::Lsn> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const pgbr::pg::Lsn& lsn, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(lsn.toString(), ctx);
  }
};
