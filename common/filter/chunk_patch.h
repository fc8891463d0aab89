// Page-level differences between two versions of a chunk, in the two forms pgbr stores or sends:
//   - a patch (docs/repository-format.md "Patches"): for each page that differs from the base
//     chunk, the page XOR the base's page (bytes beyond the base as they are), so unchanged
//     bytes are zero and the patch compresses to about the size of what really changed;
//   - a page set (docs/operations.md "chunks.patch"): for each page that differs from an
//     earlier version, the page itself — what an agent sends, since it does not hold the
//     earlier version's bytes.
// Both name the changed pages with a bitmap and rebuild the chunk from the other version.
// Pure functions; thread-safe. Outputs go to a caller's ByteBuffer, which is overwritten.
#pragma once

#include "common/filter/buffer.h"
#include "common/filter/chunk_id.h"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace pgbr {

inline constexpr std::array<uint8_t, 4> kPatchMagic{'P', 'G', 'B', 'P'};
inline constexpr std::array<uint8_t, 4> kPageSetMagic{'P', 'G', 'B', 'S'};

// Writes the patch that turns base (the plaintext of baseId) into result. Returns the number of
// pages it marks as changed (0 when result equals base).
size_t buildPatch(const ChunkId& baseId, std::span<const uint8_t> base, std::span<const uint8_t> result,
                  ByteBuffer& out);

// Rebuilds the chunk into out. base is the plaintext of baseId. Throws Corrupt naming `what` when
// the patch is malformed, names another base, or disagrees with the base's length.
void applyPatch(std::span<const uint8_t> patch, const ChunkId& baseId, std::span<const uint8_t> base, ByteBuffer& out,
                std::string_view what);

// Writes the page set of `chunk` holding the pages listed (ascending indexes of 8 KiB pages of
// chunk; the last page may be short), typically BlockMap::changedPages against the earlier
// version. Throws Internal for an index out of order or beyond the chunk.
void buildPageSet(std::span<const uint8_t> chunk, std::span<const uint32_t> pages, ByteBuffer& out);

// Rebuilds the chunk into out from the earlier version and a page set. Throws Corrupt naming
// `what` when the page set is malformed or leaves a page without a source.
void applyPageSet(std::span<const uint8_t> pageSet, std::span<const uint8_t> earlier, ByteBuffer& out,
                  std::string_view what);

}  // namespace pgbr
