#include "common/filter/compress.h"

#include "common/error.h"
#include "common/filter/free_with.h"

#include <bzlib.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>

namespace pgbr {
namespace {

constexpr LevelRange kLevels[] = {
    {0, 0, 0},   // none
    {1, 19, 3},  // zst: 20-22 need far more memory per context; pgBackRest also stops at 19
    {0, 12, 1},  // lz4: 0-2 fast, 3-12 high compression
    {1, 9, 9},   // bz2: block size in 100 kB units
    {0, 9, 6},   // gz
};

[[noreturn]] void corrupt(std::string_view what, std::string_view detail) {
  fail(ErrorCode::Corrupt, "{}: the compressed data is damaged ({})", what, detail);
}

LZ4F_preferences_t lz4Preferences(int level, size_t inputSize) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max256KB;
  prefs.frameInfo.contentSize = inputSize;
  prefs.compressionLevel = level;
  return prefs;
}

}  // namespace

std::string_view compressionName(Compression type) {
  switch (type) {
    case Compression::None: return "none";
    case Compression::Zstd: return "zst";
    case Compression::Lz4: return "lz4";
    case Compression::Bzip2: return "bz2";
    case Compression::Gzip: return "gz";
  }
  return "unknown";
}

std::optional<Compression> parseCompression(std::string_view name) {
  if (name == "none") return Compression::None;
  if (name == "zst" || name == "zstd") return Compression::Zstd;
  if (name == "lz4") return Compression::Lz4;
  if (name == "bz2" || name == "bzip2") return Compression::Bzip2;
  if (name == "gz" || name == "gzip") return Compression::Gzip;
  return std::nullopt;
}

std::optional<Compression> compressionFromByte(uint8_t value) {
  if (value > static_cast<uint8_t>(Compression::Gzip)) return std::nullopt;
  return static_cast<Compression>(value);
}

LevelRange compressionLevels(Compression type) { return kLevels[static_cast<size_t>(type)]; }

struct Compressor::Impl {
  UniqueC<ZSTD_CCtx, ZSTD_freeCCtx> zstdC;
  UniqueC<ZSTD_DCtx, ZSTD_freeDCtx> zstdD;
  int zstdLevel = -1;
  UniqueC<LZ4F_cctx, LZ4F_freeCompressionContext> lz4C;
  UniqueC<LZ4F_dctx, LZ4F_freeDecompressionContext> lz4D;
  z_stream deflater{};
  int deflateLevel = -1;
  z_stream inflater{};
  bool inflaterReady = false;

  ~Impl() {
    if (deflateLevel >= 0) deflateEnd(&deflater);
    if (inflaterReady) inflateEnd(&inflater);
  }

  ZSTD_CCtx* zstdCompressor(int level) {
    if (!zstdC) {
      zstdC.reset(ZSTD_createCCtx());
      if (!zstdC) fail(ErrorCode::Internal, "cannot allocate a zstd compression context");
    }
    if (level != zstdLevel) {
      size_t rc = ZSTD_CCtx_setParameter(zstdC.get(), ZSTD_c_compressionLevel, level);
      if (ZSTD_isError(rc)) fail(ErrorCode::Internal, "zstd: {}", ZSTD_getErrorName(rc));
      zstdLevel = level;
    }
    return zstdC.get();
  }

  z_stream& deflaterFor(int level) {
    if (deflateLevel != level) {
      if (deflateLevel >= 0) deflateEnd(&deflater);
      deflateLevel = -1;
      deflater = z_stream{};
      // windowBits 15 + 16: a gzip wrapper, so a stored payload is a valid .gz stream.
      if (deflateInit2(&deflater, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fail(ErrorCode::Internal, "cannot initialise zlib compression");
      deflateLevel = level;
    } else {
      deflateReset(&deflater);
    }
    return deflater;
  }
};

Compressor::Compressor() : impl_(std::make_unique<Impl>()) {}
Compressor::~Compressor() = default;
Compressor::Compressor(Compressor&&) noexcept = default;
Compressor& Compressor::operator=(Compressor&&) noexcept = default;

size_t Compressor::bound(Compression type, int level, size_t inputSize) {
  switch (type) {
    case Compression::None: return inputSize;
    case Compression::Zstd: return ZSTD_compressBound(inputSize);
    case Compression::Lz4: {
      LZ4F_preferences_t prefs = lz4Preferences(level, inputSize);
      return LZ4F_compressFrameBound(inputSize, &prefs);
    }
    case Compression::Bzip2: return inputSize + inputSize / 100 + 600;  // bzip2's documented bound
    case Compression::Gzip: return deflateBound(&impl_->deflaterFor(level), inputSize);
  }
  fail(ErrorCode::Internal, "unknown compression {}", static_cast<int>(type));
}

size_t Compressor::compress(Compression type, int level, std::span<const uint8_t> input, std::span<uint8_t> output) {
  LevelRange range = compressionLevels(type);
  if (level < range.min || level > range.max)
    fail(ErrorCode::OptionInvalidValue, "compress-level {} is not valid for {} (use {} to {})", level,
         compressionName(type), range.min, range.max);
  switch (type) {
    case Compression::None:
      if (output.size() < input.size()) fail(ErrorCode::Internal, "output buffer too small");
      if (!input.empty()) std::memcpy(output.data(), input.data(), input.size());
      return input.size();
    case Compression::Zstd: {
      size_t rc = ZSTD_compress2(impl_->zstdCompressor(level), output.data(), output.size(), input.data(), input.size());
      if (ZSTD_isError(rc)) fail(ErrorCode::Internal, "zstd compression failed: {}", ZSTD_getErrorName(rc));
      return rc;
    }
    case Compression::Lz4: {
      if (!impl_->lz4C) {
        LZ4F_cctx* ctx = nullptr;
        if (LZ4F_isError(LZ4F_createCompressionContext(&ctx, LZ4F_VERSION)))
          fail(ErrorCode::Internal, "cannot allocate an lz4 compression context");
        impl_->lz4C.reset(ctx);
      }
      LZ4F_preferences_t prefs = lz4Preferences(level, input.size());
      size_t done = LZ4F_compressBegin(impl_->lz4C.get(), output.data(), output.size(), &prefs);
      if (!LZ4F_isError(done)) {
        size_t rc = LZ4F_compressUpdate(impl_->lz4C.get(), output.data() + done, output.size() - done, input.data(),
                                        input.size(), nullptr);
        done = LZ4F_isError(rc) ? rc : done + rc;
      }
      if (!LZ4F_isError(done)) {
        size_t rc = LZ4F_compressEnd(impl_->lz4C.get(), output.data() + done, output.size() - done, nullptr);
        done = LZ4F_isError(rc) ? rc : done + rc;
      }
      if (LZ4F_isError(done)) fail(ErrorCode::Internal, "lz4 compression failed: {}", LZ4F_getErrorName(done));
      return done;
    }
    case Compression::Bzip2: {
      if (input.size() > UINT_MAX || output.size() > UINT_MAX) fail(ErrorCode::Internal, "bzip2 input too large");
      unsigned int length = static_cast<unsigned int>(output.size());
      char empty = 0;  // bzip2 refuses a null source even for zero bytes
      char* source = input.empty() ? &empty : const_cast<char*>(reinterpret_cast<const char*>(input.data()));
      int rc = BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(output.data()), &length, source,
                                        static_cast<unsigned int>(input.size()), level, 0, 0);
      if (rc != BZ_OK) fail(ErrorCode::Internal, "bzip2 compression failed (code {})", rc);
      return length;
    }
    case Compression::Gzip: {
      z_stream& z = impl_->deflaterFor(level);
      if (input.size() > UINT_MAX || output.size() > UINT_MAX) fail(ErrorCode::Internal, "gzip input too large");
      z.next_in = const_cast<Bytef*>(input.data());
      z.avail_in = static_cast<uInt>(input.size());
      z.next_out = output.data();
      z.avail_out = static_cast<uInt>(output.size());
      if (deflate(&z, Z_FINISH) != Z_STREAM_END) fail(ErrorCode::Internal, "gzip compression failed");
      return z.total_out;
    }
  }
  fail(ErrorCode::Internal, "unknown compression {}", static_cast<int>(type));
}

void Compressor::decompress(Compression type, std::span<const uint8_t> input, std::span<uint8_t> output,
                            std::string_view what) {
  switch (type) {
    case Compression::None:
      if (input.size() != output.size())
        corrupt(what, fmt::format("{} stored bytes for {} expected", input.size(), output.size()));
      if (!input.empty()) std::memcpy(output.data(), input.data(), input.size());
      return;
    case Compression::Zstd: {
      if (!impl_->zstdD) {
        impl_->zstdD.reset(ZSTD_createDCtx());
        if (!impl_->zstdD) fail(ErrorCode::Internal, "cannot allocate a zstd decompression context");
      }
      size_t rc = ZSTD_decompressDCtx(impl_->zstdD.get(), output.data(), output.size(), input.data(), input.size());
      if (ZSTD_isError(rc)) corrupt(what, fmt::format("zstd: {}", ZSTD_getErrorName(rc)));
      if (rc != output.size()) corrupt(what, fmt::format("zstd produced {} bytes for {} expected", rc, output.size()));
      return;
    }
    case Compression::Lz4: {
      if (!impl_->lz4D) {
        LZ4F_dctx* ctx = nullptr;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
          fail(ErrorCode::Internal, "cannot allocate an lz4 decompression context");
        impl_->lz4D.reset(ctx);
      }
      LZ4F_dctx* ctx = impl_->lz4D.get();
      size_t inDone = 0;
      size_t outDone = 0;
      size_t hint = 1;
      while (hint != 0) {
        size_t inSize = input.size() - inDone;
        size_t outSize = output.size() - outDone;
        if (inSize == 0) break;
        hint = LZ4F_decompress(ctx, output.data() + outDone, &outSize, input.data() + inDone, &inSize, nullptr);
        if (LZ4F_isError(hint)) {
          LZ4F_resetDecompressionContext(ctx);
          corrupt(what, fmt::format("lz4: {}", LZ4F_getErrorName(hint)));
        }
        inDone += inSize;
        outDone += outSize;
        if (inSize == 0 && outSize == 0) break;  // no progress: output full or input exhausted
      }
      if (hint != 0) {
        LZ4F_resetDecompressionContext(ctx);
        corrupt(what, outDone == output.size() ? "lz4 frame holds more data than expected" : "lz4 frame ends early");
      }
      if (inDone != input.size()) corrupt(what, "data after the end of the lz4 frame");
      if (outDone != output.size())
        corrupt(what, fmt::format("lz4 produced {} bytes for {} expected", outDone, output.size()));
      return;
    }
    case Compression::Bzip2: {
      if (input.size() > UINT_MAX || output.size() > UINT_MAX) corrupt(what, "bzip2 data too large");
      bz_stream bz{};
      if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) fail(ErrorCode::Internal, "cannot initialise bzip2");
      char empty = 0;  // bzip2 refuses null buffers even for zero bytes
      bz.next_in = input.empty() ? &empty : const_cast<char*>(reinterpret_cast<const char*>(input.data()));
      bz.avail_in = static_cast<unsigned int>(input.size());
      bz.next_out = output.empty() ? &empty : reinterpret_cast<char*>(output.data());
      bz.avail_out = static_cast<unsigned int>(output.size());
      int rc = BZ2_bzDecompress(&bz);
      unsigned int leftIn = bz.avail_in;
      unsigned int leftOut = bz.avail_out;
      BZ2_bzDecompressEnd(&bz);
      if (rc != BZ_STREAM_END) {
        if (rc == BZ_OK) corrupt(what, leftOut == 0 ? "bzip2 stream holds more data than expected" : "bzip2 stream ends early");
        corrupt(what, fmt::format("bzip2 error {}", rc));
      }
      if (leftIn != 0) corrupt(what, "data after the end of the bzip2 stream");
      if (leftOut != 0) corrupt(what, fmt::format("bzip2 produced {} bytes for {} expected", output.size() - leftOut, output.size()));
      return;
    }
    case Compression::Gzip: {
      if (input.size() > UINT_MAX || output.size() > UINT_MAX) corrupt(what, "gzip data too large");
      z_stream& z = impl_->inflater;
      if (!impl_->inflaterReady) {
        z = z_stream{};
        if (inflateInit2(&z, 15 + 16) != Z_OK) fail(ErrorCode::Internal, "cannot initialise zlib decompression");
        impl_->inflaterReady = true;
      } else {
        inflateReset(&z);
      }
      Bytef empty = 0;  // inflate refuses a null output buffer even for zero bytes
      z.next_in = const_cast<Bytef*>(input.data());
      z.avail_in = static_cast<uInt>(input.size());
      z.next_out = output.empty() ? &empty : output.data();
      z.avail_out = static_cast<uInt>(output.size());
      int rc = inflate(&z, Z_FINISH);
      if (rc != Z_STREAM_END) {
        if (rc == Z_BUF_ERROR && z.avail_out == 0) corrupt(what, "gzip stream holds more data than expected");
        if (rc == Z_BUF_ERROR) corrupt(what, "gzip stream ends early");
        corrupt(what, fmt::format("zlib: {}", z.msg != nullptr ? z.msg : "error"));
      }
      if (z.avail_in != 0) corrupt(what, "data after the end of the gzip stream");
      if (z.avail_out != 0)
        corrupt(what, fmt::format("gzip produced {} bytes for {} expected", output.size() - z.avail_out, output.size()));
      return;
    }
  }
  corrupt(what, fmt::format("unknown compression {}", static_cast<int>(type)));
}

}  // namespace pgbr
