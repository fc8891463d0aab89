// archive-push and archive-get: PostgreSQL's archive_command and restore_command. Both follow
// PostgreSQL's contract exactly: archive-push exits 0 only once the repository's RESPONSE says the
// file is stored (durable) or was already there identical; archive-get writes the file to a
// temporary name beside %p, checks every record and the tag, fsyncs and renames, so PostgreSQL
// never reads a byte that was not verified, and exits 1 quietly when the archive lacks the file.
#include "agent/channel_stream.h"
#include "agent/cluster.h"
#include "agent/commands.h"
#include "agent/json_fields.h"
#include "agent/repo_keys.h"
#include "common/filter/record_stream.h"
#include "common/log.h"
#include "common/pg/wal_header.h"
#include "common/pg/wal_name.h"
#include "common/storage/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

namespace pgbr::agent {

using nlohmann::json;

namespace {

pg::WalFileKind requireWalFileName(std::string_view name) {
  auto kind = pg::walFileKind(name);
  if (kind == pg::WalFileKind::Other)
    fail(ErrorCode::CommandInvalid,
         "'{}' is not the name of a WAL file (a segment, a .partial segment, a .history or a .backup file)", name);
  return kind;
}

UniqueFd openForRead(const std::string& path) {
  int fd = openRetry(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    failErrno(-fd == ENOENT ? ErrorCode::FileMissing : ErrorCode::FileOpen, "cannot open WAL file", path, -fd);
  return UniqueFd(fd);
}

// Size and tag of the file, read in buffer-sized pieces.
std::pair<uint64_t, std::string> sizeAndTag(int fd, const std::string& path, const Keyring& keys,
                                            std::vector<uint8_t>& buffer) {
  WalTag tag(keys);
  uint64_t size = 0;
  for (;;) {
    size_t n = preadFd(fd, buffer, size, path);
    if (n == 0) break;
    tag.update(std::span(buffer).first(n));
    size += n;
  }
  return {size, tag.finish()};
}

}  // namespace

int runArchivePush(const Config& config) {
  std::string stanza = config.stanza();
  // PostgreSQL runs archive_command in the data directory, so a relative %p is relative to the
  // working directory, never to a configured pg1-path (which may name another cluster).
  std::string path = config.args().at(0);
  std::string name = std::filesystem::path(path).filename().string();
  auto kind = requireWalFileName(name);
  UniqueFd fd = openForRead(path);

  RepoSession session(config);
  RepoClient& client = session.client();
  RepoKeys keys = fetchRepoKeys(client, stanza);
  applyCompressionOptions(config, keys.pipeline);
  std::vector<uint8_t> buffer(config.bytes("buffer-size"));

  if (kind == pg::WalFileKind::Segment || kind == pg::WalFileKind::Partial) {
    const json request = {{"op", "stanza.get"}, {"stanza", stanza}};
    ClusterIdentity identity = ClusterIdentity::fromJson(field(client.call(request), "identity"));
    size_t n = preadFd(fd.get(), std::span(buffer).first(std::min<size_t>(buffer.size(), 8192)), 0, path);
    auto header = pg::parseWalSegmentHeader(std::span(buffer).first(n), path);
    pg::checkWalSegmentBelongs(header, name, identity.walIdentity());
    struct stat st {};
    if (kind == pg::WalFileKind::Segment && ::fstat(fd.get(), &st) == 0 &&
        static_cast<uint64_t>(st.st_size) != identity.walSegmentSize)
      fail(ErrorCode::Format, "WAL segment '{}' is {} bytes, but the stanza's segments are {} bytes: it is incomplete",
           path, st.st_size, identity.walSegmentSize);
  }

  auto [size, tag] = sizeAndTag(fd.get(), path, *keys.keyring, buffer);
  const json request = {{"op", "wal.push"}, {"stanza", stanza}, {"name", name}, {"size", size}, {"tag", tag}};
  RepoChannel channel = client.open(request);
  {
    RecordWriter writer(std::make_unique<ChannelSink>(channel, buffer.size()), keys.keyring, KeyPurpose::Data,
                        keys.pipeline);
    WalTag again(*keys.keyring);
    uint64_t sent = 0;
    for (;;) {
      size_t n = preadFd(fd.get(), buffer, sent, path);
      if (n == 0) break;
      again.update(std::span(buffer).first(n));
      writer.write(std::span(buffer).first(n));
      sent += n;
    }
    if (sent != size || again.finish() != tag) {
      writer.cancel();
      fail(ErrorCode::FileRead, "WAL file '{}' changed while it was being archived; PostgreSQL will try again", path);
    }
    writer.finish();
  }
  json response = channel.receiveResponse();
  while (channel.receiveData()) {
  }
  std::string result = stringField(response, "result").value_or("");
  if (result == "duplicate") {
    logInfo("WAL file {} was already archived with identical contents", name);
  } else if (result == "stored") {
    logInfo("pushed WAL file {} to the archive", name);
  } else {
    fail(ErrorCode::Protocol, "the repository server answered wal.push of {} with '{}' instead of stored or duplicate",
         name, response.dump());
  }
  return 0;
}

int runArchiveGet(const Config& config) {
  std::string stanza = config.stanza();
  std::string name = config.args().at(0);
  // As for archive-push: PostgreSQL gives %p relative to the data directory it runs in.
  std::string destination = config.args().at(1);
  requireWalFileName(name);

  RepoSession session(config);
  RepoClient& client = session.client();
  RepoKeys keys = fetchRepoKeys(client, stanza);
  const json request = {{"op", "wal.get"}, {"stanza", stanza}, {"name", name}};
  auto [channel, response] = client.download(request);
  auto sizeField = unsignedField(response, "size");
  auto tagField = stringField(response, "tag");
  if (!sizeField || !tagField)
    fail(ErrorCode::Protocol, "the repository server's wal.get answer for {} has no size or tag", name);
  uint64_t expectedSize = *sizeField;
  std::string expectedTag = *tagField;

  std::string temporary = destination + ".pgbr-tmp";
  int raw = openRetry(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (raw < 0) failErrno(ErrorCode::FileWrite, "cannot create", temporary, -raw);
  UniqueFd out(raw);
  try {
    RecordReader reader(std::make_unique<ChannelSource>(channel), keys.keyring, KeyPurpose::Data,
                        fmt::format("WAL file {} from the archive", name));
    std::vector<uint8_t> buffer(config.bytes("buffer-size"));
    WalTag tag(*keys.keyring);
    uint64_t size = 0;
    while (size_t n = reader.read(buffer)) {
      if (size + n > expectedSize)
        fail(ErrorCode::Corrupt, "WAL file {} from the archive is longer than the {} bytes it should have", name,
             expectedSize);
      tag.update(std::span(buffer).first(n));
      writeFd(out.get(), std::span(buffer).first(n), temporary);
      size += n;
    }
    if (size != expectedSize || tag.finish() != expectedTag)
      fail(ErrorCode::Corrupt,
           "WAL file {} from the archive does not match its size and tag ({} bytes instead of {}, or other content): "
           "the archived copy is damaged; nothing was written to '{}'",
           name, size, expectedSize, destination);
    fsyncFd(out.get(), temporary);
    out.closeChecked(temporary);
    if (::rename(temporary.c_str(), destination.c_str()) != 0)
      failErrno(ErrorCode::FileWrite, "cannot rename the fetched WAL file to", destination, errno);
  } catch (...) {
    out.reset();
    ::unlink(temporary.c_str());
    throw;
  }
  std::string directory = std::filesystem::path(destination).parent_path().string();
  fsyncDirectory(directory.empty() ? "." : directory);
  logInfo("fetched WAL file {} from the archive", name);
  return 0;
}

}  // namespace pgbr::agent
