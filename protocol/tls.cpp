#include "protocol/tls.h"

#include "common/error.h"

#include <openssl/err.h>

#include <filesystem>

namespace pgbr::protocol {
namespace {

void requireFile(const std::string& path, std::string_view what) {
  if (path.empty()) fail(ErrorCode::Tls, "no TLS {} file is configured", what);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(ErrorCode::Tls, "TLS {} file '{}' does not exist", what, path);
}

std::shared_ptr<const TlsContext> makeContext(bool server, const std::string& caFile, const std::string& certFile,
                                              const std::string& keyFile, TlsVersion minVersion) {
  requireFile(caFile, "CA");
  requireFile(certFile, "certificate");
  requireFile(keyFile, "key");
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, TlsContext::Free> ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx) fail(ErrorCode::Tls, "cannot create a TLS context: {}", takeOpenSslErrors());
  auto* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, minVersion == TlsVersion::Tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (SSL_CTX_load_verify_locations(c, caFile.c_str(), nullptr) != 1)
    fail(ErrorCode::Tls, "cannot load TLS CA file '{}': {}", caFile, takeOpenSslErrors());
  if (SSL_CTX_use_certificate_chain_file(c, certFile.c_str()) != 1)
    fail(ErrorCode::Tls, "cannot load TLS certificate file '{}': {}", certFile, takeOpenSslErrors());
  if (SSL_CTX_use_PrivateKey_file(c, keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
    fail(ErrorCode::Tls, "cannot load TLS key file '{}': {}", keyFile, takeOpenSslErrors());
  if (SSL_CTX_check_private_key(c) != 1)
    fail(ErrorCode::Tls, "TLS key file '{}' does not match certificate file '{}'", keyFile, certFile);
  if (server) {
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // The client CA list sent in CertificateRequest helps clients pick the right certificate.
    if (auto* names = SSL_load_client_CA_file(caFile.c_str())) SSL_CTX_set_client_CA_list(c, names);
    // No session tickets: connections are long-lived, and nothing arrives after the handshake
    // that is not a frame.
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  }
  SSL_CTX_set_mode(c, SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  ERR_clear_error();
  return std::make_shared<const TlsContext>(std::move(ctx), caFile);
}

}  // namespace

std::shared_ptr<const TlsContext> TlsContext::server(const TlsServerSettings& settings) {
  return makeContext(true, settings.caFile, settings.certFile, settings.keyFile, settings.minVersion);
}

std::shared_ptr<const TlsContext> TlsContext::client(const TlsClientSettings& settings) {
  if (settings.host.empty()) fail(ErrorCode::Tls, "no repository host is configured for TLS");
  return makeContext(false, settings.caFile, settings.certFile, settings.keyFile, settings.minVersion);
}

std::string takeOpenSslErrors(std::string_view fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : fmt::format("error 0x{:x}", e);
  }
  return out.empty() ? std::string(fallback) : out;
}

}  // namespace pgbr::protocol
