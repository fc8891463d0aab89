#include "protocol/tls_stream.h"

#include "common/error.h"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <optional>

namespace pgbr::protocol {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);
// Room for many TLS records per read system call.
constexpr size_t kInputBufferSize = 256 * 1024;

struct FreeBioMethod {
  void operator()(BIO_METHOD* method) const noexcept { BIO_meth_free(method); }
};

long bioCtrl(BIO*, int cmd, long, void*) {
  // OpenSSL flushes its write BIO after each flight; our buffer is flushed by flush().
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

// Alerts a server sends about the client's certificate (as OpenSSL reasons).
bool isCertificateAlert(int reason) {
  switch (reason) {
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

}  // namespace

int TlsStream::bioWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  // Same element type on both sides, so this is one memcpy (char -> uint8_t would not be).
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  self->out_.insert(self->out_.end(), bytes, bytes + size);
  *written = size;
  return 1;
}

int TlsStream::bioRead(BIO* bio, char* data, size_t size, size_t* read) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  size_t available = self->inEnd_ - self->inBegin_;
  if (available == 0) {
    BIO_set_retry_read(bio);
    *read = 0;
    return 0;
  }
  size_t n = std::min(size, available);
  std::memcpy(data, self->in_.data() + self->inBegin_, n);
  self->inBegin_ += n;
  *read = n;
  return 1;
}

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> context, Role role,
                     std::string peer, std::string verifyHost)
    : socket_(std::move(socket)),
      context_(std::move(context)),
      role_(role),
      peer_(std::move(peer)),
      in_(kInputBufferSize) {
  static const std::unique_ptr<BIO_METHOD, FreeBioMethod> method = [] {
    std::unique_ptr<BIO_METHOD, FreeBioMethod> m(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pgbr"));
    if (!m || BIO_meth_set_write_ex(m.get(), &TlsStream::bioWrite) != 1 ||
        BIO_meth_set_read_ex(m.get(), &TlsStream::bioRead) != 1 || BIO_meth_set_ctrl(m.get(), &bioCtrl) != 1)
      fail(ErrorCode::Tls, "cannot create the TLS I/O method: {}", takeOpenSslErrors());
    return m;
  }();
  ssl_.reset(SSL_new(context_->native()));
  BIO* bio = ssl_ ? BIO_new(method.get()) : nullptr;
  if (!bio) fail(ErrorCode::Tls, "cannot create a TLS session: {}", takeOpenSslErrors());
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);
  SSL_set_read_ahead(ssl_.get(), 1);
  if (role_ == Role::Client) {
    SSL_set_connect_state(ssl_.get());
    asio::error_code ec;
    asio::ip::make_address(verifyHost, ec);
    bool ok = !ec ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), verifyHost.c_str()) == 1
                  : SSL_set1_host(ssl_.get(), verifyHost.c_str()) == 1 &&
                        SSL_set_tlsext_host_name(ssl_.get(), verifyHost.c_str()) == 1;
    if (!ok) fail(ErrorCode::Tls, "cannot verify host name '{}': {}", verifyHost, takeOpenSslErrors());
  } else {
    SSL_set_accept_state(ssl_.get());
  }
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
}

void TlsStream::failTls(int result, std::string_view during) {
  int sslError = SSL_get_error(ssl_.get(), result);
  unsigned long first = ERR_peek_error();
  int reason = ERR_GET_REASON(first);
  std::string errors = takeOpenSslErrors(sslError == SSL_ERROR_SYSCALL ? "connection reset" : "unknown TLS error");
  bool client = role_ == Role::Client;
  long verify = SSL_get_verify_result(ssl_.get());
  if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    if (client)
      fail(ErrorCode::Tls,
           "server certificate verify failed for {}: {} (the server certificate must be signed by "
           "the CA in '{}' and name the host in its subjectAltName)",
           peer_, X509_verify_cert_error_string(verify), context_->caFile());
    fail(ErrorCode::Tls,
         "client certificate verify failed for {}: {} (client certificates must be signed by the CA "
         "in '{}')",
         peer_, X509_verify_cert_error_string(verify), context_->caFile());
  }
  if (!client && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
    fail(ErrorCode::Tls,
         "client {} presented no certificate (a client certificate signed by the CA in '{}' is "
         "required)",
         peer_, context_->caFile());
  if (ERR_GET_LIB(first) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
    if (client && isCertificateAlert(reason))
      fail(ErrorCode::Tls, "server refused certificate: {} ({})", errors, peer_);
    if (client) fail(ErrorCode::Tls, "server {} refused the TLS handshake: {}", peer_, errors);
    fail(ErrorCode::Tls, "client {} aborted the TLS handshake: {}", peer_, errors);
  }
  fail(ErrorCode::Tls, "TLS error with {} while {}: {}", peer_, during, errors);
}

asio::awaitable<void> TlsStream::fill() {
  if (inBegin_ == inEnd_) {
    inBegin_ = inEnd_ = 0;
  } else if (inEnd_ == in_.size()) {
    std::memmove(in_.data(), in_.data() + inBegin_, inEnd_ - inBegin_);
    inEnd_ -= inBegin_;
    inBegin_ = 0;
  }
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(in_.data() + inEnd_, in_.size() - inEnd_), kTuple);
  if (ec == asio::error::eof) {
    if (SSL_is_init_finished(ssl_.get())) fail(ErrorCode::Connect, "{} closed the connection", peer_);
    fail(role_ == Role::Client ? ErrorCode::Tls : ErrorCode::Connect,
         "{} closed the connection during the TLS handshake", peer_);
  }
  if (ec) fail(ErrorCode::Connect, "connection to {} failed: {}", peer_, ec.message());
  inEnd_ += n;
}

asio::awaitable<void> TlsStream::handshake() {
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_.get());
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), r);
    std::optional<Error> failure;
    if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ) {
      try {
        failTls(r, "handshaking");
      } catch (const Error& error) {
        failure = error;
      }
    }
    if (failure) {
      // Best effort: tell the peer why (the alert is in the output buffer).
      try {
        co_await flush();
      } catch (const Error&) {
      }
      throw *failure;
    }
    co_await flush();
    if (r == 1) co_return;
    co_await fill();
  }
}

asio::awaitable<void> TlsStream::read(std::span<uint8_t> out) {
  while (!out.empty()) {
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_read_ex(ssl_.get(), out.data(), out.size(), &n);
    if (r == 1) {
      out = out.subspan(n);
      continue;
    }
    int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ) {
      co_await fill();
    } else if (e == SSL_ERROR_ZERO_RETURN) {
      fail(ErrorCode::Connect, "{} closed the connection", peer_);
    } else {
      failTls(r, "reading");
    }
  }
}

void TlsStream::write(std::span<const uint8_t> plaintext) {
  if (plaintext.empty()) return;
  size_t written = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written) != 1 || written != plaintext.size())
    fail(ErrorCode::Tls, "TLS error with {} while writing: {}", peer_, takeOpenSslErrors());
}

void TlsStream::closeNotify() {
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_.get())) SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

asio::awaitable<void> TlsStream::flush() {
  if (out_.empty()) co_return;
  std::swap(out_, sending_);
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(sending_), kTuple);
  sending_.clear();
  if (ec) fail(ErrorCode::Connect, "cannot send to {}: {}", peer_, ec.message());
}

void TlsStream::shutdownSend() noexcept {
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void TlsStream::close() noexcept {
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string TlsStream::peerCommonName() const {
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  if (!cert) return {};
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (length < 0) return {};
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace pgbr::protocol
