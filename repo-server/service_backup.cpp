// The `backup` handler of RepoService: a long-lived channel that holds the stanza's backup lock,
// receives the manifest entries and commits the backup (docs/operations.md "backup").
#include "common/error.h"
#include "common/log.h"
#include "repo-server/request.h"
#include "repo-server/service.h"

namespace pgbr::repo {

asio::awaitable<void> RepoService::receiveAndCheck(Channel& channel, BackupSession& running) {
  while (auto data = co_await channel.receiveData()) {
    auto add = pool_.run([&] { running.addEntries(*data); });
    co_await std::move(add);
  }
  Json end = channel.trailer();
  auto check = pool_.run([&] {
    running.finishEntries(end);
    running.checkChunks();
  });
  co_await std::move(check);

  // The backup is consistent only with the WAL from its start to its stop: wait for it.
  const auto deadline = std::chrono::steady_clock::now() + running.archiveTimeout();
  auto interval = std::chrono::milliseconds(50);
  for (;;) {
    auto look = pool_.run([&] { return running.missingWal(); });
    std::vector<std::string> missing = co_await std::move(look);
    if (missing.empty()) break;
    if (!channel.connection().isOpen()) break;  // reported below
    if (std::chrono::steady_clock::now() >= deadline)
      fail(ErrorCode::ArchiveTimeout,
           "backup {} of stanza '{}': WAL segment {}{} did not reach the archive within archive-timeout ({} s): "
           "check that archive_command pushes to this repository",
           running.plan().label, running.stanza(), missing.front(),
           missing.size() > 1 ? fmt::format(" and {} later one(s)", missing.size() - 1) : std::string(),
           running.archiveTimeout().count() / 1000.0);
    co_await sleep(interval);
    interval = std::min(interval * 2, settings_.walPollInterval);
  }
  if (!channel.connection().isOpen())
    fail(ErrorCode::Cancelled, "backup {} of stanza '{}': the agent disconnected before the commit: nothing committed",
         running.plan().label, running.stanza());
}

asio::awaitable<void> RepoService::backup(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  std::string type = optionalString(request, "type").value_or("full");
  auto startTime = static_cast<std::time_t>(optionalUnsigned(request, "startTime").value_or(std::time(nullptr)));
  std::string holder = describeClient(session);
  auto begin = pool_.run([&] {
    auto identity = repo_.stanzas().get(stanza);
    return std::make_unique<BackupSession>(repo_, settings_.backup, identity, type, startTime, holder);
  });
  // Holds the stanza's backup lock until this handler ends, however it ends.
  std::unique_ptr<BackupSession> running = co_await std::move(begin);
  const std::string label = running->plan().label;
  logInfo("backup {} ({}) of stanza '{}' started by {}", label, running->plan().type, stanza, holder);
  const Json response = running->response();
  co_await channel.sendResponse(response);

  std::exception_ptr failure;
  try {
    co_await receiveAndCheck(channel, *running);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // What the agent sent is kept durable, so a backup tried again after a crash of the agent
    // or the network does not send it again.
    auto keep = pool_.run([&] { repo_.chunks().flushAfterFailure(fmt::format("backup {} of stanza '{}'", label, stanza)); });
    co_await std::move(keep);
    std::rethrow_exception(failure);
  }
  auto commit = pool_.run([&] { return running->commit(); });
  const Json trailer = co_await std::move(commit);
  co_await channel.sendEnd(trailer);
}

}  // namespace pgbr::repo
