// The part every object-store driver (S3, Azure Blob) shares: the pgbr::Storage contract built
// on a handful of HTTP primitives a driver supplies — head, ranged get, put, multipart upload,
// one page of a listing, delete. docs/object-stores.md explains the mapping:
//
// - paths become keys under a prefix (repo-path); directories are emulated with '/' as the
//   delimiter, and createDirectory() writes an empty marker object "<dir>/" that listings
//   show as a directory and never as an object;
// - a whole-object write up to singlePutMax is one PUT; a streaming writer buffers one part and
//   switches to a multipart upload (S3) or staged blocks (Azure) once the object outgrows a
//   part, so nothing is visible before finish() and memory stays at one part per writer;
// - every upload carries Content-MD5 (and the S3 driver a signed SHA-256 payload hash), so the
//   store rejects a body damaged on the way;
// - IfAbsent: the write is sent with If-None-Match: * (atomic on stores that honour it) after
//   a HEAD, and the HEAD and the write run under a per-key lock of this process, so concurrent
//   IfAbsent writers of one process never both win even on a store that ignores the header;
// - a reader reads ranges on demand, pinned to the ETag it saw first (If-Match): an object
//   replaced during a read is an error, never a mix of two versions;
// - every request is retried with exponential back-off on transport errors, 5xx, 429 and 408,
//   and on malformed XML in a successful reply.
//
// Threading: a driver may be used from many threads at once (the HTTP client pools handles);
// readers and writers belong to one thread at a time and must not outlive the storage.
#pragma once

#include "common/error.h"
#include "common/objectstore/http_client.h"
#include "common/storage/storage.h"

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pgbr::objectstore {

struct ObjectStoreTuning {
  size_t partSize = 16 * 1024 * 1024;       // a streaming writer's buffer and multipart part size
  size_t singlePutMax = 128 * 1024 * 1024;  // whole-object writes up to this size are one PUT
  size_t readAhead = 4 * 1024 * 1024;       // most a reader's read() fetches at once
  RetryPolicy retry;
};

struct ObjectHead {
  uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
  std::string etag;
  std::string md5Hex;  // the stored object's MD5 when the store reports it, else empty
};

struct ObjectListing {
  struct Item {
    std::string key;
    uint64_t size = 0;
  };
  std::vector<Item> objects;
  std::vector<std::string> prefixes;  // with their trailing '/'
  std::string next;                   // continuation token or marker; empty on the last page
};

enum class PutOutcome { Written, Exists };

class ObjectStorage : public Storage {
 public:
  std::string describe(std::string_view path) const override;
  std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                          std::optional<uint64_t> length = std::nullopt) override;
  WriteResult write(std::string_view path, std::span<const uint8_t> data, WriteMode mode = WriteMode::Replace) override;
  std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) override;
  std::vector<ListEntry> list(std::string_view directory, bool recursive = false) override;
  bool exists(std::string_view path) override;
  std::optional<ObjectInfo> info(std::string_view path) override;
  bool remove(std::string_view path) override;
  void removeTree(std::string_view path) override;
  void createDirectory(std::string_view path) override;

  const ObjectStoreTuning& tuning() const { return tuning_; }

 protected:
  // prefix: the repository's place in the bucket or container ("" or "a/b", no slashes around).
  ObjectStorage(HttpSettings http, std::string prefix, ObjectStoreTuning tuning);

  // "s3://bucket/key", "azure://account/container/key": how messages name a key.
  virtual std::string describeKey(std::string_view key) const = 0;

  // The primitives. A missing object is nullopt/false, never an error; any other failure
  // throws Error (FileRead for reads and listings, FileWrite for writes and deletes).
  virtual std::optional<ObjectHead> head(const std::string& key) = 0;
  struct Fetched {
    std::vector<uint8_t> bytes;
    ObjectHead head;  // size is the whole object's
  };
  // [offset, offset + length) clamped to the object, pinned to ifMatch when not empty
  // (throws FileRead saying the object changed when it no longer matches).
  virtual std::optional<Fetched> get(const std::string& key, uint64_t offset, uint64_t length,
                                     const std::string& ifMatch) = 0;
  virtual PutOutcome put(const std::string& key, std::span<const uint8_t> data, bool ifAbsent) = 0;
  // A multipart upload (S3) or a set of staged blocks (Azure): begin, parts numbered from 1,
  // then complete with the tokens uploadPart returned, or abort.
  virtual std::string beginUpload(const std::string& key) = 0;
  virtual std::string uploadPart(const std::string& key, const std::string& upload, int number,
                                 std::span<const uint8_t> data) = 0;
  virtual PutOutcome completeUpload(const std::string& key, const std::string& upload,
                                    const std::vector<std::string>& tokens, bool ifAbsent) = 0;
  virtual void abortUpload(const std::string& key, const std::string& upload) noexcept = 0;
  // One page of the keys under prefix; delimited: with '/' as the delimiter.
  virtual ObjectListing listPage(const std::string& prefix, bool delimited, const std::string& next) = 0;
  virtual void deleteObject(const std::string& key) = 0;

  // Sends a request built (and signed) anew for each attempt, retrying transport errors,
  // retryable statuses, and 2xx replies that check() rejects with Error(Format). Returns the
  // first reply that is neither. Throws Error(code) naming op and key after the last attempt.
  using Check = std::function<void(const HttpResponse&)>;
  HttpResponse send(std::string_view op, std::string_view key, ErrorCode code,
                    const std::function<HttpRequest()>& build, const Check& check = {});
  // Throws Error(code) for an unexpected reply: op, key, status and the store's own error
  // code and message (errorDetail), never a header or a secret.
  [[noreturn]] void failReply(std::string_view op, std::string_view key, ErrorCode code, const HttpResponse& reply);
  // "AccessDenied: Access Denied" from a reply's error document or headers; empty when none.
  virtual std::string errorDetail(const HttpResponse& reply) const = 0;

  std::string keyOf(std::string_view path) const;
  HttpClient& http() { return http_; }

 private:
  class Reader;
  class Writer;
  friend class Reader;
  friend class Writer;

  // One PUT of a whole object (IfAbsent through writeIfAbsent).
  WriteResult writeWhole(const std::string& key, std::span<const uint8_t> data, WriteMode mode);
  // Every key under prefix (markers included), for removeTree.
  std::vector<std::string> allKeys(const std::string& prefix);
  // Runs an IfAbsent write under the key's lock after a HEAD; write returns the store's answer.
  WriteResult writeIfAbsent(const std::string& key, const std::function<PutOutcome()>& write);
  std::mutex& keyLock(const std::string& key);

  HttpClient http_;
  std::string prefix_;  // "" or "a/b/"
  ObjectStoreTuning tuning_;
  std::array<std::mutex, 64> keyLocks_;
};

}  // namespace pgbr::objectstore
