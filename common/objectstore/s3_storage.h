// The S3 storage driver: a pgbr::Storage in a bucket of AWS S3 or an S3-compatible store
// (MinIO, Ceph RGW, Google Cloud Storage's interoperability API, s3rver), under a key prefix.
// Requests are signed with SigV4 over the SHA-256 of the payload (which the store checks) and
// carry Content-MD5; large objects go up as multipart uploads; listings are ListObjectsV2
// pages; IfAbsent writes send If-None-Match: * (see object_storage.h). docs/object-stores.md
// describes the options and the behaviour.
//
// Threading and lifetime as for every ObjectStorage: thread-safe; readers and writers must not
// outlive it. The credentials stay inside; messages and logs never show them.
#pragma once

#include "common/objectstore/endpoint.h"
#include "common/objectstore/object_storage.h"
#include "common/objectstore/sigv4.h"

#include <atomic>

namespace pgbr::objectstore {

struct S3Settings {
  std::string bucket;
  Endpoint endpoint;
  std::string region = "us-east-1";
  UriStyle uriStyle = UriStyle::Host;
  SigV4Credentials credentials;
  std::string prefix;  // the repository's key prefix (repo-path), "" for the bucket's root
  HttpSettings http;
  ObjectStoreTuning tuning;
};

// S3's smallest part (but the last) of a multipart upload.
inline constexpr size_t kS3MinPartSize = 5 * 1024 * 1024;

class S3Storage final : public ObjectStorage {
 public:
  // Throws OptionInvalidValue for a part size S3 refuses or an empty bucket.
  explicit S3Storage(S3Settings settings);

 protected:
  std::string describeKey(std::string_view key) const override;
  std::optional<ObjectHead> head(const std::string& key) override;
  std::optional<Fetched> get(const std::string& key, uint64_t offset, uint64_t length,
                             const std::string& ifMatch) override;
  PutOutcome put(const std::string& key, std::span<const uint8_t> data, bool ifAbsent) override;
  std::string beginUpload(const std::string& key) override;
  std::string uploadPart(const std::string& key, const std::string& upload, int number,
                         std::span<const uint8_t> data) override;
  PutOutcome completeUpload(const std::string& key, const std::string& upload,
                            const std::vector<std::string>& tokens, bool ifAbsent) override;
  void abortUpload(const std::string& key, const std::string& upload) noexcept override;
  ObjectListing listPage(const std::string& prefix, bool delimited, const std::string& next) override;
  void deleteObject(const std::string& key) override;
  std::string errorDetail(const HttpResponse& reply) const override;

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // A signed request for key ("" for the bucket) with query, extra headers and body.
  HttpRequest request(const std::string& method, const std::string& key, const Query& query, Headers headers,
                      std::span<const uint8_t> body) const;
  ObjectHead headOf(const HttpResponse& reply, std::string_view key) const;

  S3Settings settings_;
  // Cleared when the store answers a conditional write with 501 Not Implemented.
  std::atomic<bool> conditionalWrites_{true};
};

}  // namespace pgbr::objectstore
