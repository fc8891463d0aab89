#include "common/manifest/manifest.h"

#include "common/error.h"
#include "common/storage/path.h"

#include <algorithm>
#include <array>

namespace pgbr {
namespace {

using nlohmann::json;

template <typename T>
T field(const json& j, std::string_view key, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end()) fail(ErrorCode::Corrupt, "{}: missing field '{}'", what, key);
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    fail(ErrorCode::Corrupt, "{}: field '{}' has the wrong type", what, key);
  }
}

template <typename T>
T optionalField(const json& j, std::string_view key, T fallback, std::string_view what) {
  return j.contains(key) ? field<T>(j, key, what) : fallback;
}

}  // namespace

bool manifestPathLess(std::string_view a, std::string_view b) {
  auto key = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return key(a[i]) < key(b[i]);
  return a.size() < b.size();
}

std::string_view entryTypeName(EntryType type) {
  switch (type) {
    case EntryType::File: return "file";
    case EntryType::Directory: return "dir";
    case EntryType::Link: return "link";
  }
  return "file";
}

json ManifestHeader::toJson() const {
  return json{{"kind", "header"},       {"format", format},       {"stanza", stanza},
              {"label", label},         {"type", type},           {"prior", prior},
              {"startTime", startTime}, {"stopTime", stopTime},   {"startLsn", startLsn},
              {"stopLsn", stopLsn},     {"timeline", timeline},   {"walStart", walStart},
              {"walStop", walStop},     {"pgVersion", pgVersion}, {"systemId", std::to_string(systemId)},
              {"chunkSize", chunkSize}, {"pipeline", pipeline},   {"backupLabel", backupLabel},
              {"tablespaceMap", tablespaceMap}, {"fileCount", fileCount}, {"size", size},
              {"repoSize", repoSize},   {"pageErrors", pageErrors}, {"agentHost", agentHost},
              {"agentVersion", agentVersion}, {"extra", extra}};
}

ManifestHeader ManifestHeader::fromJson(const json& j, std::string_view what) {
  if (!j.is_object() || j.value("kind", "") != "header") fail(ErrorCode::Corrupt, "{}: does not start with a header", what);
  ManifestHeader h;
  h.format = field<int>(j, "format", what);
  if (h.format > kManifestFormat)
    fail(ErrorCode::RepoVersion, "{}: manifest format {} is newer than this pgbr understands ({})", what, h.format,
         kManifestFormat);
  h.stanza = field<std::string>(j, "stanza", what);
  h.label = field<std::string>(j, "label", what);
  h.type = field<std::string>(j, "type", what);
  h.prior = optionalField<std::string>(j, "prior", "", what);
  h.startTime = field<int64_t>(j, "startTime", what);
  h.stopTime = field<int64_t>(j, "stopTime", what);
  h.startLsn = field<std::string>(j, "startLsn", what);
  h.stopLsn = field<std::string>(j, "stopLsn", what);
  h.timeline = field<uint32_t>(j, "timeline", what);
  h.walStart = field<std::string>(j, "walStart", what);
  h.walStop = field<std::string>(j, "walStop", what);
  h.pgVersion = field<unsigned>(j, "pgVersion", what);
  try {
    h.systemId = std::stoull(field<std::string>(j, "systemId", what));
  } catch (const std::logic_error&) {
    fail(ErrorCode::Corrupt, "{}: field 'systemId' is not a number", what);
  }
  h.chunkSize = field<uint32_t>(j, "chunkSize", what);
  h.pipeline = j.value("pipeline", json::object());
  h.backupLabel = optionalField<std::string>(j, "backupLabel", "", what);
  h.tablespaceMap = optionalField<std::string>(j, "tablespaceMap", "", what);
  h.fileCount = optionalField<uint64_t>(j, "fileCount", 0, what);
  h.size = optionalField<uint64_t>(j, "size", 0, what);
  h.repoSize = optionalField<uint64_t>(j, "repoSize", 0, what);
  h.pageErrors = optionalField<uint64_t>(j, "pageErrors", 0, what);
  h.agentHost = optionalField<std::string>(j, "agentHost", "", what);
  h.agentVersion = optionalField<std::string>(j, "agentVersion", "", what);
  h.extra = j.value("extra", json::object());
  return h;
}

json ManifestEntry::toJson() const {
  json j{{"kind", entryTypeName(type)}, {"path", path}, {"mtime", mtime}, {"mode", mode}, {"user", user}, {"group", group}};
  if (type == EntryType::File) {
    j["size"] = size;
    j["checksum"] = checksum;
    auto& ids = j["chunks"] = json::array();
    for (const auto& id : chunks) ids.push_back(id.hex());
    if (!pageErrors.empty()) j["pageErrors"] = pageErrors;
  } else if (type == EntryType::Link) {
    j["target"] = target;
  }
  return j;
}

ManifestEntry ManifestEntry::fromJson(const json& j, std::string_view what) {
  ManifestEntry e;
  auto kind = field<std::string>(j, "kind", what);
  if (kind == "file") e.type = EntryType::File;
  else if (kind == "dir") e.type = EntryType::Directory;
  else if (kind == "link") e.type = EntryType::Link;
  else fail(ErrorCode::Corrupt, "{}: unknown entry kind '{}'", what, kind);
  e.path = field<std::string>(j, "path", what);
  try {
    validatePath(e.path);
  } catch (const Error& error) {
    fail(ErrorCode::PathInvalid, "{}: {}", what, error.what());
  }
  e.mtime = field<int64_t>(j, "mtime", what);
  e.mode = field<uint32_t>(j, "mode", what);
  e.user = optionalField<std::string>(j, "user", "", what);
  e.group = optionalField<std::string>(j, "group", "", what);
  if (e.type == EntryType::File) {
    e.size = field<uint64_t>(j, "size", what);
    e.checksum = field<std::string>(j, "checksum", what);
    for (const auto& text : field<std::vector<std::string>>(j, "chunks", what)) {
      auto id = ChunkId::fromHex(text);
      if (!id) fail(ErrorCode::Corrupt, "{}: '{}' has a malformed chunk id", what, e.path);
      e.chunks.push_back(*id);
    }
    e.pageErrors = optionalField<std::vector<uint32_t>>(j, "pageErrors", {}, what);
  } else if (e.type == EntryType::Link) {
    e.target = field<std::string>(j, "target", what);
    if (e.target.empty()) fail(ErrorCode::Corrupt, "{}: link '{}' has no target", what, e.path);
  }
  return e;
}

ManifestWriter::ManifestWriter(ByteSink& out, const ManifestHeader& header) : out_(out) { writeLine(header.toJson()); }

void ManifestWriter::writeLine(const json& j) {
  auto line = j.dump();
  line += '\n';
  out_.write(std::span(reinterpret_cast<const uint8_t*>(line.data()), line.size()));
}

void ManifestWriter::add(const ManifestEntry& entry) {
  if (finished_) fail(ErrorCode::Internal, "manifest entry added after the trailer");
  validatePath(entry.path);
  if (count_ > 0 && !manifestPathLess(lastPath_, entry.path))
    fail(ErrorCode::Internal, "manifest entries out of order: '{}' after '{}'", entry.path, lastPath_);
  lastPath_ = entry.path;
  ++count_;
  writeLine(entry.toJson());
}

void ManifestWriter::finish() {
  if (finished_) return;
  finished_ = true;
  writeLine(json{{"kind", "trailer"}, {"entries", count_}});
}

ManifestReader::ManifestReader(ByteSource& in, std::string what) : in_(in), what_(std::move(what)) {
  auto line = readLine();
  if (!line) fail(ErrorCode::Corrupt, "{}: is empty", what_);
  json j = json::parse(*line, nullptr, false);
  if (j.is_discarded()) fail(ErrorCode::Corrupt, "{}: header is not valid JSON", what_);
  header_ = ManifestHeader::fromJson(j, what_);
}

std::optional<std::string> ManifestReader::readLine() {
  for (;;) {
    auto newline = buffer_.find('\n', position_);
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(position_, newline - position_);
      position_ = newline + 1;
      return line;
    }
    if (buffer_.size() - position_ > kMaxManifestLine)
      fail(ErrorCode::Corrupt, "{}: a line is longer than {} bytes", what_, kMaxManifestLine);
    if (eof_) {
      if (position_ != buffer_.size()) fail(ErrorCode::Corrupt, "{}: ends in the middle of a line", what_);
      return std::nullopt;
    }
    buffer_.erase(0, position_);
    position_ = 0;
    std::array<uint8_t, 64 * 1024> chunk{};
    size_t n = in_.read(chunk);
    if (n == 0) eof_ = true;
    buffer_.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
}

std::optional<ManifestEntry> ManifestReader::next() {
  if (done_) return std::nullopt;
  auto line = readLine();
  if (!line) fail(ErrorCode::Corrupt, "{}: is truncated (no trailer after {} entries)", what_, count_);
  json j = json::parse(*line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    fail(ErrorCode::Corrupt, "{}: entry {} is not valid JSON", what_, count_ + 1);
  if (j.value("kind", "") == "trailer") {
    uint64_t expected = field<uint64_t>(j, "entries", what_);
    if (expected != count_)
      fail(ErrorCode::Corrupt, "{}: trailer says {} entries but {} were read", what_, expected, count_);
    if (readLine()) fail(ErrorCode::Corrupt, "{}: has data after its trailer", what_);
    done_ = true;
    return std::nullopt;
  }
  auto entry = ManifestEntry::fromJson(j, what_);
  if (count_ > 0 && !manifestPathLess(lastPath_, entry.path))
    fail(ErrorCode::Corrupt, "{}: entry '{}' is out of order (after '{}')", what_, entry.path, lastPath_);
  lastPath_ = entry.path;
  ++count_;
  return entry;
}

}  // namespace pgbr
