#include "common/storage/path.h"

#include "common/error.h"

namespace pgbr {
namespace {

// The reason a path is invalid, or nullptr when it is valid.
const char* pathProblem(std::string_view path, bool allowRoot) {
  if (path.empty()) return allowRoot ? nullptr : "it is empty";
  if (path.size() > kMaxPathLength) return "it is longer than 4096 bytes";
  if (path.find('\0') != std::string_view::npos) return "it contains a NUL byte";
  if (path.front() == '/') return "it is absolute";
  size_t start = 0;
  for (;;) {
    size_t end = path.find('/', start);
    std::string_view part = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty()) return "it has an empty component";
    if (part == ".") return "it has a '.' component";
    if (part == "..") return "it climbs out with '..'";
    if (end == std::string_view::npos) return nullptr;
    start = end + 1;
  }
}

std::string printable(std::string_view path) {
  std::string out;
  for (char c : path.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
  }
  if (path.size() > 200) out += "...";
  return out;
}

}  // namespace

void validatePath(std::string_view path, bool allowRoot) {
  if (const char* problem = pathProblem(path, allowRoot))
    fail(ErrorCode::PathInvalid, "path '{}' is not allowed: {} (paths must be relative, without '.', '..' or empty parts)",
         printable(path), problem);
}

bool isValidPath(std::string_view path, bool allowRoot) { return pathProblem(path, allowRoot) == nullptr; }

std::string joinPath(std::string_view left, std::string_view right) {
  if (left.empty()) return std::string(right);
  if (right.empty()) return std::string(left);
  std::string out;
  out.reserve(left.size() + 1 + right.size());
  out.append(left).append("/").append(right);
  return out;
}

std::string_view parentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view baseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace pgbr
