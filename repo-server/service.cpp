#include "repo-server/service.h"

#include "common/error.h"
#include "common/log.h"
#include "repo-server/request.h"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <array>

namespace pgbr::repo {

RepoService::RepoService(Repository& repo, WorkerPool& pool, ServiceSettings settings)
    : repo_(repo), pool_(pool), settings_(std::move(settings)) {}

void RepoService::registerOn(protocol::Server& server) {
  using Member = asio::awaitable<void> (RepoService::*)(Session&, Channel&, const Json&);
  const std::pair<const char*, Member> table[] = {
      {"repo.keys", &RepoService::repoKeys},
      {"stanza.create", &RepoService::stanzaCreate},
      {"stanza.get", &RepoService::stanzaGet},
      {"wal.push", &RepoService::walPush},
      {"wal.get", &RepoService::walGet},
      {"wal.list", &RepoService::walList},
      {"backup", &RepoService::backup},
      {"chunks.missing", &RepoService::chunksMissing},
      {"chunks.put", &RepoService::chunksPut},
      {"chunks.patch", &RepoService::chunksPatch},
      {"chunks.get", &RepoService::chunksGet},
      {"blockmaps.get", &RepoService::blockmapsGet},
      {"manifest.get", &RepoService::manifestGet},
      {"info", &RepoService::info},
      {"verify", &RepoService::verify},
  };
  for (const auto& [op, member] : table)
    server.handle(op, [this, member](Session& session, Channel& channel, const Json& request) {
      return (this->*member)(session, channel, request);
    });
}

asio::awaitable<void> RepoService::sleep(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<uint64_t> RepoService::sendAll(Channel& channel, ByteSource& source) {
  std::vector<uint8_t> buffer(settings_.batchBytes);
  uint64_t sent = 0;
  for (;;) {
    auto read = pool_.run([&] { return readFull(source, buffer); });
    size_t n = co_await std::move(read);
    if (n == 0) co_return sent;
    sent += n;
    co_await channel.sendData(std::span<const uint8_t>(buffer).first(n));
  }
}

asio::awaitable<void> RepoService::repoKeys(Session& session, Channel& channel, const Json& request) {
  authorisedStanza(session, request);
  const Keyring& keys = *repo_.keys();
  Json dataKeys = Json::object();
  for (uint32_t id = 1; id <= keys.currentKeyId(); ++id)
    dataKeys[std::to_string(id)] = base64(keys.key(KeyPurpose::Data, id).bytes());
  const Json response{{"repoId", repo_.info().id},           {"cipher", cipherName(repo_.info().cipher)},
                      {"chunkSize", repo_.info().chunkSize}, {"pipeline", repo_.pipeline().toJson()},
                      {"currentKeyId", keys.currentKeyId()}, {"chunkIdKey", base64(keys.chunkIdKey().bytes())},
                      {"dataKeys", std::move(dataKeys)}};
  logDetail("{} fetched the repository's chunk and data keys", describeClient(session));
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::stanzaCreate(Session& session, Channel& channel, const Json& request) {
  StanzaIdentity requested;
  requested.stanza = authorisedStanza(session, request);
  requested.systemId = requireUnsigned(request, "systemId");
  requested.pgVersion = static_cast<unsigned>(requireUnsigned(request, "pgVersion"));
  requested.catalogVersion = static_cast<uint32_t>(requireUnsigned(request, "catalogVersion"));
  requested.controlVersion = static_cast<uint32_t>(requireUnsigned(request, "controlVersion"));
  requested.walSegmentSize = static_cast<uint32_t>(requireUnsigned(request, "walSegmentSize"));
  auto job = pool_.run([&] { return repo_.stanzas().create(requested); });
  StanzaStore::Created created = co_await std::move(job);
  if (created.created)
    logInfo("stanza '{}' created for PostgreSQL {} with system identifier {} by {}", requested.stanza,
            requested.pgVersion, requested.systemId, describeClient(session));
  const Json response{{"created", created.created}, {"identity", created.identity.toJson()}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::stanzaGet(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  auto job = pool_.run([&] { return repo_.stanzas().get(stanza); });
  StanzaIdentity identity = co_await std::move(job);
  const Json response{{"identity", identity.toJson()}};
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::info(Session& session, Channel& channel, const Json& request) {
  std::optional<std::string> named;
  if (request.contains("stanza") && !request.at("stanza").is_null()) named = authorisedStanza(session, request);
  auto job = pool_.run([&] {
    std::vector<std::string> names;
    if (named) {
      repo_.stanzas().get(*named);  // StanzaMissing for an unknown stanza
      names.push_back(*named);
    } else {
      for (auto& name : repo_.stanzas().list())
        if (session.allows(name)) names.push_back(std::move(name));
    }
    Json stanzas = Json::array();
    for (const auto& name : names) {
      auto identity = repo_.stanzas().get(name);
      Json backups = Json::array();
      for (const auto& label : repo_.manifests().labels(name))
        backups.push_back(repo_.manifests().readHeader(name, label).toJson());
      Json archive = repo_.wal().summary(identity);
      stanzas.push_back(
          Json{{"name", name}, {"identity", identity.toJson()}, {"backups", std::move(backups)}, {"archive", archive}});
    }
    return Json{{"stanzas", std::move(stanzas)}};
  });
  Json response = co_await std::move(job);
  co_await channel.sendResponse(response);
}

asio::awaitable<void> RepoService::manifestGet(Session& session, Channel& channel, const Json& request) {
  std::string stanza = authorisedStanza(session, request);
  std::string label = requireString(request, "label");
  // The source and the bytes read ahead of the header line, moved between worker and strand.
  struct Opened {
    std::unique_ptr<ByteSource> source;
    std::vector<uint8_t> head;
    Json header;
  };
  auto open = pool_.run([&] {
    Opened opened;
    label = repo_.manifests().resolve(stanza, label);
    opened.source = repo_.manifests().open(stanza, label);
    std::vector<uint8_t> piece(64 * 1024);
    for (;;) {
      size_t n = opened.source->read(piece);
      opened.head.insert(opened.head.end(), piece.begin(), piece.begin() + static_cast<ptrdiff_t>(n));
      auto newline = std::find(opened.head.begin(), opened.head.end(), '\n');
      if (newline != opened.head.end()) {
        auto line = Json::parse(opened.head.begin(), newline, nullptr, false);
        std::string what = fmt::format("manifest of backup {} of stanza '{}'", label, stanza);
        if (line.is_discarded()) fail(ErrorCode::Corrupt, "{}: its header is not valid JSON", what);
        opened.header = ManifestHeader::fromJson(line, what).toJson();
        return opened;
      }
      if (n == 0 || opened.head.size() > kMaxManifestLine)
        fail(ErrorCode::Corrupt, "manifest of backup {} of stanza '{}' has no complete header line", label, stanza);
    }
  });
  Opened opened = co_await std::move(open);
  const Json response{{"header", opened.header}};
  co_await channel.sendResponse(response);
  co_await channel.sendData(opened.head);
  uint64_t rest = co_await sendAll(channel, *opened.source);
  const Json trailer{{"bytes", opened.head.size() + rest}};
  co_await channel.sendEnd(trailer);
}

}  // namespace pgbr::repo
