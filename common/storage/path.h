// Validation of relative paths that come from manifests, the wire or a caller of Storage: the one
// gate that keeps such a path inside its root. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace pgbr {

constexpr size_t kMaxPathLength = 4096;

// Throws Error(PathInvalid) naming the path (printable form) unless it is a relative path of
// non-empty components separated by single '/', none of which is "." or "..", with no NUL, no
// leading or trailing '/', and at most kMaxPathLength bytes. An empty path is the root itself and
// is accepted only when allowRoot is true.
void validatePath(std::string_view path, bool allowRoot = false);

// True when validatePath would accept the path.
bool isValidPath(std::string_view path, bool allowRoot = false);

// "a/b" + "c" -> "a/b/c"; either side may be empty (the root). Both must be valid.
std::string joinPath(std::string_view left, std::string_view right);
// "a/b/c" -> "a/b"; "c" -> "".
std::string_view parentPath(std::string_view path);
// "a/b/c" -> "c".
std::string_view baseName(std::string_view path);

}  // namespace pgbr
