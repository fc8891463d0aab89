// One TLS session over one TCP socket, driven by OpenSSL through in-memory buffers: reads
// fill a large input buffer with one system call for many records, writes encrypt into an
// output buffer that flush() sends with one system call. Failures become pgbr::Error with a
// message that says which side refused what (certificate unknown, expired, no certificate).
//
// Not thread-safe: every call must come from the connection's strand. One read() and one
// flush() may be in progress at the same time (a reader and a writer coroutine); write()
// only appends to the output buffer and never waits.
#pragma once

#include "protocol/frame.h"
#include "protocol/tls.h"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pgbr::protocol {

class TlsStream {
 public:
  // `peer` names the other side in messages ("server localhost:8432"); a client passes the
  // host name the server certificate must match (DNS name or IP address).
  TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> context, Role role, std::string peer,
            std::string verifyHost = {});
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Runs the TLS handshake; throws Error(Tls) (certificate problems) or Error(Connect).
  asio::awaitable<void> handshake();
  // Reads exactly out.size() bytes of plaintext. Throws Error(Connect) when the peer closes
  // the connection, Error(Tls) for TLS failures (including the peer's alerts).
  asio::awaitable<void> read(std::span<uint8_t> out);
  // Encrypts into the output buffer (one or more TLS records); never blocks.
  void write(std::span<const uint8_t> plaintext);
  // Adds a close_notify alert to the output buffer.
  void closeNotify();
  size_t pendingOutput() const { return out_.size(); }
  // Ciphertext not yet handed to the kernel: pending plus the flush in progress.
  size_t bufferedOutput() const { return out_.size() + sending_.size(); }
  // Half-closes the TCP connection after the last flush (the peer reads EOF).
  void shutdownSend() noexcept;
  // Sends the output buffer; only one flush at a time. Throws Error(Connect).
  asio::awaitable<void> flush();
  // Closes the socket; pending reads and flushes fail.
  void close() noexcept;
  bool isOpen() const { return socket_.is_open(); }

  // The peer certificate's subject CN (empty before the handshake or without one).
  std::string peerCommonName() const;
  const std::string& peer() const { return peer_; }
  std::string protocolVersion() const { return SSL_get_version(ssl_.get()); }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  struct FreeSsl {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };
  static int bioWrite(BIO* bio, const char* data, size_t size, size_t* written);
  static int bioRead(BIO* bio, char* data, size_t size, size_t* read);

  asio::awaitable<void> fill();  // reads more ciphertext from the socket
  [[noreturn]] void failTls(int result, std::string_view during);

  asio::ip::tcp::socket socket_;
  std::shared_ptr<const TlsContext> context_;
  Role role_;
  std::string peer_;
  std::unique_ptr<SSL, FreeSsl> ssl_;
  std::vector<uint8_t> in_;  // ciphertext read from the socket; [inBegin_, inEnd_) not yet used
  size_t inBegin_ = 0, inEnd_ = 0;
  std::vector<uint8_t> out_;      // ciphertext waiting for flush()
  std::vector<uint8_t> sending_;  // ciphertext flush() is writing now
};

}  // namespace pgbr::protocol
