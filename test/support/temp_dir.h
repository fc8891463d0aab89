// A temporary directory for one test, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <string>

namespace pgbr::test {

class TempDir {
public:
  // Created under $TMPDIR (or /tmp) with mode 0755 so the postgres user can enter it.
  explicit TempDir(const std::string& prefix = "pgbr-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

// Writes text to a file, creating parent directories.
void writeFile(const std::filesystem::path& path, const std::string& text);
std::string readFile(const std::filesystem::path& path);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int freePort();

}  // namespace pgbr::test
