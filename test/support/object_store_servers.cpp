#include "test/support/object_store_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace pgbr::test {
namespace {

std::string binary(const std::string& name) {
  std::filesystem::path path = std::filesystem::path(nodePrefix()) / "node_modules" / ".bin" / name;
  if (!std::filesystem::exists(path))
    throw std::runtime_error(path.string() + " is missing: run scripts/install-deps (it installs nodejs, npm, and " +
                             "s3rver and azurite with npm under " + nodePrefix() +
                             "; set PGBR_TEST_NODE_PREFIX for another place)");
  return path.string();
}

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Starts argv (with the port substituted by the caller) until it accepts connections on port.
std::unique_ptr<Child> startServer(const std::string& what, const std::vector<std::string>& argv, int port,
                                   const std::filesystem::path& log) {
  RunOptions options;
  // s3rver's continuation tokens use a cipher OpenSSL 3 keeps in its legacy provider.
  options.env["NODE_OPTIONS"] = "--openssl-legacy-provider";
  auto child = std::make_unique<Child>(argv, log, options);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts(port)) return child;
    if (!child->running())
      throw std::runtime_error(what + " exited before it accepted connections; its output:\n" + readFile(log));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error(what + " did not accept connections within 90 s; its output:\n" + readFile(log));
}

}  // namespace

std::string nodePrefix() {
  const char* prefix = std::getenv("PGBR_TEST_NODE_PREFIX");
  return prefix && *prefix ? prefix : "/opt/pgbr-test-node";
}

S3rverServer::S3rverServer() {
  std::string program = binary("s3rver");
  std::filesystem::create_directories(dir_ / "data");
  port_ = freePort();
  child_ = startServer("s3rver",
                       {program, "--directory", (dir_ / "data").string(), "--address", "127.0.0.1", "--port",
                        std::to_string(port_), "--silent", "--configure-bucket", kBucket},
                       port_, dir_ / "s3rver.log");
}

S3rverServer::~S3rverServer() = default;

S3rverServer& S3rverServer::shared() {
  static S3rverServer server;
  return server;
}

std::string S3rverServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

AzuriteServer::AzuriteServer() {
  std::string program = binary("azurite-blob");
  std::filesystem::create_directories(dir_ / "data");
  port_ = freePort();
  child_ = startServer("azurite",
                       {program, "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port_), "--location",
                        (dir_ / "data").string(), "--silent", "--skipApiVersionCheck", "--disableTelemetry",
                        "--loose"},
                       port_, dir_ / "azurite.log");
}

AzuriteServer::~AzuriteServer() = default;

AzuriteServer& AzuriteServer::shared() {
  static AzuriteServer server;
  return server;
}

std::string AzuriteServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

}  // namespace pgbr::test
