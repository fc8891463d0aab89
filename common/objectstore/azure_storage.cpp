#include "common/objectstore/azure_storage.h"

#include "common/filter/crypto.h"
#include "common/log.h"
#include "common/objectstore/azure_auth.h"
#include "common/objectstore/encoding.h"
#include "common/objectstore/sigv4.h"
#include "common/objectstore/xml.h"
#include "common/text.h"

namespace pgbr::objectstore {
namespace {

bool conditionFailed(const HttpResponse& reply) { return reply.status == 412 || reply.status == 409; }

}  // namespace

AzureStorage::AzureStorage(AzureSettings settings)
    : ObjectStorage(settings.http, settings.prefix, settings.tuning), settings_(std::move(settings)) {
  if (settings_.account.empty()) fail(ErrorCode::OptionInvalidValue, "the Azure storage account name is empty");
  if (settings_.container.empty()) fail(ErrorCode::OptionInvalidValue, "the Azure container name is empty");
  if (settings_.keyType == AzureKeyType::Shared && !base64Decode(settings_.key))
    fail(ErrorCode::OptionInvalidValue, "the shared key of Azure storage account '{}' is not base64",
         settings_.account);
  while (!settings_.key.empty() && settings_.key.front() == '?') settings_.key.erase(settings_.key.begin());
}

std::string AzureStorage::describeKey(std::string_view key) const {
  return fmt::format("azure://{}/{}/{}", settings_.account, settings_.container, key);
}

HttpRequest AzureStorage::request(const std::string& method, const std::string& key, const Query& query,
                                  Headers headers, std::span<const uint8_t> body) const {
  bool pathStyle = settings_.uriStyle == UriStyle::Path;
  std::string path = pathStyle ? "/" + uriEncode(settings_.account, false) : "";
  path += "/" + uriEncode(settings_.container, false);
  if (!key.empty()) path += "/" + uriEncode(key, true);
  headers.emplace_back("x-ms-date", rfc1123(std::chrono::system_clock::now()));
  headers.emplace_back("x-ms-version", std::string(kAzureApiVersion));
  if (!body.empty()) headers.emplace_back("Content-MD5", base64Encode(md5(body)));

  std::string queryText = canonicalQuery(query);
  if (settings_.keyType == AzureKeyType::Shared) {
    AzureSignRequest sign;
    sign.method = method;
    sign.account = settings_.account;
    sign.path = path;
    sign.query = query;
    sign.headers = headers;
    sign.contentLength = body.size();
    headers.emplace_back("Authorization", azureAuthorization(sign, settings_.key));
  } else {
    queryText += (queryText.empty() ? "" : "&") + settings_.key;
  }
  HttpRequest out;
  out.method = method;
  out.url = settings_.endpoint.url(pathStyle ? "" : settings_.account, path + (queryText.empty() ? "" : "?" + queryText));
  out.headers = std::move(headers);
  out.body = body;
  return out;
}

std::string AzureStorage::errorDetail(const HttpResponse& reply) const {
  std::string code = reply.header("x-ms-error-code").value_or("");
  std::string message;
  if (!reply.body.empty()) {
    try {
      XmlElement root = parseXml(reply.bodyText());
      if (code.empty()) code = root.childText("Code").value_or("");
      message = root.childText("Message").value_or("");
      // Azure appends request ids and times on further lines.
      if (size_t newline = message.find('\n'); newline != std::string::npos) message.resize(newline);
    } catch (const Error&) {
      message = "(the error reply is not XML)";
    }
  }
  if (code.empty()) return message;
  return message.empty() ? code : code + ": " + message;
}

ObjectHead AzureStorage::headOf(const HttpResponse& reply, std::string_view key) const {
  ObjectHead head;
  std::string what = describeKey(key);
  if (auto size = reply.objectSize(what)) head.size = *size;
  head.etag = reply.header("etag").value_or("");
  if (auto modified = reply.header("last-modified"))
    head.mtime = parseHttpTime(*modified).value_or(std::chrono::system_clock::time_point{});
  if (auto stored = reply.header("content-md5"))
    if (auto digest = base64Decode(*stored); digest && digest->size() == 16) head.md5Hex = toHex(*digest);
  return head;
}

void AzureStorage::createContainer() {
  auto reply = send("Create Container", "", ErrorCode::FileWrite,
                    [&] { return request("PUT", "", {{"restype", "container"}}, {}, {}); });
  if (reply.status != 201 && reply.status != 409) failReply("Create Container", "", ErrorCode::FileWrite, reply);
}

std::optional<ObjectHead> AzureStorage::head(const std::string& key) {
  auto reply = send("Get Blob Properties", key, ErrorCode::FileRead, [&] { return request("HEAD", key, {}, {}, {}); });
  if (reply.status == 404) return std::nullopt;
  if (reply.status != 200) failReply("Get Blob Properties", key, ErrorCode::FileRead, reply);
  return headOf(reply, key);
}

std::optional<ObjectStorage::Fetched> AzureStorage::get(const std::string& key, uint64_t offset, uint64_t length,
                                                        const std::string& ifMatch) {
  auto found = [&]() -> std::optional<Fetched> {
    auto h = head(key);
    if (!h) return std::nullopt;
    if (!ifMatch.empty() && h->etag != ifMatch)
      fail(ErrorCode::FileRead, "{} changed while being read", describeKey(key));
    return Fetched{{}, *h};
  };
  if (length == 0) return found();
  Headers headers{{"Range", fmt::format("bytes={}-{}", offset, offset + length - 1)}};
  if (!ifMatch.empty()) headers.emplace_back("If-Match", ifMatch);
  auto reply = send("Get Blob", key, ErrorCode::FileRead, [&] { return request("GET", key, {}, headers, {}); });
  if (reply.status == 404) return std::nullopt;
  if (reply.status == 412) fail(ErrorCode::FileRead, "{} changed while being read", describeKey(key));
  if (reply.status == 416) return found();
  if (reply.status != 200 && reply.status != 206) failReply("Get Blob", key, ErrorCode::FileRead, reply);
  Fetched fetched{std::move(reply.body), headOf(reply, key)};
  if (reply.status == 200) {
    fetched.head.size = fetched.bytes.size();
    uint64_t begin = std::min<uint64_t>(offset, fetched.bytes.size());
    uint64_t end = std::min<uint64_t>(begin + length, fetched.bytes.size());
    fetched.bytes = std::vector<uint8_t>(fetched.bytes.begin() + static_cast<ptrdiff_t>(begin),
                                         fetched.bytes.begin() + static_cast<ptrdiff_t>(end));
  }
  return fetched;
}

PutOutcome AzureStorage::put(const std::string& key, std::span<const uint8_t> data, bool ifAbsent) {
  auto reply = send("Put Blob", key, ErrorCode::FileWrite, [&] {
    Headers headers{{"x-ms-blob-type", "BlockBlob"}};
    if (ifAbsent) headers.emplace_back("If-None-Match", "*");
    return request("PUT", key, {}, headers, data);
  });
  if (ifAbsent && conditionFailed(reply)) return PutOutcome::Exists;
  if (reply.status != 201) failReply("Put Blob", key, ErrorCode::FileWrite, reply);
  return PutOutcome::Written;
}

std::string AzureStorage::beginUpload(const std::string&) {
  // Blocks are staged under ids unique to this upload; no request is needed to begin.
  std::array<uint8_t, 8> id{};
  randomBytes(id);
  return toHex(id);
}

std::string AzureStorage::uploadPart(const std::string& key, const std::string& upload, int number,
                                     std::span<const uint8_t> data) {
  // Every block id of a blob has the same length: 16 hex digits of the upload, 6 of the part.
  std::string plain = fmt::format("{}{:06}", upload, number);
  std::string blockId = base64Encode(bytesOf(plain));
  auto reply = send("Put Block", key, ErrorCode::FileWrite,
                    [&] { return request("PUT", key, {{"comp", "block"}, {"blockid", blockId}}, {}, data); });
  if (reply.status != 201) failReply("Put Block", key, ErrorCode::FileWrite, reply);
  return blockId;
}

PutOutcome AzureStorage::completeUpload(const std::string& key, const std::string&,
                                        const std::vector<std::string>& tokens, bool ifAbsent) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const auto& id : tokens) xml += "<Latest>" + xmlEscape(id) + "</Latest>";
  xml += "</BlockList>";
  std::vector<uint8_t> body(xml.begin(), xml.end());
  auto reply = send("Put Block List", key, ErrorCode::FileWrite, [&] {
    Headers headers{{"Content-Type", "application/xml"}};
    if (ifAbsent) headers.emplace_back("If-None-Match", "*");
    return request("PUT", key, {{"comp", "blocklist"}}, headers, body);
  });
  if (ifAbsent && conditionFailed(reply)) return PutOutcome::Exists;
  if (reply.status != 201) failReply("Put Block List", key, ErrorCode::FileWrite, reply);
  return PutOutcome::Written;
}

void AzureStorage::abortUpload(const std::string&, const std::string&) noexcept {
  // Uncommitted blocks are invisible and the service discards them after a week; there is no
  // request to drop them earlier.
}

ObjectListing AzureStorage::listPage(const std::string& prefix, bool delimited, const std::string& next) {
  Query query{{"restype", "container"}, {"comp", "list"}, {"prefix", prefix}, {"maxresults", "5000"}};
  if (delimited) query.emplace_back("delimiter", "/");
  if (!next.empty()) query.emplace_back("marker", next);
  ObjectListing listing;
  auto reply = send(
      "List Blobs", prefix, ErrorCode::FileRead, [&] { return request("GET", "", query, {}, {}); },
      [&](const HttpResponse& r) {
        listing = ObjectListing{};
        XmlElement root = parseXml(r.bodyText());
        if (root.name != "EnumerationResults") fail(ErrorCode::Format, "the root element is '{}'", root.name);
        if (const XmlElement* blobs = root.child("Blobs")) {
          for (const XmlElement* blob : blobs->all("Blob")) {
            auto name = blob->childText("Name");
            if (!name) fail(ErrorCode::Format, "a blob has no Name");
            uint64_t size = 0;
            if (const XmlElement* properties = blob->child("Properties"))
              size = parseDecimalSize(properties->childText("Content-Length").value_or("0"), "Content-Length");
            listing.objects.push_back({*name, size});
          }
          for (const XmlElement* common : blobs->all("BlobPrefix"))
            if (auto name = common->childText("Name")) listing.prefixes.push_back(*name);
        }
        listing.next = root.childText("NextMarker").value_or("");
      });
  if (reply.status != 200) failReply("List Blobs", prefix, ErrorCode::FileRead, reply);
  return listing;
}

void AzureStorage::deleteObject(const std::string& key) {
  auto reply = send("Delete Blob", key, ErrorCode::FileWrite, [&] { return request("DELETE", key, {}, {}, {}); });
  if (reply.status != 202 && reply.status != 200 && reply.status != 404)
    failReply("Delete Blob", key, ErrorCode::FileWrite, reply);
}

}  // namespace pgbr::objectstore
