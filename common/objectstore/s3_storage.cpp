#include "common/objectstore/s3_storage.h"

#include "common/log.h"
#include "common/objectstore/encoding.h"
#include "common/objectstore/xml.h"
#include "common/text.h"

namespace pgbr::objectstore {
namespace {

constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
  return text;
}

}  // namespace

S3Storage::S3Storage(S3Settings settings)
    : ObjectStorage(settings.http, settings.prefix, settings.tuning), settings_(std::move(settings)) {
  if (settings_.bucket.empty()) fail(ErrorCode::OptionInvalidValue, "the S3 bucket name is empty");
  if (settings_.tuning.partSize < kS3MinPartSize)
    fail(ErrorCode::OptionInvalidValue, "S3 multipart parts are at least {} bytes, not {}", kS3MinPartSize,
         settings_.tuning.partSize);
}

std::string S3Storage::describeKey(std::string_view key) const {
  return fmt::format("s3://{}/{}", settings_.bucket, key);
}

HttpRequest S3Storage::request(const std::string& method, const std::string& key, const Query& query,
                               Headers headers, std::span<const uint8_t> body) const {
  bool pathStyle = settings_.uriStyle == UriStyle::Path;
  std::string path = pathStyle ? "/" + uriEncode(settings_.bucket, false) + "/" : "/";
  path += uriEncode(key, true);
  std::string host = pathStyle ? settings_.endpoint.authority() : settings_.bucket + "." + settings_.endpoint.authority();
  std::string amzDate = iso8601Basic(std::chrono::system_clock::now());

  SigV4Request sign;
  sign.method = method;
  sign.path = path;
  sign.query = query;
  sign.payloadHash = body.empty() ? std::string(kEmptySha256) : sha256Hex(body);
  headers.emplace_back("Host", host);
  headers.emplace_back("x-amz-date", amzDate);
  headers.emplace_back("x-amz-content-sha256", sign.payloadHash);
  if (!settings_.credentials.sessionToken.empty())
    headers.emplace_back("x-amz-security-token", settings_.credentials.sessionToken);
  if (!body.empty()) headers.emplace_back("Content-MD5", base64Encode(md5(body)));
  sign.headers = headers;
  headers.emplace_back("Authorization", sigV4Authorization(sign, settings_.credentials, amzDate, settings_.region));

  HttpRequest out;
  out.method = method;
  std::string queryText = canonicalQuery(query);
  out.url = settings_.endpoint.url(pathStyle ? "" : settings_.bucket, path + (queryText.empty() ? "" : "?" + queryText));
  out.headers = std::move(headers);
  out.body = body;
  return out;
}

std::string S3Storage::errorDetail(const HttpResponse& reply) const {
  if (reply.body.empty()) return {};
  try {
    XmlElement root = parseXml(reply.bodyText());
    std::string code = root.childText("Code").value_or("");
    std::string message = root.childText("Message").value_or("");
    if (code.empty() && message.empty()) return {};
    return message.empty() ? code : code + ": " + message;
  } catch (const Error&) {
    return "(the error reply is not XML)";
  }
}

ObjectHead S3Storage::headOf(const HttpResponse& reply, std::string_view key) const {
  ObjectHead head;
  std::string what = describeKey(key);
  if (auto size = reply.objectSize(what)) head.size = *size;
  head.etag = reply.header("etag").value_or("");
  if (auto modified = reply.header("last-modified"))
    head.mtime = parseHttpTime(*modified).value_or(std::chrono::system_clock::time_point{});
  std::string etag = unquote(head.etag);
  // A single-part upload's ETag is its MD5 (without SSE-KMS); multipart ETags have a '-'.
  if (etag.size() == 32 && etag.find_first_not_of("0123456789abcdef") == std::string::npos) head.md5Hex = etag;
  return head;
}

std::optional<ObjectHead> S3Storage::head(const std::string& key) {
  auto reply = send("HEAD", key, ErrorCode::FileRead, [&] { return request("HEAD", key, {}, {}, {}); });
  if (reply.status == 404) return std::nullopt;
  if (reply.status != 200) failReply("HEAD", key, ErrorCode::FileRead, reply);
  return headOf(reply, key);
}

std::optional<ObjectStorage::Fetched> S3Storage::get(const std::string& key, uint64_t offset, uint64_t length,
                                                     const std::string& ifMatch) {
  if (length == 0) {
    auto found = head(key);
    if (!found) return std::nullopt;
    if (!ifMatch.empty() && found->etag != ifMatch)
      fail(ErrorCode::FileRead, "{} changed while being read", describeKey(key));
    return Fetched{{}, *found};
  }
  Headers headers{{"Range", fmt::format("bytes={}-{}", offset, offset + length - 1)}};
  if (!ifMatch.empty()) headers.emplace_back("If-Match", ifMatch);
  auto reply = send("GET", key, ErrorCode::FileRead, [&] { return request("GET", key, {}, headers, {}); });
  if (reply.status == 404) return std::nullopt;
  if (reply.status == 412) fail(ErrorCode::FileRead, "{} changed while being read", describeKey(key));
  if (reply.status == 416) {
    // The range starts at or past the end (or the object is empty).
    auto found = head(key);
    if (!found) return std::nullopt;
    return Fetched{{}, *found};
  }
  if (reply.status != 200 && reply.status != 206) failReply("GET", key, ErrorCode::FileRead, reply);
  Fetched fetched{std::move(reply.body), headOf(reply, key)};
  if (reply.status == 200) {
    // A store that ignored the range sent the whole object: keep the range only.
    fetched.head.size = fetched.bytes.size();
    uint64_t begin = std::min<uint64_t>(offset, fetched.bytes.size());
    uint64_t end = std::min<uint64_t>(begin + length, fetched.bytes.size());
    fetched.bytes = std::vector<uint8_t>(fetched.bytes.begin() + static_cast<ptrdiff_t>(begin),
                                         fetched.bytes.begin() + static_cast<ptrdiff_t>(end));
  }
  return fetched;
}

PutOutcome S3Storage::put(const std::string& key, std::span<const uint8_t> data, bool ifAbsent) {
  bool conditional = ifAbsent && conditionalWrites_;
  auto reply = send("PUT", key, ErrorCode::FileWrite, [&] {
    Headers headers;
    if (conditional) headers.emplace_back("If-None-Match", "*");
    return request("PUT", key, {}, headers, data);
  });
  if (reply.status == 412 || (conditional && reply.status == 409)) return PutOutcome::Exists;
  if (conditional && reply.status == 501) {
    logDetail("{} does not support conditional writes: IfAbsent relies on HEAD then PUT", describeKey(""));
    conditionalWrites_ = false;
    return put(key, data, ifAbsent);
  }
  if (reply.status != 200) failReply("PUT", key, ErrorCode::FileWrite, reply);
  return PutOutcome::Written;
}

std::string S3Storage::beginUpload(const std::string& key) {
  std::string upload;
  auto reply = send(
      "CreateMultipartUpload", key, ErrorCode::FileWrite,
      [&] { return request("POST", key, {{"uploads", ""}}, {}, {}); },
      [&](const HttpResponse& r) { upload = parseXml(r.bodyText()).childText("UploadId").value_or(""); });
  if (reply.status != 200) failReply("CreateMultipartUpload", key, ErrorCode::FileWrite, reply);
  if (upload.empty()) fail(ErrorCode::FileWrite, "CreateMultipartUpload {}: the reply has no UploadId", describeKey(key));
  return upload;
}

std::string S3Storage::uploadPart(const std::string& key, const std::string& upload, int number,
                                  std::span<const uint8_t> data) {
  Query query{{"partNumber", std::to_string(number)}, {"uploadId", upload}};
  auto reply = send("UploadPart", key, ErrorCode::FileWrite, [&] { return request("PUT", key, query, {}, data); });
  if (reply.status != 200) failReply("UploadPart", key, ErrorCode::FileWrite, reply);
  auto etag = reply.header("etag");
  if (!etag || etag->empty()) fail(ErrorCode::FileWrite, "UploadPart {}: the reply has no ETag", describeKey(key));
  return *etag;
}

PutOutcome S3Storage::completeUpload(const std::string& key, const std::string& upload,
                                     const std::vector<std::string>& tokens, bool ifAbsent) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < tokens.size(); ++i)
    xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1, xmlEscape(tokens[i]));
  xml += "</CompleteMultipartUpload>";
  std::vector<uint8_t> body(xml.begin(), xml.end());
  bool conditional = ifAbsent && conditionalWrites_;
  std::string failure;
  auto reply = send(
      "CompleteMultipartUpload", key, ErrorCode::FileWrite,
      [&] {
        Headers headers;
        if (conditional) headers.emplace_back("If-None-Match", "*");
        return request("POST", key, {{"uploadId", upload}}, headers, body);
      },
      [&](const HttpResponse& r) {
        // S3 may report a failure inside a 200 reply; an InternalError there is worth a retry.
        XmlElement root = parseXml(r.bodyText());
        if (root.name == "Error") {
          std::string code = root.childText("Code").value_or("");
          if (code == "InternalError" || code == "SlowDown")
            fail(ErrorCode::Format, "the store answered {}", code);
          failure = code + ": " + root.childText("Message").value_or("");
        }
      });
  if (reply.status == 412 || (conditional && reply.status == 409)) return PutOutcome::Exists;
  if (conditional && reply.status == 501) {
    conditionalWrites_ = false;
    return completeUpload(key, upload, tokens, ifAbsent);
  }
  if (reply.status != 200) failReply("CompleteMultipartUpload", key, ErrorCode::FileWrite, reply);
  if (!failure.empty()) fail(ErrorCode::FileWrite, "CompleteMultipartUpload {} failed: {}", describeKey(key), failure);
  return PutOutcome::Written;
}

void S3Storage::abortUpload(const std::string& key, const std::string& upload) noexcept {
  try {
    auto reply = send("AbortMultipartUpload", key, ErrorCode::FileWrite,
                      [&] { return request("DELETE", key, {{"uploadId", upload}}, {}, {}); });
    if (reply.status != 204 && reply.status != 200 && reply.status != 404)
      failReply("AbortMultipartUpload", key, ErrorCode::FileWrite, reply);
  } catch (const std::exception& error) {
    // The parts stay invisible; a lifecycle rule for incomplete uploads removes them.
    logWarn("{} (the unfinished upload's parts stay invisible until the bucket's lifecycle rule removes them)",
            error.what());
  }
}

ObjectListing S3Storage::listPage(const std::string& prefix, bool delimited, const std::string& next) {
  Query query{{"list-type", "2"}, {"prefix", prefix}, {"max-keys", "1000"}};
  if (delimited) query.emplace_back("delimiter", "/");
  if (!next.empty()) query.emplace_back("continuation-token", next);
  ObjectListing listing;
  auto reply = send(
      "ListObjectsV2", prefix, ErrorCode::FileRead, [&] { return request("GET", "", query, {}, {}); },
      [&](const HttpResponse& r) {
        listing = ObjectListing{};
        XmlElement root = parseXml(r.bodyText());
        if (root.name != "ListBucketResult") fail(ErrorCode::Format, "the root element is '{}'", root.name);
        for (const XmlElement* item : root.all("Contents")) {
          auto key = item->childText("Key");
          if (!key) fail(ErrorCode::Format, "an entry has no Key");
          listing.objects.push_back({*key, parseDecimalSize(item->childText("Size").value_or("0"), "Size")});
        }
        for (const XmlElement* common : root.all("CommonPrefixes"))
          if (auto p = common->childText("Prefix")) listing.prefixes.push_back(*p);
        if (root.childText("IsTruncated").value_or("false") == "true") {
          listing.next = root.childText("NextContinuationToken").value_or("");
          if (listing.next.empty()) fail(ErrorCode::Format, "a truncated listing has no NextContinuationToken");
        }
      });
  if (reply.status != 200) failReply("ListObjectsV2", prefix, ErrorCode::FileRead, reply);
  return listing;
}

void S3Storage::deleteObject(const std::string& key) {
  auto reply = send("DELETE", key, ErrorCode::FileWrite, [&] { return request("DELETE", key, {}, {}, {}); });
  if (reply.status != 204 && reply.status != 200 && reply.status != 404)
    failReply("DELETE", key, ErrorCode::FileWrite, reply);
}

}  // namespace pgbr::objectstore
