// TLS settings for the repository server and the agent (plain data: the binaries map their
// options onto these) and the OpenSSL contexts built from them: mutual TLS, TLS 1.3 by
// default, certificates signed by one fleet CA.
//
// A TlsContext is immutable once built and may be shared by any number of connections on
// any threads (OpenSSL contexts are thread-safe for that use).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pgbr::protocol {

constexpr uint16_t kDefaultPort = 8432;

enum class TlsVersion { Tls12, Tls13 };

struct TlsServerSettings {
  std::string address = "localhost";  // tls-server-address
  uint16_t port = kDefaultPort;       // tls-server-port; 0 picks a free port (tests)
  std::string caFile;                 // tls-server-ca-file: CA that signs client certificates
  std::string certFile;               // tls-server-cert-file (may hold the chain)
  std::string keyFile;                // tls-server-key-file
  // tls-server-auth: client certificate CN -> stanzas it may use; "*" grants every stanza.
  std::map<std::string, std::vector<std::string>> auth;
  TlsVersion minVersion = TlsVersion::Tls13;
};

struct TlsClientSettings {
  std::string host;              // repo1-host: also the name the server certificate must carry
  uint16_t port = kDefaultPort;  // repo1-host-port
  std::string caFile;            // repo1-host-ca-file
  std::string certFile;          // repo1-host-cert-file
  std::string keyFile;           // repo1-host-key-file
  TlsVersion minVersion = TlsVersion::Tls13;
};

class TlsContext {
 public:
  // Load the CA, certificate and key; throw Error(Tls) naming the file that cannot be used
  // and why (missing, not PEM, key does not match the certificate).
  static std::shared_ptr<const TlsContext> server(const TlsServerSettings& settings);
  static std::shared_ptr<const TlsContext> client(const TlsClientSettings& settings);

  SSL_CTX* native() const { return ctx_.get(); }
  // For messages: "CA file '/etc/pgbr/ca.pem'".
  const std::string& caFile() const { return caFile_; }

  struct Free {
    void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
  };
  TlsContext(std::unique_ptr<SSL_CTX, Free> ctx, std::string caFile)
      : ctx_(std::move(ctx)), caFile_(std::move(caFile)) {}

 private:
  std::unique_ptr<SSL_CTX, Free> ctx_;
  std::string caFile_;
};

// The OpenSSL error queue as one line ("reason; reason"), emptied; `fallback` when empty.
std::string takeOpenSslErrors(std::string_view fallback = "unknown OpenSSL error");

}  // namespace pgbr::protocol
