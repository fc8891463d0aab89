#include "repo-server/chunk_patcher.h"

#include "common/error.h"
#include "common/filter/chunk_patch.h"

#include <fmt/format.h>

namespace pgbr::repo {

// A patch is kept when its stored size is at most this fraction of its base's.
constexpr uint64_t kPatchLimitDivisor = 2;

struct ChunkPatcher::Tools {
  Tools(const std::shared_ptr<const Keyring>& keys, const PipelineSpec& pipeline)
      : codec(keys, KeyPurpose::Data, pipeline), hasher(keys->chunkIdKey()) {}

  EnvelopeCodec codec;
  ChunkHasher hasher;
  ByteBuffer base;      // the base chunk
  ByteBuffer earlier;   // the earlier chunk (when it is a patch, rebuilt from base)
  ByteBuffer pageSet;   // the agent's pages, opened
  ByteBuffer rebuilt;   // the new chunk
  ByteBuffer patch;     // its patch against the base
};

ChunkPatcher::ChunkPatcher(ChunkStore& store, std::shared_ptr<const Keyring> keys, const PipelineSpec& pipeline)
    : store_(store), tools_([keys, pipeline] { return std::make_unique<Tools>(keys, pipeline); }) {}

ChunkPatcher::~ChunkPatcher() = default;

ChunkId ChunkPatcher::readChunk(Tools& tools, const ChunkLocation& location, ByteBuffer& out, std::string_view what) {
  auto open = [&](const ChunkLocation& at, ByteBuffer& into, std::string_view name) {
    auto blob = store_.readBlob(at);
    auto opened = tools.codec.open(blob, name);
    into.clear();
    into.append(opened.plaintext);
  };
  if (location.kind == BlobKind::Chunk) {
    open(location, out, fmt::format("chunk {}", location.id.hex()));
    return location.id;
  }
  auto base = store_.locate(location.base);
  if (!base || base->kind != BlobKind::Chunk)
    fail(ErrorCode::Corrupt, "{}: chunk {} is stored as a patch of chunk {}, which is not stored whole", what,
         location.id.hex(), location.base.hex());
  open(*base, tools.base, fmt::format("chunk {}", base->id.hex()));
  open(location, tools.patch, fmt::format("patch of chunk {}", location.id.hex()));
  applyPatch(tools.patch.span(), base->id, tools.base.span(), out, fmt::format("chunk {}", location.id.hex()));
  return base->id;
}

PatchOutcome ChunkPatcher::put(const ChunkId& id, const ChunkId& earlier, std::span<const uint8_t> envelope) {
  if (store_.contains(id)) return {};
  std::string what = fmt::format("chunk {} sent as pages changed from chunk {}", id.hex(), earlier.hex());
  auto tools = tools_.lease();
  auto opened = tools->codec.open(envelope, what);
  tools->pageSet.clear();
  tools->pageSet.append(opened.plaintext);

  auto location = store_.locate(earlier);
  if (!location) fail(ErrorCode::Corrupt, "{}: the earlier chunk is not in the repository", what);
  ChunkId baseId = readChunk(*tools, *location, tools->earlier, what);
  if (baseId == earlier) {
    // The earlier chunk is the base: keep its bytes as such.
    std::swap(tools->base, tools->earlier);
  }
  const ByteBuffer& source = baseId == earlier ? tools->base : tools->earlier;
  applyPageSet(tools->pageSet.span(), source.span(), tools->rebuilt, what);
  if (tools->hasher.hash(tools->rebuilt.span()) != id)
    fail(ErrorCode::Corrupt, "{}: the rebuilt chunk does not match its id", what);
  const BlockMap& blockMap = tools->hasher.blockMap();
  auto plainLength = static_cast<uint32_t>(tools->rebuilt.size());

  auto base = store_.locate(baseId);
  if (!base) fail(ErrorCode::Corrupt, "{}: base chunk {} vanished", what, baseId.hex());
  uint64_t limit = base->length / kPatchLimitDivisor;
  buildPatch(baseId, tools->base.span(), tools->rebuilt.span(), tools->patch);
  // The patch's size once compressed is about that of its non-zero bytes at best: when even
  // those exceed the limit several times over, sealing it is wasted work.
  uint64_t nonZero = 0;
  for (uint8_t byte : tools->patch.span()) nonZero += byte != 0;
  if (nonZero <= 4 * limit) {
    auto sealed = tools->codec.seal(EnvelopeKind::Chunk, 0, 0, tools->patch.span());
    if (sealed.size() <= limit) {
      if (!store_.put(id, BlobKind::Patch, baseId, plainLength, sealed, &blockMap)) return {};
      return {.stored = true, .patch = true, .bytes = sealed.size()};
    }
  }
  auto sealed = tools->codec.seal(EnvelopeKind::Chunk, 0, 0, tools->rebuilt.span());
  if (!store_.put(id, BlobKind::Chunk, ChunkId(), plainLength, sealed, &blockMap)) return {};
  return {.stored = true, .patch = false, .bytes = sealed.size()};
}

}  // namespace pgbr::repo
