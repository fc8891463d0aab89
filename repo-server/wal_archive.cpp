#include "repo-server/wal_archive.h"

#include "common/error.h"
#include "common/pg/wal_name.h"
#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

namespace pgbr::repo {
namespace {

constexpr std::string_view kSuffix = ".wal";
constexpr std::string_view kHistoryDir = "history";
constexpr size_t kTagDigits = 16;
constexpr size_t kDirDigits = 16;

std::string_view directoryOf(std::string_view name) {
  return pg::walFileKind(name) == pg::WalFileKind::History ? kHistoryDir : name.substr(0, kDirDigits);
}

// "<name>.<tag>.wal" -> name and tag; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> parseObjectName(std::string_view object) {
  if (!object.ends_with(kSuffix)) return std::nullopt;
  object.remove_suffix(kSuffix.size());
  size_t dot = object.rfind('.');
  if (dot == std::string_view::npos || object.size() - dot - 1 != kTagDigits) return std::nullopt;
  std::string name(object.substr(0, dot));
  std::string tag(object.substr(dot + 1));
  if (pg::walFileKind(name) == pg::WalFileKind::Other) return std::nullopt;
  return std::make_pair(std::move(name), std::move(tag));
}

// The tag of a WAL file from the HMAC of its plaintext.
std::string tagOf(const Sha256Digest& mac) { return toHex(std::span(mac).first(kTagDigits / 2)); }

bool isLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string walTag(const Keyring& keys, std::span<const uint8_t> plaintext) {
  HmacSha256 mac(keys.chunkIdKey());
  return tagOf(mac.mac(plaintext));
}

void WalArchive::checkName(std::string_view name) {
  if (pg::walFileKind(name) == pg::WalFileKind::Other)
    fail(ErrorCode::Format,
         "'{}' is not the name of a WAL file: expected a segment, a .partial or .backup file, or a timeline history",
         name);
}

void WalArchive::checkTag(std::string_view tag) {
  if (tag.size() != kTagDigits || !isLowerHex(tag))
    fail(ErrorCode::Format, "'{}' is not a WAL tag: expected {} lower-case hex digits", tag, kTagDigits);
}

std::string WalArchive::directory(const StanzaIdentity& cluster) const {
  return fmt::format("{}/wal/{}", stanzaPath(cluster.stanza), cluster.systemId);
}

std::string WalArchive::objectPath(const StanzaIdentity& cluster, std::string_view name, std::string_view tag) {
  checkName(name);
  checkTag(tag);
  return fmt::format("{}/wal/{}/{}/{}.{}{}", stanzaPath(cluster.stanza), cluster.systemId, directoryOf(name), name, tag,
                     kSuffix);
}

std::vector<StoredWal> WalArchive::listDirectory(const std::string& dir) {
  std::vector<StoredWal> files;
  for (const auto& entry : storage_.list(dir)) {
    if (entry.directory) continue;
    if (auto parsed = parseObjectName(entry.path))
      files.push_back({std::move(parsed->first), std::move(parsed->second), dir + "/" + entry.path});
  }
  return files;
}

std::optional<StoredWal> WalArchive::find(const StanzaIdentity& cluster, std::string_view name) {
  checkName(name);
  std::string dir = directory(cluster) + "/" + std::string(directoryOf(name));
  for (auto& file : listDirectory(dir))
    if (file.name == name) return std::move(file);
  return std::nullopt;
}

std::optional<StoredWal> WalArchive::findInHistory(const std::vector<StanzaIdentity>& clusters, std::string_view name) {
  for (auto it = clusters.rbegin(); it != clusters.rend(); ++it)
    if (auto found = find(*it, name)) return found;
  return std::nullopt;
}

std::vector<std::string> WalArchive::list(const StanzaIdentity& cluster, std::string_view from, std::string_view to,
                                          size_t max) {
  std::vector<std::string> names;
  std::string base = directory(cluster);
  for (const auto& dir : storage_.list(base)) {
    if (!dir.directory) continue;
    if (dir.path != kHistoryDir) {
      // Every name in a segment directory starts with the directory's name.
      if (!from.empty() && dir.path < from.substr(0, kDirDigits)) continue;
      if (!to.empty() && dir.path > to.substr(0, kDirDigits)) continue;
    }
    for (auto& file : listDirectory(base + "/" + dir.path))
      if ((from.empty() || file.name >= from) && (to.empty() || file.name <= to)) names.push_back(std::move(file.name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.size() > max) names.resize(max);
  return names;
}

std::optional<WalArchive::Range> WalArchive::segmentRange(const StanzaIdentity& cluster) {
  std::string base = directory(cluster);
  std::vector<std::string> dirs;
  for (const auto& dir : storage_.list(base))
    if (dir.directory && dir.path != kHistoryDir) dirs.push_back(dir.path);
  auto segmentsIn = [&](const std::string& dir) {
    std::vector<std::string> names;
    for (auto& file : listDirectory(base + "/" + dir))
      if (pg::walFileKind(file.name) == pg::WalFileKind::Segment) names.push_back(std::move(file.name));
    std::sort(names.begin(), names.end());
    return names;
  };
  std::optional<Range> range;
  for (const auto& dir : dirs) {
    if (auto names = segmentsIn(dir); !names.empty()) {
      range = Range{names.front(), names.back()};
      break;
    }
  }
  if (!range) return range;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (auto names = segmentsIn(*it); !names.empty()) {
      range->max = names.back();
      break;
    }
  }
  return range;
}

std::vector<WalArchive::Gap> WalArchive::gaps(const StanzaIdentity& cluster, size_t maxGaps) {
  std::vector<Gap> found;
  std::string base = directory(cluster);
  std::vector<std::string> dirs;
  for (const auto& dir : storage_.list(base))
    if (dir.directory && dir.path != kHistoryDir) dirs.push_back(dir.path);
  // Directory names are the timeline and the high half of the segment number, so sorted
  // directories hold each timeline's segments in order.
  std::sort(dirs.begin(), dirs.end());
  std::optional<pg::WalSegment> previous;
  for (const auto& dir : dirs) {
    std::vector<pg::WalSegment> segments;
    for (const auto& file : listDirectory(base + "/" + dir))
      if (pg::walFileKind(file.name) == pg::WalFileKind::Segment)
        if (auto segment = pg::WalSegment::parse(file.name, cluster.walSegmentSize)) segments.push_back(*segment);
    std::sort(segments.begin(), segments.end());
    for (const auto& segment : segments) {
      if (previous && previous->timeline == segment.timeline && previous->next() < segment) {
        if (found.size() == maxGaps) return found;
        pg::WalSegment last{segment.timeline, segment.number - 1};
        found.push_back({previous->next().fileName(cluster.walSegmentSize), last.fileName(cluster.walSegmentSize),
                         segment.number - previous->number - 1});
      }
      if (!previous || *previous < segment) previous = segment;
    }
  }
  return found;
}

nlohmann::json WalArchive::summary(const StanzaIdentity& cluster) {
  auto range = segmentRange(cluster);
  if (!range) return nullptr;
  nlohmann::json gapList = nlohmann::json::array();
  for (const auto& gap : gaps(cluster, kMaxReportedGaps))
    gapList.push_back({{"first", gap.first}, {"last", gap.last}, {"segments", gap.segments}});
  return {{"min", range->min}, {"max", range->max}, {"gaps", std::move(gapList)}};
}

std::vector<std::string> WalArchive::missingSegments(const StanzaIdentity& cluster, const pg::WalSegment& first,
                                                     const pg::WalSegment& last) {
  std::vector<std::string> missing;
  std::string base = directory(cluster);
  std::string listedDir;
  std::set<std::string, std::less<>> present;
  for (pg::WalSegment segment = first; segment <= last; segment = segment.next()) {
    std::string name = segment.fileName(cluster.walSegmentSize);
    std::string dir(directoryOf(name));
    if (dir != listedDir) {
      present.clear();
      for (auto& file : listDirectory(base + "/" + dir)) present.insert(std::move(file.name));
      listedDir = dir;
    }
    if (!present.contains(name)) missing.push_back(std::move(name));
  }
  return missing;
}

uint64_t WalArchive::plainSize(const StoredWal& stored) {
  auto reader = storage_.openRead(stored.path);
  uint64_t size = reader->objectSize(), offset = 0, plain = 0;
  std::array<uint8_t, kEnvelopeHeaderSize> bytes{};
  for (uint64_t record = 0;; ++record) {
    std::string what = fmt::format("{} record {}", storage_.describe(stored.path), record);
    if (reader->readAt(offset, bytes) != bytes.size()) fail(ErrorCode::Corrupt, "{} is truncated", what);
    auto header = parseEnvelopeHeader(bytes, what);
    plain += header.plainLength;
    offset += header.envelopeSize();
    if (header.kind == EnvelopeKind::LastRecord) break;
    if (offset >= size) fail(ErrorCode::Corrupt, "{} ends without its last record", what);
  }
  return plain;
}

std::mutex& WalArchive::nameLock(const StanzaIdentity& cluster, std::string_view name) {
  size_t hash = std::hash<std::string>{}(fmt::format("{}/{}", cluster.stanza, name));
  return nameLocks_[hash % nameLocks_.size()];
}

void WalArchive::mismatch(const StanzaIdentity& cluster, const StoredWal& stored, std::string_view tag) const {
  fail(ErrorCode::ArchiveMismatch,
       "WAL file '{}' is already archived for stanza '{}' with different contents (stored tag {}, pushed tag {}): "
       "two clusters may be archiving to this stanza, or the archive belongs to another cluster",
       stored.name, cluster.stanza, stored.tag, tag);
}

std::unique_ptr<WalPush> WalArchive::beginPush(const StanzaIdentity& cluster, std::string name, uint64_t size,
                                               std::string tag) {
  return std::make_unique<WalPush>(*this, cluster, std::move(name), size, std::move(tag));
}

WalPush::WalPush(WalArchive& archive, const StanzaIdentity& cluster, std::string name, uint64_t size, std::string tag)
    : archive_(archive),
      cluster_(cluster),
      name_(std::move(name)),
      size_(size),
      tag_(std::move(tag)),
      kind_(pg::walFileKind(name_)),
      verifier_(archive.keys_, KeyPurpose::Data, fmt::format("WAL file '{}'", name_)),
      mac_(archive.keys_->chunkIdKey()) {
  WalArchive::checkName(name_);
  WalArchive::checkTag(tag_);
  if (size_ > kMaxWalFileSize)
    fail(ErrorCode::Format, "WAL file '{}' is announced with {} bytes, more than the largest WAL segment (1 GiB)",
         name_, size_);
  if (auto stored = archive_.find(cluster_, name_)) {
    if (stored->tag != tag_) archive_.mismatch(cluster_, *stored, tag_);
    // The identical file is archived: the upload is still read and checked, but not stored.
  } else {
    writer_ = archive_.storage_.openWrite(WalArchive::objectPath(cluster_, name_, tag_), WriteMode::IfAbsent);
  }
  mac_.begin();
}

WalPush::~WalPush() {
  if (writer_) writer_->cancel();
}

void WalPush::onPlaintext(std::span<const uint8_t> plaintext) {
  received_ += plaintext.size();
  if (received_ > size_)
    fail(ErrorCode::Corrupt, "WAL file '{}' holds more than the {} bytes announced for it", name_, size_);
  mac_.update(plaintext);
  bool segment = kind_ == pg::WalFileKind::Segment || kind_ == pg::WalFileKind::Partial;
  if (!segment || headerChecked_) return;
  size_t take = std::min(pg::kWalLongPageHeaderSize - headerBytes_.size(), plaintext.size());
  headerBytes_.insert(headerBytes_.end(), plaintext.begin(), plaintext.begin() + static_cast<ptrdiff_t>(take));
  if (headerBytes_.size() < pg::kWalLongPageHeaderSize) return;
  auto header = pg::parseWalSegmentHeader(headerBytes_, name_);
  pg::checkWalSegmentBelongs(header, name_, cluster_.cluster());
  headerChecked_ = true;
}

void WalPush::write(std::span<const uint8_t> bytes) {
  verifier_.feed(bytes, [this](std::span<const uint8_t> plaintext) { onPlaintext(plaintext); });
  if (writer_) writer_->write(bytes);
}

WalPush::Result WalPush::finish() {
  verifier_.finish();
  if (received_ != size_)
    fail(ErrorCode::Corrupt, "WAL file '{}' was announced with {} bytes but holds {}", name_, size_, received_);
  std::string tag = tagOf(mac_.end());
  if (tag != tag_)
    fail(ErrorCode::Corrupt, "WAL file '{}' was announced with tag {} but its content has tag {}", name_, tag_, tag);
  if (kind_ == pg::WalFileKind::Segment || kind_ == pg::WalFileKind::Partial) {
    if (!headerChecked_)
      fail(ErrorCode::Format, "WAL file '{}' has {} bytes, too few to hold a WAL page header", name_, received_);
    if (kind_ == pg::WalFileKind::Segment && received_ != cluster_.walSegmentSize)
      fail(ErrorCode::Format, "WAL segment '{}' has {} bytes, but the stanza's cluster writes segments of {} bytes",
           name_, received_, cluster_.walSegmentSize);
  }
  if (!writer_) return Result::Duplicate;
  // Serialised with other pushes of this name: two different versions must not both be stored.
  std::lock_guard lock(archive_.nameLock(cluster_, name_));
  if (auto stored = archive_.find(cluster_, name_)) {
    if (stored->tag != tag_) archive_.mismatch(cluster_, *stored, tag_);
    writer_->cancel();
    writer_.reset();
    return Result::Duplicate;
  }
  writer_->finish();
  auto result = writer_->result();
  writer_.reset();
  return result == WriteResult::AlreadyExists ? Result::Duplicate : Result::Stored;
}

}  // namespace pgbr::repo
