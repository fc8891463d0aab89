// Rebuilding a chunk from a base chunk and a patch (docs/repository-format.md, "Patches"): the
// patch names its base, the lengths and a bitmap of changed pages, and holds each changed page
// XOR the base's page (bytes beyond the base as they are). chunks.get sends a patched chunk as
// its base, then the patch; the agent rebuilds it here and checks its id before writing it.
// Pure function; thread-safe.
#pragma once

#include "common/filter/buffer.h"
#include "common/filter/chunk_id.h"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace pgbr::agent {

inline constexpr std::array<uint8_t, 4> kPatchMagic{'P', 'G', 'B', 'P'};

// Rebuilds the chunk into out. base is the plaintext of baseId. Throws Corrupt naming `what` when
// the patch is malformed, names another base, or disagrees with the base's length.
void applyPatch(std::span<const uint8_t> patch, const ChunkId& baseId, std::span<const uint8_t> base, ByteBuffer& out,
                std::string_view what);

}  // namespace pgbr::agent
