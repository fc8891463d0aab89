// The Azure Blob driver against a real Azure Blob server on loopback (Azurite): the storage
// conformance suite, staged blocks, SAS-less errors.
#include "common/objectstore/azure_storage.h"

#include "common/error.h"
#include "test/common/storage/storage_conformance.h"
#include "test/support/object_store_servers.h"

#include <doctest/doctest.h>

#include <atomic>

using namespace pgbr;
using namespace pgbr::objectstore;
using pgbr::test::bytesOf;
using pgbr::test::patternBytes;

namespace {

AzureSettings azuriteSettings(const std::string& prefix) {
  auto& server = test::AzuriteServer::shared();
  AzureSettings settings;
  settings.account = test::AzuriteServer::kAccount;
  settings.container = test::AzuriteServer::kContainer;
  settings.endpoint = parseEndpoint(server.endpoint(), "endpoint");
  settings.uriStyle = UriStyle::Path;
  settings.key = test::AzuriteServer::kKey;
  settings.prefix = prefix;
  settings.tuning.partSize = 1024 * 1024;  // blocks may be small: the 3 MiB streaming case stages four
  settings.tuning.retry.attempts = 2;
  settings.tuning.retry.firstDelay = std::chrono::milliseconds(10);
  return settings;
}

std::string freshPrefix() {
  static std::atomic<int> counter{0};
  return "conformance/" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// Azurite starts without containers; the first storage of the process creates the test's.
void containerMaker() {
  static const bool created = [] {
    AzureStorage storage(azuriteSettings(""));
    storage.createContainer();
    return true;
  }();
  (void)created;
}

struct AzureFactory {
  AzureFactory() { containerMaker(); }
  AzureStorage azure{azuriteSettings(freshPrefix())};
  Storage& storage() { return azure; }
};

}  // namespace

TEST_CASE("Azure storage on Azurite passes the storage conformance suite") {
  pgbr::test::runStorageConformance<AzureFactory>();
}

TEST_CASE("Azure storage stages blocks for a large object and commits them only at finish") {
  AzureFactory factory;
  Storage& azure = factory.storage();
  auto data = patternBytes(5 * 1024 * 1024 + 3, 11);
  auto writer = azure.openWrite("big", WriteMode::IfAbsent);
  writer->write(data);
  CHECK_FALSE(azure.exists("big"));
  writer->finish();
  CHECK(writer->result() == WriteResult::Written);
  CHECK(azure.read("big") == data);
  auto again = azure.openWrite("big", WriteMode::IfAbsent);
  again->write(patternBytes(2 * 1024 * 1024, 12));
  again->finish();
  CHECK(again->result() == WriteResult::AlreadyExists);
  CHECK(azure.read("big") == data);
}

TEST_CASE("Azure storage names the account, container and blob and the service's error, never the key") {
  auto settings = azuriteSettings(freshPrefix());
  settings.key = "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=";
  containerMaker();
  AzureStorage azure(settings);
  try {
    azure.write("denied", bytesOf("x"));
    FAIL("a write with a wrong key succeeded");
  } catch (const Error& e) {
    std::string message = e.what();
    CAPTURE(message);
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(message.find("azure://devstoreaccount1/pgbr-test/conformance/") != std::string::npos);
    CHECK(message.find("HTTP 403") != std::string::npos);
    CHECK(message.find("d3Jvbmcga2V5") == std::string::npos);
  }
}
