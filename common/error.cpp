#include "common/error.h"

#include <array>
#include <cstring>

namespace pgbr {
namespace {

constexpr std::array kCodes{
#define PGBR_X(name, number, slug, text) ErrorCodeInfo{ErrorCode::name, slug, text},
    PGBR_ERROR_CODES(PGBR_X)
#undef PGBR_X
};

}  // namespace

std::span<const ErrorCodeInfo> errorCodes() { return kCodes; }

std::string_view errorSlug(ErrorCode code) {
  for (const auto& info : kCodes)
    if (info.code == code) return info.slug;
  return "unknown";
}

std::optional<ErrorCode> errorCodeFromNumber(int number) {
  for (const auto& info : kCodes)
    if (static_cast<int>(info.code) == number) return info.code;
  return std::nullopt;
}

void failErrno(ErrorCode code, std::string_view what, std::string_view path, int err) {
  std::string hint;
  if (err == ENOSPC) hint = " (the filesystem is full)";
  else if (err == EACCES || err == EPERM) hint = " (check ownership and permissions)";
  throw Error(code, fmt::format("{} '{}': {}{}", what, path, std::strerror(err), hint));
}

}  // namespace pgbr
