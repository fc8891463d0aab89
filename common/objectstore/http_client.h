// HTTP/1.1 requests to object stores over libcurl: one attempt per send(), with connection
// reuse (a pool of curl easy handles, each keeping its own connections alive), connect and
// stall time-outs, and TLS verification against the system's CAs or a CA file. Retrying is the
// caller's policy (RetryPolicy below), because a retry must be signed anew.
//
// Threading: an HttpClient may be used from many threads at once; each send() takes a handle
// from the pool for its duration. Ownership: the client owns its handles; requests and
// responses are plain values. Secrets never pass through here except inside headers, which
// are never logged or put in messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pgbr::objectstore {

struct HttpSettings {
  std::chrono::milliseconds connectTimeout{10'000};
  // A transfer that moves no byte for this long fails (large uploads have no total limit).
  std::chrono::milliseconds stallTimeout{60'000};
  bool verifyTls = true;
  std::string caFile;  // empty: the system's trusted CAs
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // scheme://host[:port]/path?query, already encoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::span<const uint8_t> body;  // kept alive by the caller during send()
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in order
  std::vector<uint8_t> body;

  // The value of a header (name lower-case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  std::string bodyText() const { return {body.begin(), body.end()}; }
  // The whole object's size: the total of "Content-Range: bytes 0-9/1234" on a ranged reply,
  // else Content-Length; nullopt when neither tells it. Throws Format (naming `what`) for a
  // malformed value.
  std::optional<uint64_t> objectSize(std::string_view what) const;
};

// A failure below HTTP: no connection, a reset, a time-out, a TLS failure. Retryable.
struct HttpTransportError {
  std::string message;  // curl's reason, e.g. "Connection refused"
};

class HttpClient {
 public:
  explicit HttpClient(HttpSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One attempt. Returns the response (any status), or the transport failure.
  std::variant<HttpResponse, HttpTransportError> send(const HttpRequest& request);

 private:
  struct Handle;
  std::unique_ptr<Handle> take();
  void give(std::unique_ptr<Handle> handle);

  HttpSettings settings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// When to retry and how long to wait: exponential back-off with jitter, capped.
struct RetryPolicy {
  int attempts = 5;  // in all, the first included
  std::chrono::milliseconds firstDelay{200};
  std::chrono::milliseconds maxDelay{10'000};

  // The pause before attempt n (n >= 2), with +-25% jitter.
  std::chrono::milliseconds delayBefore(int attempt) const;
  // 5xx, 429 (throttled) and 408 (request time-out) are worth another attempt.
  static bool retryableStatus(long status) { return status >= 500 || status == 429 || status == 408; }
};

// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keepSlash): the URI
// encoding both S3 and Azure expect in paths and query strings.
std::string uriEncode(std::string_view text, bool keepSlash);

}  // namespace pgbr::objectstore
