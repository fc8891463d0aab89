// Micro-benchmark of the chunk pipeline: encode (chunk id + block map, zstd, AES-256-GCM) and
// decode (open, decompress, re-hash and verify) of pgbench-like pages, single-threaded, with
// MB/s of plaintext; then the same on incompressible data (the worst case: stored uncompressed).
// Usage: filter_bench [MiB of data, default 256] [compress-type] [level] [cipher]
#include "common/filter/chunk.h"
#include "test/common/filter/filter_test_util.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace pgbr;

namespace {

void run(const char* label, const std::vector<uint8_t>& data, const PipelineSpec& spec, size_t mib) {
  size_t chunks = mib * 1024 * 1024 / spec.chunkSize;
  size_t perPass = data.size() / spec.chunkSize;
  auto keys = pgbr::test::testKeyring();
  ChunkEncoder encoder(keys, spec);
  ChunkDecoder decoder(keys);

  std::vector<std::vector<uint8_t>> envelopes(perPass);
  std::vector<ChunkId> ids(perPass);
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };

  auto start = Clock::now();
  double hashSeconds = 0;
  size_t stored = 0;
  for (size_t i = 0; i < chunks; ++i) {
    std::span<const uint8_t> chunk(data.data() + (i % perPass) * spec.chunkSize, spec.chunkSize);
    auto hashStart = Clock::now();
    ids[i % perPass] = encoder.hash(chunk);
    hashSeconds += seconds(Clock::now() - hashStart);
    auto envelope = encoder.seal(chunk);
    stored += envelope.size();
    envelopes[i % perPass].assign(envelope.begin(), envelope.end());
  }
  double encodeSeconds = seconds(Clock::now() - start);

  start = Clock::now();
  for (size_t i = 0; i < chunks; ++i) decoder.decode(envelopes[i % perPass], ids[i % perPass]);
  double decodeSeconds = seconds(Clock::now() - start);

  double plainMb = static_cast<double>(chunks) * spec.chunkSize / 1e6;
  std::printf("%s: %.0f MB, ratio %.2f\n", label, plainMb, plainMb * 1e6 / static_cast<double>(stored));
  std::printf("  hash only (id + block map):         %6.0f MB/s\n", plainMb / hashSeconds);
  std::printf("  encode (hash + compress + seal):    %6.0f MB/s\n", plainMb / encodeSeconds);
  std::printf("  decode (open + decompress + verify):%6.0f MB/s\n", plainMb / decodeSeconds);
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  Compression compression = argc > 2 ? parseCompression(argv[2]).value_or(Compression::Zstd) : Compression::Zstd;
  int level = argc > 3 ? std::atoi(argv[3]) : compressionLevels(compression).fallback;
  Cipher cipher = argc > 4 ? parseCipher(argv[4]).value_or(Cipher::Aes256Gcm) : Cipher::Aes256Gcm;
  PipelineSpec spec{.compression = compression, .level = level, .cipher = cipher};
  spec.validate();
  std::printf("chunk %u KiB, %s level %d, %s, one thread\n", spec.chunkSize / 1024,
              std::string(compressionName(compression)).c_str(), level, std::string(cipherName(cipher)).c_str());
  // 64 MiB of distinct data each, reused until the requested amount has been processed.
  run("pgbench-like pages", pgbr::test::pgbenchPages(64 * 1024 * 1024 / kPageSize), spec, mib);
  run("incompressible bytes", pgbr::test::patternBytes(64 * 1024 * 1024), spec, mib);
  return 0;
}
