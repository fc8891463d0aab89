// Real object-store servers for tests, on loopback: s3rver (S3) and Azurite (Azure Blob), from
// npm, installed by scripts/install-deps under $PGBR_TEST_NODE_PREFIX (default
// /opt/pgbr-test-node). Each server runs as a child process on a free port of 127.0.0.1 with
// its data in a temporary directory, and is stopped (SIGTERM, then SIGKILL) with its handle.
// When a server cannot be found or does not come up, the constructor throws
// std::runtime_error saying what to install: such tests fail, they never pass silently.
//
// Not thread-safe; a server may be shared by the tests of one process (see shared()).
#pragma once

#include "test/support/process.h"
#include "test/support/temp_dir.h"

#include <memory>
#include <string>

namespace pgbr::test {

// The directory holding node_modules/.bin/{s3rver,azurite-blob}.
std::string nodePrefix();

class S3rverServer {
 public:
  static constexpr const char* kBucket = "pgbr-test";
  static constexpr const char* kAccessKey = "S3RVER";  // s3rver's fixed credentials
  static constexpr const char* kSecretKey = "S3RVER";

  S3rverServer();
  ~S3rverServer();
  // One server for the whole test process, started on first use.
  static S3rverServer& shared();

  int port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string endpoint() const;

 private:
  TempDir dir_{"pgbr-s3rver"};
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

class AzuriteServer {
 public:
  static constexpr const char* kAccount = "devstoreaccount1";  // Azurite's well-known account
  static constexpr const char* kKey =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  static constexpr const char* kContainer = "pgbr-test";

  AzuriteServer();
  ~AzuriteServer();
  static AzuriteServer& shared();

  int port() const { return port_; }
  std::string endpoint() const;

 private:
  TempDir dir_{"pgbr-azurite"};
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

}  // namespace pgbr::test
