// The WAL handlers of RepoService: wal.push, wal.get, wal.list.
#include "common/error.h"
#include "common/log.h"
#include "repo-server/request.h"
#include "repo-server/service.h"

namespace pgbr::repo {

asio::awaitable<void> RepoService::walPush(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  std::string name = requireString(request, "name");
  uint64_t size = requireUnsigned(request, "size");
  std::string tag = requireString(request, "tag");
  auto begin = pool_.run([&] {
    auto identity = repo_.stanzas().get(stanza);
    return repo_.wal().beginPush(identity, name, size, tag);
  });
  std::unique_ptr<WalPush> push = co_await std::move(begin);
  while (auto data = co_await channel.receiveData()) {
    auto write = pool_.run([&] { push->write(*data); });
    co_await std::move(write);
  }
  auto finish = pool_.run([&] { return push->finish(); });
  WalPush::Result result = co_await std::move(finish);
  bool stored = result == WalPush::Result::Stored;
  logDetail("{} WAL file {} of stanza '{}' from {}", stored ? "archived" : "already had", name, stanza,
            describeClient(session));
  const Json response{{"result", stored ? "stored" : "duplicate"}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::walGet(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  std::string name = requireString(request, "name");
  WalArchive::checkName(name);
  struct Found {
    StoredWal stored;
    uint64_t size = 0;
    std::shared_ptr<StorageReader> reader;
  };
  auto find = pool_.run([&] {
    auto found = repo_.wal().findInHistory(repo_.stanzas().history(stanza), name);
    if (!found) {
      repo_.stanzas().get(stanza);  // a missing stanza is a clearer error than a missing file
      fail(ErrorCode::ArchiveMissing, "WAL file '{}' is not in the archive of stanza '{}'", name, stanza);
    }
    Found result{*found, repo_.wal().plainSize(*found), nullptr};
    result.reader = repo_.storage().openRead(found->path);
    return result;
  });
  Found found = co_await std::move(find);
  const Json response{{"size", found.size}, {"tag", found.stored.tag}};
  co_await channel.sendResponse(response);
  uint64_t sent = co_await sendAll(channel, *found.reader);
  const Json trailer{{"bytes", sent}};
  co_await channel.sendEnd(trailer);
}

asio::awaitable<void> RepoService::walList(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  std::string from = optionalString(request, "from").value_or("");
  std::string to = optionalString(request, "to").value_or("");
  uint64_t max = std::min<uint64_t>(optionalUnsigned(request, "max").value_or(kMaxWalListFiles), kMaxWalListFiles);
  auto list = pool_.run([&] { return repo_.wal().list(repo_.stanzas().get(stanza), from, to, max); });
  std::vector<std::string> files = co_await std::move(list);
  const Json response{{"files", files}};
  co_await channel.sendResponse(response);
}

}  // namespace pgbr::repo
