// Retries against a misbehaving HTTP server on loopback: a tiny scripted server answers each
// request with the next scripted reply (an error status, a dropped connection, malformed XML, or
// a good reply), and the S3 driver must come through, or fail naming what happened.
#include "common/objectstore/s3_storage.h"

#include "common/error.h"
#include "test/common/storage/storage_test_util.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <mutex>
#include <thread>

using namespace pgbr;
using namespace pgbr::objectstore;
using pgbr::test::bytesOf;

namespace {

struct Reply {
  int status = 200;  // 0: close the connection without answering
  std::string body;
  std::vector<std::string> headers;
};

// Serves one connection per request (Connection: close), each with the next scripted reply;
// when the script is empty it answers 500. Stops and joins in its destructor.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::deque<Reply> script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    socklen_t length = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request = readRequest(fd);
      Reply reply;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request.substr(0, request.find("\r\n")));
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        } else {
          reply.status = 500;
        }
      }
      if (reply.status != 0) {
        std::string text = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\nConnection: close\r\n";
        bool explicitLength = false;
        for (const auto& header : reply.headers) {
          text += header + "\r\n";
          explicitLength = explicitLength || header.starts_with("Content-Length:");
        }
        // A HEAD reply states the object's length but carries no body.
        if (!explicitLength) text += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        text += "\r\n" + reply.body;
        size_t sent = 0;
        while (sent < text.size()) {
          ssize_t n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
          if (n <= 0) break;
          sent += static_cast<size_t>(n);
        }
      }
      ::close(fd);
    }
  }
  static std::string readRequest(int fd) {
    std::string data;
    char buffer[65536];
    size_t headerEnd = std::string::npos;
    size_t need = 0;
    for (;;) {
      if (headerEnd != std::string::npos && data.size() >= headerEnd + 4 + need) return data;
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return data;
      data.append(buffer, static_cast<size_t>(n));
      if (headerEnd == std::string::npos && (headerEnd = data.find("\r\n\r\n")) != std::string::npos) {
        std::string lower = data.substr(0, headerEnd);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t at = lower.find("content-length:");
        if (at != std::string::npos) need = std::stoul(lower.substr(at + 15));
      }
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::deque<Reply> script_;
  std::vector<std::string> requests_;
};

S3Storage storageOn(const ScriptedServer& server, int attempts = 4) {
  S3Settings settings;
  settings.bucket = "bucket";
  settings.endpoint = parseEndpoint(server.endpoint(), "endpoint");
  settings.uriStyle = UriStyle::Path;
  settings.credentials = {"AK", "SECRET-KEY-VALUE", ""};
  settings.tuning.retry.attempts = attempts;
  settings.tuning.retry.firstDelay = std::chrono::milliseconds(1);
  settings.tuning.retry.maxDelay = std::chrono::milliseconds(5);
  return S3Storage(settings);
}

const char* kInternalError = "<Error><Code>InternalError</Code><Message>try again</Message></Error>";

}  // namespace

TEST_CASE("a write retried after 500 and 503 succeeds on the third attempt") {
  ScriptedServer server({{500, kInternalError, {}}, {503, "<Error><Code>SlowDown</Code></Error>", {}}, {200, "", {}}});
  auto s3 = storageOn(server);
  CHECK(s3.write("object", bytesOf("data")) == WriteResult::Written);
  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& line : requests) CHECK(line == "PUT /bucket/object HTTP/1.1");
}

TEST_CASE("a read retried after a dropped connection and a 429 gets the object") {
  // A read is a HEAD (size and ETag) then a ranged GET pinned to that ETag; the HEAD is retried.
  ScriptedServer server({{0, "", {}},
                         {429, "", {}},
                         {200, "", {"Content-Length: 5", "ETag: \"abc\""}},
                         {206, "hello", {"Content-Range: bytes 0-4/5", "ETag: \"abc\""}}});
  auto s3 = storageOn(server);
  CHECK(s3.read("object") == bytesOf("hello"));
  auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  for (size_t i = 0; i < 3; ++i) CHECK(requests[i] == "HEAD /bucket/object HTTP/1.1");
  CHECK(requests[3] == "GET /bucket/object HTTP/1.1");
}

TEST_CASE("a listing whose reply is malformed XML is asked again") {
  ScriptedServer server({{200, "<ListBucketResult><Contents><Key>a</Key>", {}},
                         {200,
                          "<ListBucketResult><Contents><Key>a</Key><Size>3</Size></Contents>"
                          "<IsTruncated>false</IsTruncated></ListBucketResult>",
                          {}}});
  auto s3 = storageOn(server);
  auto entries = s3.list("", true);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].path == "a");
  CHECK(entries[0].size == 3);
}

TEST_CASE("a store that keeps failing gives an error naming the key, the status and the attempts") {
  ScriptedServer server({});  // 500 every time
  auto s3 = storageOn(server, 3);
  try {
    s3.write("dir/object", bytesOf("data"));
    FAIL("the write succeeded");
  } catch (const Error& e) {
    std::string message = e.what();
    CAPTURE(message);
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(message.find("s3://bucket/dir/object") != std::string::npos);
    CHECK(message.find("3 attempt(s)") != std::string::npos);
    CHECK(message.find("HTTP 500") != std::string::npos);
    CHECK(message.find("SECRET-KEY-VALUE") == std::string::npos);
  }
  CHECK(server.requests().size() == 3);
}

TEST_CASE("a refusal (403) is not retried and names the store's error code") {
  ScriptedServer server({{403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", {}}});
  auto s3 = storageOn(server);
  try {
    // A write, because a refused HEAD has no body to name the code.
    s3.write("secret/object", bytesOf("data"));
    FAIL("the write succeeded");
  } catch (const Error& e) {
    std::string message = e.what();
    CAPTURE(message);
    CHECK(e.code() == ErrorCode::FileWrite);
    CHECK(message.find("AccessDenied: Access Denied") != std::string::npos);
    CHECK(message.find("s3://bucket/secret/object") != std::string::npos);
  }
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a connection refused is retried, then reported as such") {
  int port;
  {
    ScriptedServer closed({});
    port = std::stoi(closed.endpoint().substr(closed.endpoint().rfind(':') + 1));
  }
  S3Settings settings;
  settings.bucket = "bucket";
  settings.endpoint = parseEndpoint("http://127.0.0.1:" + std::to_string(port), "endpoint");
  settings.uriStyle = UriStyle::Path;
  settings.credentials = {"AK", "SK", ""};
  settings.tuning.retry.attempts = 2;
  settings.tuning.retry.firstDelay = std::chrono::milliseconds(1);
  S3Storage s3(settings);
  try {
    s3.exists("x");
    FAIL("exists() succeeded");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::FileRead);
    CHECK(std::string(e.what()).find("2 attempt(s)") != std::string::npos);
  }
}
