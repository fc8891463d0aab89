// A throw-away PKI for TLS tests, made with the OpenSSL 3 API: a CA (certificate and key as
// PEM files in a directory, usually a TempDir) that issues server and client certificates,
// including expired ones. Keys are EC P-256 so making them is fast.
//
// Not thread-safe; create one per test. Files stay until the directory is removed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace pgbr::test {

struct CertFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

struct CertRequest {
  std::string commonName;
  std::vector<std::string> hosts;  // subjectAltName entries: IP addresses or DNS names
  bool serverAuth = false;
  bool clientAuth = false;
  int validFromDays = -1;  // relative to now
  int validToDays = 365;
  std::string fileStem;  // "<stem>.crt", "<stem>.key"; the CN when empty
};

class TestCa {
 public:
  // Makes the CA's key and self-signed certificate in `dir` (created if missing).
  explicit TestCa(std::filesystem::path dir, const std::string& name = "pgbr test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::filesystem::path& certFile() const { return certFile_; }
  const std::filesystem::path& dir() const { return dir_; }

  CertFiles issue(const CertRequest& request);
  // Server certificate for 127.0.0.1 and localhost.
  CertFiles server(const std::string& commonName = "localhost");
  CertFiles client(const std::string& commonName);
  // A client certificate whose validity ended yesterday.
  CertFiles expiredClient(const std::string& commonName);

 private:
  struct Keys;
  std::filesystem::path dir_;
  std::filesystem::path certFile_;
  std::unique_ptr<Keys> keys_;
  long serial_ = 1;
};

}  // namespace pgbr::test
