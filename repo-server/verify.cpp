#include "repo-server/verify.h"

#include "common/error.h"
#include "common/filter/envelope.h"
#include "common/filter/record_stream.h"
#include "common/manifest/manifest.h"
#include "common/pg/wal_name.h"
#include "common/text.h"
#include "repo-server/index_segment.h"
#include "repo-server/pack.h"

#include <algorithm>
#include <unordered_set>

namespace pgbr::repo {
namespace {

std::optional<PackId> packIdFromPath(std::string_view path) {
  // "packs/ab/<64 hex>.pack"
  auto slash = path.rfind('/');
  std::string_view name = path.substr(slash == std::string_view::npos ? 0 : slash + 1);
  if (!name.ends_with(".pack")) return std::nullopt;
  auto bytes = fromHex(name.substr(0, name.size() - 5));
  if (!bytes || bytes->size() != 32) return std::nullopt;
  PackId id{};
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

const StanzaIdentity* clusterOf(const std::vector<StanzaIdentity>& history, uint64_t systemId) {
  for (auto it = history.rbegin(); it != history.rend(); ++it)
    if (it->systemId == systemId) return &*it;
  return nullptr;
}

}  // namespace

Verifier::Verifier(Repository& repo, std::vector<std::string> stanzas, bool checkPacks, size_t maxFindings)
    : repo_(repo), stanzas_(std::move(stanzas)), checkPacks_(checkPacks), maxFindings_(maxFindings) {}

void Verifier::record(VerifyFinding finding) {
  std::lock_guard lock(mutex_);
  recordLocked(std::move(finding));
}

void Verifier::recordLocked(VerifyFinding finding) {
  (finding.error ? counts_.errors : counts_.warnings)++;
  if (kept_ < maxFindings_) {
    ++kept_;
    pending_.push_back(std::move(finding));
  }
}

void Verifier::error(std::string object, std::string message) { record({true, std::move(object), std::move(message)}); }
void Verifier::warning(std::string object, std::string message) {
  record({false, std::move(object), std::move(message)});
}

std::vector<VerifyFinding> Verifier::takeNewFindings() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, {});
}

VerifyCounts Verifier::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::vector<std::string> Verifier::packPaths() {
  std::vector<std::string> paths;
  for (const auto& entry : repo_.storage().list("packs", true)) {
    std::string path = "packs/" + entry.path;
    auto id = packIdFromPath(path);
    if (!id) {
      warning("object " + path, "is not a pack file (unexpected name in packs/)");
      continue;
    }
    std::lock_guard lock(mutex_);
    existingPacks_.insert(*id);
    paths.push_back(std::move(path));
  }
  return paths;
}

std::vector<std::string> Verifier::indexSegmentIds() {
  std::vector<std::string> ids;
  for (const auto& entry : repo_.storage().list("index")) {
    if (entry.directory) continue;
    if (!entry.path.ends_with(".idx")) {
      warning("object index/" + entry.path, "is not an index segment (unexpected name in index/)");
      continue;
    }
    ids.push_back(entry.path.substr(0, entry.path.size() - 4));
  }
  return ids;
}

void Verifier::checkIndexSegment(const std::string& id) {
  std::string object = "index segment " + indexSegmentPath(id);
  try {
    auto segment = IndexSegment::open(repo_.storage(), id);
    auto locations = segment->all();
    std::set<PackId> named;
    for (const auto& loc : locations) named.insert(loc.pack);
    std::lock_guard lock(mutex_);
    counts_.indexSegments++;
    counts_.bytesRead += locations.size() * kEntrySize;
    for (const auto& pack : named) {
      indexedPacks_.insert(pack);
      if (!existingPacks_.contains(pack))
        recordLocked({true, object, fmt::format("names pack {} which does not exist", packPath(pack))});
    }
  } catch (const Error& e) {
    error(object, e.what());
  }
}

void Verifier::checkPack(const std::string& path) {
  std::string object = "pack " + path;
  auto id = packIdFromPath(path);
  if (!id) return;
  try {
    auto bytes = repo_.storage().read(path);
    auto trailer = checkPackBytes(bytes, *id, repo_.storage().describe(path));
    auto decoder = repo_.decoders().lease();
    EnvelopeCodec opener(repo_.keys(), KeyPurpose::Data, repo_.pipeline());
    for (const auto& loc : trailer.locations) {
      auto blob = std::span<const uint8_t>(bytes).subspan(loc.offset, loc.length);
      try {
        if (loc.kind == BlobKind::Chunk) {
          auto plain = decoder->decode(blob, loc.id);
          if (plain.size() != loc.plainLength)
            error(object, fmt::format("chunk {} is {} bytes, its entry says {}", loc.id.hex(), plain.size(), loc.plainLength));
        } else {
          // A patch is authenticated here; its rebuilt chunk is checked where a manifest needs it.
          opener.open(blob, "patch " + loc.id.hex());
          auto base = repo_.chunks().locate(loc.base);
          if (!base || base->kind != BlobKind::Chunk)
            error(object, fmt::format("patch {} names base chunk {} which is not stored whole", loc.id.hex(), loc.base.hex()));
        }
      } catch (const Error& e) {
        error(object, fmt::format("blob {} at offset {}: {}", loc.id.hex(), loc.offset, e.what()));
      }
      // An entry the index gives for this pack must be the trailer's.
      if (auto indexed = repo_.chunks().locate(loc.id); !indexed) {
        std::lock_guard lock(mutex_);
        if (indexedPacks_.contains(*id))
          recordLocked({true, object, fmt::format("chunk {} is in the pack but not in the index", loc.id.hex())});
      } else if (indexed->pack == *id && !(*indexed == loc)) {
        error(object, fmt::format("the index entry of chunk {} does not match the pack's trailer", loc.id.hex()));
      }
    }
    bool indexed;
    {
      std::lock_guard lock(mutex_);
      counts_.packs++;
      counts_.blobs += trailer.locations.size();
      counts_.bytesRead += bytes.size();
      indexed = indexedPacks_.contains(*id);
    }
    if (!indexed)
      warning(object, "is not named by any index segment (left by an interrupted write; garbage collection removes it)");
  } catch (const Error& e) {
    error(object, e.what());
  }
}

std::vector<std::string> Verifier::labels(const std::string& stanza) {
  try {
    return repo_.manifests().labels(stanza);
  } catch (const Error& e) {
    error("stanza " + stanza, e.what());
    return {};
  }
}

void Verifier::checkManifest(const std::string& stanza, const std::string& label) {
  std::string object = fmt::format("manifest {}/{}", stanza, label);
  try {
    auto source = repo_.manifests().open(stanza, label);
    ManifestReader reader(*source, object);
    const auto& header = reader.header();
    if (header.label != label) error(object, fmt::format("names itself '{}'", header.label));
    std::unordered_set<ChunkId> checked;
    auto decoder = repo_.decoders().lease();
    uint64_t files = 0;
    while (auto entry = reader.next()) {
      if (entry->type != EntryType::File) continue;
      ++files;
      FileChecksum checksum;
      uint64_t size = 0;
      bool complete = true;
      for (const auto& id : entry->chunks) {
        checksum.add(id);
        auto loc = repo_.chunks().locate(id);
        if (!loc) {
          error(object, fmt::format("'{}' needs chunk {}, which the repository does not have", entry->path, id.hex()));
          complete = false;
          continue;
        }
        size += loc->plainLength;
        // Without the pack pass, read each chunk this stanza needs once.
        if (!checkPacks_ && loc->kind == BlobKind::Chunk && checked.insert(id).second) {
          try {
            auto blob = repo_.chunks().readBlob(*loc);
            decoder->decode(blob, id);
            std::lock_guard lock(mutex_);
            counts_.bytesRead += blob.size();
          } catch (const Error& e) {
            error(object, fmt::format("'{}': chunk {}: {}", entry->path, id.hex(), e.what()));
          }
        }
      }
      if (complete && size != entry->size)
        error(object, fmt::format("'{}' is {} bytes but its chunks hold {}", entry->path, entry->size, size));
      if (toHex(checksum.finish(entry->size)) != entry->checksum)
        error(object, fmt::format("'{}' has a checksum that does not match its chunk list", entry->path));
    }
    // The WAL that makes the backup consistent must be archived.
    auto history = repo_.stanzas().history(stanza);
    if (const auto* cluster = clusterOf(history, header.systemId)) {
      auto first = pg::WalSegment::parse(header.walStart, cluster->walSegmentSize);
      auto last = pg::WalSegment::parse(header.walStop, cluster->walSegmentSize);
      if (!first || !last) {
        error(object, fmt::format("has an invalid WAL range {}..{}", header.walStart, header.walStop));
      } else {
        for (const auto& missing : repo_.wal().missingSegments(*cluster, *first, *last))
          error(object, fmt::format("needs WAL segment {}, which is not in the archive", missing));
      }
    } else {
      error(object, fmt::format("names system identifier {}, which stanza '{}' never had", header.systemId, stanza));
    }
    std::lock_guard lock(mutex_);
    counts_.manifests++;
    counts_.files += files;
  } catch (const Error& e) {
    error(object, e.what());
  }
}

std::vector<std::string> Verifier::walNames(const std::string& stanza) {
  std::vector<std::string> names;
  try {
    auto identity = repo_.stanzas().find(stanza);
    if (!identity) {
      error("stanza " + stanza, "has no identity (run stanza-create)");
      return names;
    }
    names = repo_.wal().list(*identity, "", "", SIZE_MAX);
  } catch (const Error& e) {
    error("stanza " + stanza, e.what());
  }
  std::lock_guard lock(mutex_);
  walByStanza_[stanza] = names;
  return names;
}

void Verifier::checkWalFile(const std::string& stanza, const std::string& name) {
  std::string object = fmt::format("WAL {}/{}", stanza, name);
  try {
    auto identity = repo_.stanzas().get(stanza);
    auto stored = repo_.wal().find(identity, name);
    if (!stored) {
      error(object, "was listed but cannot be found");
      return;
    }
    RecordReader reader(repo_.storage().openRead(stored->path), repo_.keys(), KeyPurpose::Data, object);
    HmacSha256 mac(repo_.keys()->chunkIdKey());
    mac.begin();
    std::vector<uint8_t> buffer(1 << 20);
    uint64_t size = 0;
    for (;;) {
      size_t n = reader.read(buffer);
      if (n == 0) break;
      mac.update(std::span(buffer).first(n));
      size += n;
    }
    auto digest = mac.end();
    if (toHex(std::span(digest).first(8)) != stored->tag)
      error(object, "content does not match the tag in its name (the file was altered)");
    if (pg::walFileKind(name) == pg::WalFileKind::Segment && size != identity.walSegmentSize)
      error(object, fmt::format("is {} bytes, segments of this cluster are {}", size, identity.walSegmentSize));
    std::lock_guard lock(mutex_);
    counts_.walFiles++;
    counts_.bytesRead += size;
  } catch (const Error& e) {
    error(object, e.what());
  }
}

void Verifier::checkWalContinuity(const std::string& stanza) {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    names = walByStanza_[stanza];
  }
  auto identity = repo_.stanzas().find(stanza);
  if (!identity) return;
  std::optional<pg::WalSegment> previous;
  for (const auto& name : names) {
    if (pg::walFileKind(name) != pg::WalFileKind::Segment) continue;
    auto segment = pg::WalSegment::parse(name, identity->walSegmentSize);
    if (!segment) continue;
    if (previous && previous->timeline == segment->timeline && previous->next() != *segment)
      warning(fmt::format("WAL {}", stanza),
              fmt::format("gap between {} and {}: point-in-time recovery cannot cross it",
                          previous->fileName(identity->walSegmentSize), name));
    previous = segment;
  }
}

void Verifier::runAll() {
  auto packs = packPaths();
  for (const auto& id : indexSegmentIds()) checkIndexSegment(id);
  if (checkPacks_)
    for (const auto& path : packs) checkPack(path);
  for (const auto& stanza : stanzas_) {
    for (const auto& label : labels(stanza)) checkManifest(stanza, label);
    for (const auto& name : walNames(stanza)) checkWalFile(stanza, name);
    checkWalContinuity(stanza);
  }
}

nlohmann::json findingToJson(const VerifyFinding& finding) {
  return {{"severity", finding.error ? "error" : "warning"}, {"object", finding.object}, {"message", finding.message}};
}

nlohmann::json Verifier::summary() const {
  auto c = counts();
  return {{"ok", c.errors == 0},       {"errors", c.errors},   {"warnings", c.warnings},
          {"packs", c.packs},          {"blobs", c.blobs},     {"indexSegments", c.indexSegments},
          {"manifests", c.manifests},  {"files", c.files},     {"walFiles", c.walFiles},
          {"bytesRead", c.bytesRead},  {"stanzas", stanzas_},  {"packsChecked", checkPacks_}};
}

}  // namespace pgbr::repo
