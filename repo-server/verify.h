// Reading a repository back to prove it restores (DESIGN §7 "verify"): every pack's hash,
// trailer and blobs (each chunk opened and its id recomputed), every index segment against the
// packs, every manifest of the stanzas asked for (structure, file checksums, every chunk it names
// present), every WAL file (records open, tag and size as named) and the WAL each backup needs.
// Findings are errors (the repository cannot restore something) or warnings (leftovers a crash
// may leave, such as a pack no index names, which garbage collection removes).
//
// Verifier runs in steps so a caller can report progress and send findings as they come; the
// steps may run on any thread, one at a time. The Repository must outlive the Verifier.
#pragma once

#include "repo-server/repository.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace pgbr::repo {

struct VerifyFinding {
  bool error = true;
  std::string object;   // "pack packs/ab/ab12….pack", "manifest main/20261125-034319F", "WAL main/0000…"
  std::string message;
};

struct VerifyCounts {
  uint64_t packs = 0;
  uint64_t blobs = 0;
  uint64_t indexSegments = 0;
  uint64_t manifests = 0;
  uint64_t files = 0;
  uint64_t walFiles = 0;
  uint64_t bytesRead = 0;
  uint64_t errors = 0;
  uint64_t warnings = 0;
};

class Verifier {
 public:
  // stanzas: the stanzas whose manifests and WAL are checked; checkPacks: also read every pack of
  // the (shared) chunk store. At most maxFindings findings are kept; all are counted.
  Verifier(Repository& repo, std::vector<std::string> stanzas, bool checkPacks, size_t maxFindings = 1000);

  // The work, as steps: each returns a short description of what it checked ("pack …").
  std::vector<std::string> indexSegmentIds();
  void checkIndexSegment(const std::string& id);
  std::vector<std::string> packPaths();
  void checkPack(const std::string& path);
  std::vector<std::string> labels(const std::string& stanza);
  void checkManifest(const std::string& stanza, const std::string& label);
  std::vector<std::string> walNames(const std::string& stanza);
  void checkWalFile(const std::string& stanza, const std::string& name);
  // After the WAL files: segment gaps within each timeline (warnings; errors inside a backup's
  // range are reported by checkManifest).
  void checkWalContinuity(const std::string& stanza);

  // Runs every step in order (for tests and offline use).
  void runAll();

  const std::vector<std::string>& stanzas() const { return stanzas_; }
  bool checkPacks() const { return checkPacks_; }
  // Findings recorded since the last call (the caller streams them).
  std::vector<VerifyFinding> takeNewFindings();
  VerifyCounts counts() const;
  nlohmann::json summary() const;

 private:
  void error(std::string object, std::string message);
  void warning(std::string object, std::string message);
  void record(VerifyFinding finding);
  void recordLocked(VerifyFinding finding);  // mutex_ held

  Repository& repo_;
  std::vector<std::string> stanzas_;
  bool checkPacks_;
  size_t maxFindings_;

  mutable std::mutex mutex_;
  VerifyCounts counts_;
  std::vector<VerifyFinding> pending_;
  size_t kept_ = 0;
  std::set<PackId> existingPacks_;    // listed by packPaths()
  std::set<PackId> indexedPacks_;     // named by some index segment
  std::map<std::string, std::vector<std::string>> walByStanza_;  // names seen by walNames()
};

nlohmann::json findingToJson(const VerifyFinding& finding);

}  // namespace pgbr::repo
