// `pgbr-repo server`: maps the configuration onto the TLS server, the repository and the
// service, serves until SIGTERM or SIGINT, then stops gracefully (requests in flight get a
// bounded grace, the chunk store is flushed) and returns the exit code.
//
// Threading: runServer() owns the io_context, its network threads and the worker pool for the
// whole run; call it from main() once logging is configured.
#pragma once

#include "common/config/config.h"
#include "protocol/limits.h"
#include "protocol/tls.h"
#include "repo-server/repo_storage.h"
#include "repo-server/repository.h"
#include "repo-server/service.h"

#include <chrono>
#include <string>

namespace pgbr::repo {

struct ServerConfig {
  protocol::TlsServerSettings tls;
  protocol::Limits limits;
  RepoStorageSettings storage;  // repo1 and the repositories it forwards to
  std::string repoPath;         // the server's local directory (repo1-path, or server-path)
  RepositoryOptions repository;
  ServiceSettings service;
  size_t workers = 4;  // process-max
  size_t networkThreads = 2;
  std::chrono::milliseconds shutdownGrace{10'000};
};

// Throws OptionInvalidValue for a value the server cannot use (two repositories in one place).
ServerConfig serverConfig(const Config& config);

// Runs the server; returns 0 after a clean stop. Throws Error for a failure to start (the
// repository cannot be opened, the port cannot be bound) or to flush at the end.
int runServer(const ServerConfig& settings);

}  // namespace pgbr::repo
