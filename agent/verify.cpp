// The verify command: has the server read back everything the stanza depends on (docs/
// operations.md "verify") and reports each finding; exits with corrupt when there is an error.
#include "agent/commands.h"

#include "common/error.h"
#include "common/log.h"
#include "common/text.h"

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

namespace pgbr::agent {
namespace {

using nlohmann::json;

std::string formatFinding(const json& finding) {
  return fmt::format("{} {}: {}", finding.value("severity", "error") == "error" ? "ERROR" : "WARN",
                     finding.value("object", ""), finding.value("message", ""));
}

std::string formatVerifyText(const std::string& stanza, const json& summary, const std::vector<json>& findings) {
  auto count = [&](const char* key) { return summary.value(key, uint64_t{0}); };
  std::string text = fmt::format("stanza: {}\n    status: {}\n", stanza,
                                 count("errors") == 0
                                     ? (count("warnings") == 0 ? std::string("ok")
                                                               : fmt::format("ok ({} warnings)", count("warnings")))
                                     : fmt::format("error ({} errors, {} warnings)", count("errors"), count("warnings")));
  if (summary.value("packsChecked", false))
    text += fmt::format("    packs: {} read whole, {} chunks opened and their ids recomputed\n", count("packs"),
                        count("blobs"));
  else
    text += "    packs: the chunks this stanza's backups name were opened and their ids recomputed\n";
  text += fmt::format("    index segments: {}\n    backups: {} manifests, {} files\n    WAL files: {}\n    read: {}\n",
                      count("indexSegments"), count("manifests"), count("files"), count("walFiles"),
                      formatBytes(count("bytesRead")));
  if (!findings.empty()) {
    text += "    findings:\n";
    for (const auto& finding : findings) text += "        " + formatFinding(finding) + "\n";
    uint64_t total = count("errors") + count("warnings");
    if (total > findings.size()) text += fmt::format("        … and {} more\n", total - findings.size());
  }
  return text;
}

}  // namespace

int runVerify(const Config& config) {
  std::string stanza = config.stanza();
  RepoSession session(config);
  json request = {{"op", "verify"}, {"stanza", stanza}};
  auto [channel, response] = session.client().download(request);
  logInfo("verifying stanza '{}'{}", stanza,
          response.value("packs", false) ? " and every pack of the repository" : "");

  std::vector<json> findings;
  std::string pending;
  auto lastLog = std::chrono::steady_clock::now();
  while (auto data = channel.receiveData()) {
    pending.append(reinterpret_cast<const char*>(data->data()), data->size());
    size_t start = 0;
    for (size_t newline; (newline = pending.find('\n', start)) != std::string::npos; start = newline + 1) {
      json line = json::parse(pending.substr(start, newline - start), nullptr, false);
      if (line.is_discarded()) fail(ErrorCode::Protocol, "the server sent a verify line that is not JSON");
      if (line.value("kind", "") == "finding") {
        logAt(line.value("severity", "") == "error" ? LogLevel::Error : LogLevel::Warn, "{}", formatFinding(line));
        findings.push_back(std::move(line));
      } else if (auto now = std::chrono::steady_clock::now(); now - lastLog >= std::chrono::seconds(5)) {
        lastLog = now;
        logInfo("verify: {} {}/{}", line.value("step", ""), line.value("done", 0), line.value("total", 0));
      }
    }
    pending.erase(0, start);
  }
  const json& summary = channel.trailer();
  if (config.choice("output") == "json")
    fmt::print("{}\n", json{{"stanza", stanza}, {"summary", summary}, {"findings", findings}}.dump(2));
  else
    fmt::print("{}", formatVerifyText(stanza, summary, findings));

  uint64_t errors = summary.value("errors", uint64_t{0});
  if (errors > 0) fail(ErrorCode::Corrupt, "verify found {} errors in stanza '{}'", errors, stanza);
  logInfo("verify of stanza '{}' found no errors ({} warnings)", stanza, summary.value("warnings", uint64_t{0}));
  return 0;
}

}  // namespace pgbr::agent
