// The Azure Blob storage driver: a pgbr::Storage in a container of an Azure storage account
// (or Azurite), under a blob-name prefix. Requests are authorised with the account's Shared
// Key or a SAS token; small objects are one Put Blob, large ones staged blocks committed with
// Put Block List; every upload carries Content-MD5, which the service checks; listings are
// List Blobs pages followed by their markers. docs/object-stores.md describes the options.
//
// Threading and lifetime as for every ObjectStorage: thread-safe; readers and writers must not
// outlive it. The key and the SAS token stay inside; messages and logs never show them.
#pragma once

#include "common/objectstore/endpoint.h"
#include "common/objectstore/object_storage.h"

namespace pgbr::objectstore {

enum class AzureKeyType { Shared, Sas };

struct AzureSettings {
  std::string account;
  std::string container;
  Endpoint endpoint;  // blob.core.windows.net, or Azurite's address
  UriStyle uriStyle = UriStyle::Host;
  AzureKeyType keyType = AzureKeyType::Shared;
  std::string key;  // base64 shared key, or the SAS token (without '?')
  std::string prefix;
  HttpSettings http;
  ObjectStoreTuning tuning;
};

// The service version pgbr speaks (x-ms-version).
inline constexpr std::string_view kAzureApiVersion = "2021-08-06";

class AzureStorage final : public ObjectStorage {
 public:
  // Throws OptionInvalidValue for an empty account or container.
  explicit AzureStorage(AzureSettings settings);

  // Creates the container when it does not exist (first-time setup and tests).
  void createContainer();

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
  // A signed request for a blob (or, with an empty key, the container).
  HttpRequest request(const std::string& method, const std::string& key, const Query& query, Headers headers,
                      std::span<const uint8_t> body) const;
  ObjectHead headOf(const HttpResponse& reply, std::string_view key) const;

  AzureSettings settings_;
};

}  // namespace pgbr::objectstore
