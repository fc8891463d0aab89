// The one storage interface of pgbr: objects addressed by relative paths under a driver's root,
// written atomically and durably, read whole or as ranged streams, listed and removed. Drivers:
// posix (posix_storage.h), in-memory (memory_storage.h), fault-injecting (fault_storage.h); the
// object-store drivers implement the same contract and run the same conformance suite
// (test/common/storage/storage_conformance.h). docs/storage.md states the contract in full.
//
// Every path is checked with validatePath() (no absolute paths, '..', '.', empty parts or NUL).
// Visibility: an object written through write() or openWrite() is invisible to every reader
// until finish() has made it durable; a cancelled or failed write leaves nothing visible.
// Threading: a Storage may be used from many threads at once; a reader or writer it returns
// belongs to one thread at a time and must not outlive the Storage.
#pragma once

#include "common/storage/byte_stream.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgbr {

struct ObjectInfo {
  uint64_t size = 0;
  std::chrono::system_clock::time_point mtime;
};

struct ListEntry {
  std::string path;        // relative to the listed directory, '/'-separated
  bool directory = false;  // only in non-recursive listings; recursive listings name objects only
  uint64_t size = 0;       // 0 for directories
  bool operator==(const ListEntry&) const = default;
};

enum class WriteMode {
  Replace,   // an existing object is replaced atomically
  IfAbsent,  // an existing object is left alone and the write reports AlreadyExists
};

enum class WriteResult { Written, AlreadyExists };

// A ranged read of one object. read() returns the bytes of the range in order; readAt() reads
// at any object offset (independent of the range and of read()'s position).
class StorageReader : public ByteSource {
public:
  // Size of the whole object when it was opened.
  virtual uint64_t objectSize() const = 0;
  // Fills buffer from the object at offset until it is full or the object ends; returns the
  // count. Throws FileRead.
  virtual size_t readAt(uint64_t offset, std::span<uint8_t> buffer) = 0;
};

// A streaming write of one object: write() any number of times, then finish() (durable, then
// visible, may throw) or cancel() (nothing visible). The destructor cancels an unfinished writer.
class StorageWriter : public ByteSink {
public:
  // After a successful finish(): Written, or AlreadyExists for a WriteMode::IfAbsent write that
  // found an object at the path (which is left unchanged).
  virtual WriteResult result() const = 0;
};

class Storage {
public:
  virtual ~Storage() = default;

  // The full name of a path for messages, e.g. "/var/lib/pgbr/repo/archive/x" or "memory:x".
  virtual std::string describe(std::string_view path) const = 0;

  // The whole object. Throws FileMissing when absent, FileRead on other failures.
  virtual std::vector<uint8_t> read(std::string_view path);
  // As read(), but nullopt when the object does not exist.
  std::optional<std::vector<uint8_t>> readIfExists(std::string_view path);
  // Streams [offset, offset + length) of the object (clamped to its end; nullopt length: to the
  // end). Throws FileMissing when absent.
  virtual std::unique_ptr<StorageReader> openRead(std::string_view path, uint64_t offset = 0,
                                                  std::optional<uint64_t> length = std::nullopt) = 0;

  // Writes a whole object atomically and durably; parent directories are created as needed.
  // Throws FileWrite (a full disk is named as such).
  virtual WriteResult write(std::string_view path, std::span<const uint8_t> data, WriteMode mode = WriteMode::Replace);
  virtual std::unique_ptr<StorageWriter> openWrite(std::string_view path, WriteMode mode = WriteMode::Replace) = 0;

  // Entries under a directory ("" is the root), sorted by path. A missing directory lists as
  // empty. Unfinished writes never appear.
  virtual std::vector<ListEntry> list(std::string_view directory, bool recursive = false) = 0;
  // True when an object (not a directory) exists at path.
  virtual bool exists(std::string_view path) = 0;
  // Size and modification time of an object; nullopt when absent.
  virtual std::optional<ObjectInfo> info(std::string_view path) = 0;
  // Removes one object durably; returns false when it did not exist.
  virtual bool remove(std::string_view path) = 0;
  // Removes a directory and everything below it; a missing path is not an error. The root
  // itself cannot be removed this way.
  virtual void removeTree(std::string_view path) = 0;
  // Creates a directory and its parents (durably); existing ones are fine. Object stores have
  // no directories, so callers never depend on an empty directory being listed.
  virtual void createDirectory(std::string_view path) = 0;
};

}  // namespace pgbr
