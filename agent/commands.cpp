// Command dispatch, RepoSession, and the small commands: server-ping, stanza-create, info.
#include "agent/commands.h"
#include "agent/json_fields.h"

#include "agent/cluster.h"
#include "agent/info_format.h"
#include "common/config/help.h"
#include "common/error.h"
#include "common/log.h"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <map>

namespace pgbr::agent {

using nlohmann::json;

RepoSession::RepoSession(const Config& config) : network_(), client_(network_, repoSettings(config)) {
  network_.onSignal([this](int signal) {
    logWarn("received {}: stopping", signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP");
    client_.abort(Error(ErrorCode::Cancelled, fmt::format("interrupted by signal {}", signal)));
  });
}

int runServerPing(const Config& config) {
  RepoSession session(config);
  auto rtt = session.client().ping();
  fmt::print("{} at {}: round trip {:.3f} ms\n", session.client().serverSoftware(), session.client().where(),
             static_cast<double>(rtt.count()) / 1e6);
  return 0;
}

int runStanzaCreate(const Config& config) {
  std::string stanza = config.stanza();
  pg::PgConnection connection(pgConnectOptions(config));
  LocalCluster cluster = inspectCluster(connection, config.str("pg-path", 1));
  RepoSession session(config);
  json request = cluster.identity.toRequest();
  request["op"] = "stanza.create";
  request["stanza"] = stanza;
  json response = session.client().call(request);
  bool created = field(response, "created") == json(true);
  if (field(response, "identity").is_object()) {
    // The server refuses another cluster itself; checking its answer too costs nothing.
    checkStanzaIdentity(ClusterIdentity::fromJson(field(response, "identity")), cluster.identity, stanza);
  }
  if (created) {
    logInfo("stanza '{}' created for {}", stanza, cluster.identity.describe());
    fmt::print("stanza '{}' created ({})\n", stanza, cluster.identity.describe());
  } else {
    logInfo("stanza '{}' already exists for {}: nothing to do", stanza, cluster.identity.describe());
    fmt::print("stanza '{}' already exists ({}): nothing to do\n", stanza, cluster.identity.describe());
  }
  return 0;
}

int runInfo(const Config& config) {
  RepoSession session(config);
  json request = {{"op", "info"}};
  if (!config.stanza().empty()) request["stanza"] = config.stanza();
  auto stanzas = parseInfo(session.client().call(request));
  if (config.has("set")) {
    std::string label = config.str("set");
    for (auto& stanza : stanzas)
      std::erase_if(stanza.backups, [&](const ManifestHeader& header) { return header.label != label; });
  }
  if (config.choice("output") == "json")
    fmt::print("{}\n", formatInfoJson(stanzas).dump(2));
  else
    fmt::print("{}", formatInfoText(stanzas));
  return 0;
}

int runCommand(const Config& config) {
  static const std::map<std::string_view, int (*)(const Config&)> commands = {
      {"archive-get", runArchiveGet},
      {"archive-push", runArchivePush},
      {"backup", runBackup},
      {"check", runCheck},
      {"info", runInfo},
      {"restore", runRestore},
      {"server-ping", runServerPing},
      {"stanza-create", runStanzaCreate},
      {"verify", runVerify},
  };
  auto it = commands.find(config.commandName());
  if (it == commands.end())
    fail(ErrorCode::CommandInvalid, "the {} command is not available in pgbr-agent {} yet", config.commandName(),
         pgbrVersion());
  return it->second(config);
}

}  // namespace pgbr::agent
