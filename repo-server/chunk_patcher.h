// Page-level incrementals on the server's side (DESIGN §5, docs/operations.md "chunks.patch"):
// an agent sends a changed chunk as the pages that differ from the chunk at the same place in
// the prior backup (a page set). ChunkPatcher rebuilds the chunk from that earlier chunk (itself
// rebuilt from its base when it is a patch), checks the result against the id the agent named —
// nothing is stored under an id its content does not have — and stores it as a cumulative patch
// against the earlier chunk's base (never a patch of a patch), or whole, as a new base, when the
// patch's stored size would exceed half of the base's.
//
// Thread-safe: each call leases its own codec, hasher and buffers. The ChunkStore must outlive it.
#pragma once

#include "common/filter/chunk.h"
#include "common/filter/envelope.h"
#include "repo-server/chunk_store.h"
#include "repo-server/decoder_pool.h"

#include <cstdint>
#include <memory>
#include <span>

namespace pgbr::repo {

struct PatchOutcome {
  bool stored = false;  // false: the chunk was stored already (nothing written)
  bool patch = false;   // stored as a patch; else whole
  uint64_t bytes = 0;   // envelope bytes stored
};

class ChunkPatcher {
 public:
  // pipeline: how the server seals what it builds (the repository's compression and cipher).
  ChunkPatcher(ChunkStore& store, std::shared_ptr<const Keyring> keys, const PipelineSpec& pipeline);
  ~ChunkPatcher();

  // Opens envelope (a page set sealed with a data key), rebuilds chunk `id` from chunk `earlier`
  // and stores it. Throws Corrupt naming the chunk when the envelope or the page set is damaged,
  // when `earlier` is not stored, or when the rebuilt chunk does not hash to `id`; FileWrite
  // when sealing a pack fails.
  PatchOutcome put(const ChunkId& id, const ChunkId& earlier, std::span<const uint8_t> envelope);

 private:
  struct Tools;
  // The plaintext of a stored chunk into out (its base's into base when it is a patch) and the
  // id of the whole chunk it is stored against: itself, or its base.
  ChunkId readChunk(Tools& tools, const ChunkLocation& location, ByteBuffer& out, std::string_view what);

  ChunkStore& store_;
  LeasePool<Tools> tools_;
};

}  // namespace pgbr::repo
