#include "common/objectstore/http_client.h"

#include "common/error.h"
#include "common/objectstore/encoding.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <strings.h>
#include <random>

namespace pgbr::objectstore {
namespace {

// curl_global_init is not thread-safe before 7.84; run it once, before the first handle.
void initCurlOnce() {
  static const bool done = [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail(ErrorCode::Unknown, "libcurl failed to initialise");
    return true;
  }();
  (void)done;
}

struct Upload {
  std::span<const uint8_t> body;
  size_t at = 0;
};

size_t readBody(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->body.size() - upload->at);
  std::memcpy(buffer, upload->body.data() + upload->at, n);
  upload->at += n;
  return n;
}

// Rewinds the body when curl resends it (a redirect or an auth retry).
int seekBody(void* user, curl_off_t offset, int origin) {
  auto* upload = static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > upload->body.size())
    return CURL_SEEKFUNC_CANTSEEK;
  upload->at = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t writeBody(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  response->body.insert(response->body.end(), data, data + size * count);
  return size * count;
}

size_t writeHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  response->headers.emplace_back(std::move(name), std::string(value));
  return size * count;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return value;
  return std::nullopt;
}

std::optional<uint64_t> HttpResponse::objectSize(std::string_view what) const {
  if (auto range = header("content-range")) {
    size_t slash = range->rfind('/');
    if (slash != std::string::npos && range->substr(slash + 1) != "*")
      return parseDecimalSize(std::string_view(*range).substr(slash + 1), "Content-Range");
  }
  if (auto length = header("content-length")) return parseDecimalSize(*length, what);
  return std::nullopt;
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  Handle() : curl(curl_easy_init()) {
    if (!curl) fail(ErrorCode::Unknown, "libcurl could not create a handle (out of memory?)");
  }
  ~Handle() { curl_easy_cleanup(curl); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

HttpClient::HttpClient(HttpSettings settings) : settings_(std::move(settings)) { initCurlOnce(); }

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::take() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::give(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mutex_);
  // Enough handles for the threads that use the client at once; more would only hold sockets.
  if (idle_.size() < 32) idle_.push_back(std::move(handle));
}

std::variant<HttpResponse, HttpTransportError> HttpClient::send(const HttpRequest& request) {
  auto handle = take();
  CURL* curl = handle->curl;
  curl_easy_reset(curl);  // keeps the connection cache of the handle

  HttpResponse response;
  Upload upload{request.body, 0};
  char errorBuffer[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  bool hasContentType = false;
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    hasContentType = hasContentType || (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0);
    headers = curl_slist_append(headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip, and no Content-Type curl would invent for a POST
  // (Azure signs Content-Type).
  headers = curl_slist_append(headers, "Expect:");
  if (!hasContentType) headers = curl_slist_append(headers, "Content-Type:");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headerList(headers, curl_slist_free_all);

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings_.connectTimeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(settings_.stallTimeout.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, settings_.verifyTls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, settings_.verifyTls ? 2L : 0L);
  if (!settings_.caFile.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.caFile.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, writeHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seekBody);
  curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);

  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, readBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, readBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    std::string why = errorBuffer[0] ? errorBuffer : curl_easy_strerror(code);
    // A handle whose connection failed may hold a broken socket: do not reuse it.
    return HttpTransportError{std::move(why)};
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  give(std::move(handle));
  return response;
}

std::chrono::milliseconds RetryPolicy::delayBefore(int attempt) const {
  double delay = static_cast<double>(firstDelay.count());
  for (int i = 2; i < attempt && delay < static_cast<double>(maxDelay.count()); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(maxDelay.count()));
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<int64_t>(delay * jitter(random)));
}

std::string uriEncode(std::string_view text, bool keepSlash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (unreserved || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace pgbr::objectstore
