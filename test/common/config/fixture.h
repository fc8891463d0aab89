// Helpers for the config tests: a temporary configuration file, an environment map, minimal
// valid configurations for each program, and a check that a call fails with a given code.
#pragma once

#include "common/config/parse.h"
#include "common/error.h"
#include "test/support/temp_dir.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace pgbr::test {

// What every agent command needs to reach its repository server.
inline const std::string kAgentGlobal =
    "[global]\n"
    "repo1-host=backup.example.com\n"
    "repo1-host-ca-file=/etc/pgbr/ca.crt\n"
    "repo1-host-cert-file=/etc/pgbr/agent.crt\n"
    "repo1-host-key-file=/etc/pgbr/agent.key\n";

// What the server command needs.
inline const std::string kServerGlobal =
    "[global]\n"
    "tls-server-ca-file=/etc/pgbr/ca.crt\n"
    "tls-server-cert-file=/etc/pgbr/server.crt\n"
    "tls-server-key-file=/etc/pgbr/server.key\n"
    "tls-server-auth=db1.example.com=main\n";

class ConfigFixture {
 public:
  ConfigFixture() : path_((dir_ / "pgbr.conf").string()) { writeConfig(""); }

  void writeConfig(const std::string& text) const { writeFile(path_, text); }
  const std::string& configPath() const { return path_; }
  const TempDir& dir() const { return dir_; }

  // Parses with --config=<the temporary file> first, so the host's /etc/pgbr is never read.
  Config agent(std::vector<std::string> args) const { return parse(Binary::Agent, std::move(args)); }
  Config repo(std::vector<std::string> args) const { return parse(Binary::Repo, std::move(args)); }
  Config parse(Binary binary, std::vector<std::string> args) const {
    args.insert(args.begin(), "--config=" + path_);
    return parseConfig(binary, args, env);
  }

  Environment env;

 private:
  TempDir dir_{"pgbr-config-test"};
  std::string path_;
};

// Runs `call`, checks that it throws an Error with `code`, and returns the message.
template <typename Call>
std::string errorOf(ErrorCode code, Call&& call) {
  try {
    call();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.code() == code, "unexpected code ", errorSlug(e.code()), " for: ", e.what());
    return e.what();
  }
  FAIL("no error was thrown");
  return {};
}

}  // namespace pgbr::test
