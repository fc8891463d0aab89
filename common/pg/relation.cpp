#include "common/pg/relation.h"

#include <fmt/format.h>

#include <charconv>

namespace pgbr::pg {
namespace {

// An OID or segment number as PostgreSQL prints it: decimal, no sign, no leading zero, fits 32 bits.
std::optional<uint32_t> parseNumber(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Parses "[_fork][.segment]" after a relfilenode.
bool parseForkAndSegment(std::string_view rest, RelationFile& file) {
  size_t dot = rest.find('.');
  std::string_view forkPart = rest.substr(0, dot);
  if (forkPart.empty())
    file.fork = Fork::Main;
  else if (forkPart == "_fsm")
    file.fork = Fork::Fsm;
  else if (forkPart == "_vm")
    file.fork = Fork::Vm;
  else if (forkPart == "_init")
    file.fork = Fork::Init;
  else
    return false;
  if (dot == std::string_view::npos) return true;
  auto segment = parseNumber(rest.substr(dot + 1));
  // ".0" is never written: the first segment has no suffix.
  if (!segment || *segment == 0) return false;
  file.segment = *segment;
  return true;
}

size_t digitPrefix(std::string_view text) {
  size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  return n;
}

}  // namespace

std::string_view forkSuffix(Fork fork) {
  switch (fork) {
    case Fork::Main:
      return "";
    case Fork::Fsm:
      return "_fsm";
    case Fork::Vm:
      return "_vm";
    case Fork::Init:
      return "_init";
  }
  return "";
}

std::string RelationFile::fileName() const {
  if (segment == 0) return fmt::format("{}{}", relfilenode, forkSuffix(fork));
  return fmt::format("{}{}.{}", relfilenode, forkSuffix(fork), segment);
}

std::optional<RelationFile> parseRelationFileName(std::string_view name) {
  size_t digits = digitPrefix(name);
  auto relfilenode = parseNumber(name.substr(0, digits));
  if (!relfilenode || *relfilenode == 0) return std::nullopt;
  RelationFile file;
  file.relfilenode = *relfilenode;
  if (!parseForkAndSegment(name.substr(digits), file)) return std::nullopt;
  return file;
}

bool isTempRelationFileName(std::string_view name) {
  // PostgreSQL's looks_like_temp_rel_name(): t<backend id>_<relfilenode>[_fork][.segment].
  if (name.size() < 4 || name[0] != 't') return false;
  name.remove_prefix(1);
  size_t backendDigits = digitPrefix(name);
  if (backendDigits == 0 || backendDigits >= name.size() || name[backendDigits] != '_') return false;
  name.remove_prefix(backendDigits + 1);
  size_t relDigits = digitPrefix(name);
  if (relDigits == 0) return false;
  RelationFile ignored;
  return parseForkAndSegment(name.substr(relDigits), ignored);
}

}  // namespace pgbr::pg
