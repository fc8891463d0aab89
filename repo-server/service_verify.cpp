// The verify request (docs/operations.md): reads back what a stanza needs, step by step on the
// workers, streaming progress and findings as JSON Lines.
#include "repo-server/request.h"
#include "repo-server/service.h"
#include "repo-server/verify.h"

#include "common/log.h"

#include <algorithm>

namespace pgbr::repo {

asio::awaitable<void> RepoService::verify(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  // The chunk store is shared by every stanza: only a client trusted with all of them reads
  // every pack; others have the chunks their own manifests name checked.
  bool everything = std::find(session.stanzas().begin(), session.stanzas().end(), "*") !=
                                               session.stanzas().end();
  bool packs = everything && (!request.contains("packs") || request.at("packs") == Json(true));
  auto check = pool_.run([&] { repo_.stanzas().get(stanza); });
  co_await std::move(check);
  Verifier verifier(repo_, {stanza}, packs);
  const Json response{{"stanza", stanza}, {"packs", packs}};
  co_await channel.sendResponse(response);
  logInfo("verify of stanza '{}'{} started by {}", stanza, packs ? " and every pack" : "", describeClient(session));

  // Sends the findings recorded so far and a progress line.
  auto report = [&](std::string_view step, size_t done, size_t total) -> asio::awaitable<void> {
    std::string lines;
    for (const auto& finding : verifier.takeNewFindings()) {
      Json line = findingToJson(finding);
      line["kind"] = "finding";
      lines += line.dump() + "\n";
    }
    lines += Json{{"kind", "progress"}, {"step", step}, {"done", done}, {"total", total}}.dump() + "\n";
    co_await channel.sendData(std::span(reinterpret_cast<const uint8_t*>(lines.data()), lines.size()));
  };
  // Runs step(item) for every item on the workers, reporting after each.
  auto each = [&](std::string_view name, const std::vector<std::string>& items, auto step) -> asio::awaitable<void> {
    for (size_t i = 0; i < items.size(); ++i) {
      auto job = pool_.run([&] { step(items[i]); });
      co_await std::move(job);
      co_await report(name, i + 1, items.size());
    }
  };

  auto list = pool_.run([&] { return std::make_pair(verifier.packPaths(), verifier.indexSegmentIds()); });
  auto [packPaths, segments] = co_await std::move(list);
  co_await each("index segments", segments, [&](const std::string& id) { verifier.checkIndexSegment(id); });
  if (packs) co_await each("packs", packPaths, [&](const std::string& path) { verifier.checkPack(path); });
  auto labels = pool_.run([&] { return verifier.labels(stanza); });
  auto backupLabels = co_await std::move(labels);
  co_await each("manifests", backupLabels,
                [&](const std::string& label) { verifier.checkManifest(stanza, label); });
  auto names = pool_.run([&] { return verifier.walNames(stanza); });
  auto walNames = co_await std::move(names);
  co_await each("WAL files", walNames, [&](const std::string& name) { verifier.checkWalFile(stanza, name); });
  auto continuity = pool_.run([&] { verifier.checkWalContinuity(stanza); });
  co_await std::move(continuity);
  co_await report("done", 1, 1);

  Json summary = verifier.summary();
  logInfo("verify of stanza '{}': {} errors, {} warnings", stanza, summary["errors"].get<uint64_t>(),
          summary["warnings"].get<uint64_t>());
  co_await channel.sendEnd(summary);
}

}  // namespace pgbr::repo
