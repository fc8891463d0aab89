// pgbr-bench-pages: the page-level facts scripts/bench compares backups against.
//
//   pgbr-bench-pages snapshot DATADIR FILE          hash every 8 KiB page of every file a backup copies
//   pgbr-bench-pages compare FILE DATADIR [LEVEL]   pages changed since the snapshot, and their zstd size
//   pgbr-bench-pages scribble DATADIR FRACTION SEED overwrite that fraction of base/'s pages with noise
//
// compare prints one JSON object: how many pages (and files) differ from the snapshot or are
// new, their raw size, and what zstd at LEVEL (default 3) makes of them, once as one stream of
// all changed pages in file order ("zstd_stream", the least any incremental can store) and once
// page by page ("zstd_pages"). That is the limit an incremental backup is measured against.
// scribble picks pages with a seeded generator over the sorted list of files under base/, so the
// same seed changes the same pages of two copies of one cluster (each tool's restored copy);
// it prints what it changed as JSON and fsyncs what it wrote.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kPage = 8192;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pgbr-bench-pages: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// What a backup leaves out (PostgreSQL's exclusion rules, simplified for measuring).
bool excluded(const std::string& rel, bool dir) {
  static const std::set<std::string> dirs = {"pg_wal",       "pg_stat_tmp", "pg_replslot", "pg_dynshmem",
                                             "pg_notify",    "pg_serial",   "pg_snapshots", "pg_subtrans",
                                             "pg_logical/snapshots", "pg_logical/mappings", "log"};
  static const std::set<std::string> files = {"postmaster.pid", "postmaster.opts", "backup_label",
                                              "backup_label.old", "tablespace_map", "recovery.signal",
                                              "standby.signal",   "postgresql.auto.conf.tmp"};
  std::string base = rel.substr(rel.rfind('/') + 1);
  if (dir) return dirs.count(rel) || base.starts_with("pgsql_tmp");
  return files.count(rel) || base == "pg_internal.init" || base.starts_with("pgsql_tmp");
}

void walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  std::string path = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(path.c_str());
  if (!d) die("cannot open " + path);
  while (auto* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    // pg_tblspc links are followed: a tablespace's files are part of the backup.
    if (stat((root + "/" + r).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!excluded(r, true)) walk(root, r, out);
    } else if (S_ISREG(st.st_mode) && !excluded(r, false)) {
      out.push_back(r);
    }
  }
  closedir(d);
}

std::vector<std::string> files(const std::string& root) {
  std::vector<std::string> out;
  walk(root, "", out);
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t pageHash(const char* p, size_t n) { return std::hash<std::string_view>{}(std::string_view(p, n)); }

// Calls f(blockNumber, data, length) for each 8 KiB page of the file (the last may be short).
template <typename F>
void forPages(const std::string& path, F f) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;  // removed meanwhile (a dropped relation)
    die("cannot open " + path);
  }
  std::vector<char> buf(128 * kPage);
  uint64_t block = 0;
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) die("cannot read " + path);
    if (n == 0) break;
    for (ssize_t off = 0; off < n; off += kPage) f(block++, buf.data() + off, std::min<size_t>(kPage, n - off));
  }
  close(fd);
}

int snapshot(const std::string& dir, const std::string& file) {
  FILE* out = std::fopen(file.c_str(), "wb");
  if (!out) die("cannot write " + file);
  uint64_t pages = 0;
  auto list = files(dir);
  for (auto& rel : list) {
    std::vector<uint64_t> hashes;
    forPages(dir + "/" + rel, [&](uint64_t, const char* p, size_t n) { hashes.push_back(pageHash(p, n)); });
    uint32_t len = static_cast<uint32_t>(rel.size());
    uint64_t count = hashes.size();
    std::fwrite(&len, sizeof len, 1, out);
    std::fwrite(rel.data(), 1, len, out);
    std::fwrite(&count, sizeof count, 1, out);
    std::fwrite(hashes.data(), sizeof(uint64_t), count, out);
    pages += count;
  }
  if (std::fclose(out) != 0) die("cannot write " + file);
  std::printf("{\"files\": %zu, \"pages\": %llu}\n", list.size(), static_cast<unsigned long long>(pages));
  return 0;
}

int compare(const std::string& file, const std::string& dir, int level) {
  std::unordered_map<std::string, std::vector<uint64_t>> before;
  FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) die("cannot read " + file);
  for (;;) {
    uint32_t len;
    if (std::fread(&len, sizeof len, 1, in) != 1) break;
    std::string rel(len, '\0');
    uint64_t count;
    if (std::fread(rel.data(), 1, len, in) != len || std::fread(&count, sizeof count, 1, in) != 1) die("short " + file);
    std::vector<uint64_t> hashes(count);
    if (std::fread(hashes.data(), sizeof(uint64_t), count, in) != count) die("short " + file);
    before.emplace(std::move(rel), std::move(hashes));
  }
  std::fclose(in);

  ZSTD_CCtx* stream = ZSTD_createCCtx();
  ZSTD_CCtx* single = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(stream, ZSTD_c_compressionLevel, level);
  std::vector<char> out(ZSTD_CStreamOutSize()), one(ZSTD_compressBound(kPage));
  uint64_t streamBytes = 0, pageBytes = 0, changed = 0, changedBytes = 0, total = 0, totalBytes = 0;
  size_t changedFiles = 0;
  auto list = files(dir);
  for (auto& rel : list) {
    auto it = before.find(rel);
    const std::vector<uint64_t>* old = it == before.end() ? nullptr : &it->second;
    bool fileChanged = false;
    forPages(dir + "/" + rel, [&](uint64_t block, const char* p, size_t n) {
      ++total;
      totalBytes += n;
      if (old && block < old->size() && (*old)[block] == pageHash(p, n)) return;
      fileChanged = true;
      ++changed;
      changedBytes += n;
      ZSTD_inBuffer input{p, n, 0};
      while (input.pos < input.size) {
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        ZSTD_compressStream2(stream, &o, &input, ZSTD_e_continue);
        streamBytes += o.pos;
      }
      size_t r = ZSTD_compressCCtx(single, one.data(), one.size(), p, n, level);
      if (!ZSTD_isError(r)) pageBytes += r;
    });
    changedFiles += fileChanged;
  }
  for (;;) {
    ZSTD_inBuffer input{nullptr, 0, 0};
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    size_t left = ZSTD_compressStream2(stream, &o, &input, ZSTD_e_end);
    streamBytes += o.pos;
    if (left == 0) break;
  }
  ZSTD_freeCCtx(stream);
  ZSTD_freeCCtx(single);
  std::printf(
      "{\"files\": %zu, \"pages\": %llu, \"bytes\": %llu, \"changed_files\": %zu, \"changed_pages\": %llu, "
      "\"changed_bytes\": %llu, \"zstd_level\": %d, \"zstd_stream\": %llu, \"zstd_pages\": %llu}\n",
      list.size(), static_cast<unsigned long long>(total), static_cast<unsigned long long>(totalBytes), changedFiles,
      static_cast<unsigned long long>(changed), static_cast<unsigned long long>(changedBytes), level,
      static_cast<unsigned long long>(streamBytes), static_cast<unsigned long long>(pageBytes));
  return 0;
}

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

int scribble(const std::string& dir, double fraction, uint64_t seed) {
  std::vector<std::string> rels;
  for (auto& rel : files(dir)) {
    std::string base = rel.substr(rel.rfind('/') + 1);
    // Relation files only (digits, optionally _fsm/_vm/_init and .N): what the data really is.
    if (rel.starts_with("base/") && !base.empty() && base[0] >= '0' && base[0] <= '9') rels.push_back(rel);
  }
  std::vector<uint64_t> firstPage;  // global index of each file's first page
  uint64_t pages = 0;
  for (auto& rel : rels) {
    struct stat st;
    if (stat((dir + "/" + rel).c_str(), &st) != 0) die("cannot stat " + rel);
    firstPage.push_back(pages);
    pages += static_cast<uint64_t>(st.st_size) / kPage;
  }
  uint64_t want = static_cast<uint64_t>(static_cast<double>(pages) * fraction + 0.5);
  SplitMix rng{seed};
  std::set<uint64_t> chosen;
  while (chosen.size() < want && chosen.size() < pages) chosen.insert(rng.next() % pages);
  std::vector<char> noise(kPage);
  std::set<size_t> touched;
  int fd = -1;
  size_t open = SIZE_MAX;
  for (uint64_t g : chosen) {
    size_t f = static_cast<size_t>(std::upper_bound(firstPage.begin(), firstPage.end(), g) - firstPage.begin() - 1);
    if (f != open) {
      if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0)) die("cannot write " + rels[open]);
      fd = ::open((dir + "/" + rels[f]).c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) die("cannot open " + rels[f]);
      open = f;
    }
    for (size_t i = 0; i < kPage; i += 8) {
      uint64_t v = rng.next();
      std::memcpy(noise.data() + i, &v, 8);
    }
    if (pwrite(fd, noise.data(), kPage, static_cast<off_t>((g - firstPage[f]) * kPage)) != static_cast<ssize_t>(kPage))
      die("cannot write " + rels[f]);
    touched.insert(f);
  }
  if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0)) die("cannot write " + rels[open]);
  std::printf("{\"relation_files\": %zu, \"relation_pages\": %llu, \"changed_files\": %zu, \"changed_pages\": %zu, "
              "\"changed_bytes\": %llu}\n",
              rels.size(), static_cast<unsigned long long>(pages), touched.size(), chosen.size(),
              static_cast<unsigned long long>(chosen.size() * kPage));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "snapshot") return snapshot(a[1], a[2]);
  if ((a.size() == 3 || a.size() == 4) && a[0] == "compare")
    return compare(a[1], a[2], a.size() == 4 ? std::atoi(a[3].c_str()) : 3);
  if (a.size() == 4 && a[0] == "scribble") return scribble(a[1], std::atof(a[2].c_str()), std::stoull(a[3]));
  std::fprintf(stderr,
               "usage: pgbr-bench-pages snapshot DATADIR FILE | compare FILE DATADIR [LEVEL] | "
               "scribble DATADIR FRACTION SEED\n");
  return 2;
}
