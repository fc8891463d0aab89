// archive-push and archive-get: PostgreSQL's archive_command and restore_command. Both follow
// PostgreSQL's contract exactly: archive-push exits 0 only once the repository's RESPONSE says the
// file is stored (durable) or was already there identical; archive-get writes the file to a
// temporary name beside %p, checks every record and the tag, and renames, so PostgreSQL never
// reads a byte that was not verified, and exits 1 quietly when the archive lacks the file. With
// archive-async the commands hand their work to the background processes of archive_async.h.
#include "agent/archive.h"

#include "agent/archive_async.h"
#include "agent/channel_stream.h"
#include "agent/commands.h"
#include "agent/json_fields.h"
#include "common/filter/record_stream.h"
#include "common/log.h"
#include "common/pg/wal_header.h"
#include "common/storage/posix_io.h"
#include "common/text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <vector>

namespace pgbr::agent {

using nlohmann::json;

namespace {

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

bool isHistory(std::string_view name) { return pg::walFileKind(name) == pg::WalFileKind::History; }

}  // namespace

pg::WalFileKind requireWalFileName(std::string_view name) {
  auto kind = pg::walFileKind(name);
  if (kind == pg::WalFileKind::Other)
    fail(ErrorCode::CommandInvalid,
         "'{}' is not the name of a WAL file (a segment, a .partial segment, a .history or a .backup file)", name);
  return kind;
}

ArchiveContext openArchiveContext(RepoClient& client, const Config& config) {
  ArchiveContext context;
  context.stanza = config.stanza();
  context.keys = fetchRepoKeys(client, context.stanza);
  if (config.commandName() == "archive-push") applyCompressionOptions(config, context.keys.pipeline);
  const json request = {{"op", "stanza.get"}, {"stanza", context.stanza}};
  context.identity = ClusterIdentity::fromJson(field(client.call(request), "identity"));
  context.bufferSize = config.bytes("buffer-size");
  return context;
}

PushResult pushWalFile(RepoClient& client, const ArchiveContext& context, const std::string& path) {
  SentPush sent = sendWalFile(client, context, path);
  return awaitPush(sent);
}

SentPush sendWalFile(RepoClient& client, const ArchiveContext& context, const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  auto kind = requireWalFileName(name);
  UniqueFd fd = openForRead(path);
  std::vector<uint8_t> buffer(context.bufferSize);

  if (kind == pg::WalFileKind::Segment || kind == pg::WalFileKind::Partial) {
    size_t n = preadFd(fd.get(), std::span(buffer).first(std::min<size_t>(buffer.size(), 8192)), 0, path);
    auto header = pg::parseWalSegmentHeader(std::span(buffer).first(n), path);
    pg::checkWalSegmentBelongs(header, name, context.identity.walIdentity());
    struct stat st {};
    if (kind == pg::WalFileKind::Segment && ::fstat(fd.get(), &st) == 0 &&
        static_cast<uint64_t>(st.st_size) != context.identity.walSegmentSize)
      fail(ErrorCode::Format, "WAL segment '{}' is {} bytes, but the stanza's segments are {} bytes: it is incomplete",
           path, st.st_size, context.identity.walSegmentSize);
  }

  const RepoKeys& keys = context.keys;
  auto [size, tag] = sizeAndTag(fd.get(), path, *keys.keyring, buffer);
  const json request = {{"op", "wal.push"}, {"stanza", context.stanza}, {"name", name}, {"size", size}, {"tag", tag}};
  RepoChannel channel = client.open(request);
  {
    RecordWriter writer(std::make_unique<ChannelSink>(channel, buffer.size()), keys.keyring, KeyPurpose::Data,
                        keys.pipeline);
    // The bytes sent are not hashed a second time: the server computes the tag of what it
    // receives and refuses the file (corrupt, nothing stored) unless it is the announced one, so a
    // file that changed between the two reads can never be archived. Only a changed size, which
    // costs nothing to see, gets its clearer message here.
    uint64_t sent = 0;
    for (;;) {
      size_t n =
          preadFd(fd.get(), std::span(buffer).first(std::min<uint64_t>(buffer.size(), size + 1 - sent)), sent, path);
      if (n == 0) break;
      sent += n;
      if (sent > size) break;
      writer.write(std::span(buffer).first(n));
    }
    if (sent != size) {
      writer.cancel();
      fail(ErrorCode::FileRead, "WAL file '{}' changed while it was being archived; PostgreSQL will try again", path);
    }
    writer.finish();
  }
  return {std::move(name), std::move(channel)};
}

PushResult awaitPush(SentPush& sent) {
  json response = sent.channel.receiveResponse();
  while (sent.channel.receiveData()) {
  }
  std::string result = stringField(response, "result").value_or("");
  if (result == "duplicate") return PushResult::Duplicate;
  if (result == "stored") return PushResult::Stored;
  fail(ErrorCode::Protocol, "the repository server answered wal.push of {} with '{}' instead of stored or duplicate",
       sent.name, response.dump());
}

namespace {

// Downloads `name` and hands its plaintext to write() piece by piece; false when the archive does
// not have it. Throws Corrupt after the last piece when the size or the tag is not the archived
// one: the caller discards what it was given. unwritten says what was spared ("nothing was written
// to '…'").
bool downloadWal(RepoClient& client, const ArchiveContext& context, std::string_view name,
                 std::string_view unwritten, const std::function<void(std::span<const uint8_t>)>& write) {
  const json request = {{"op", "wal.get"}, {"stanza", context.stanza}, {"name", name}};
  std::optional<std::pair<RepoChannel, json>> download;
  try {
    download.emplace(client.download(request));
  } catch (const Error& error) {
    if (error.code() == ErrorCode::ArchiveMissing) return false;
    throw;
  }
  auto& [channel, response] = *download;
  auto sizeField = unsignedField(response, "size");
  auto tagField = stringField(response, "tag");
  if (!sizeField || !tagField)
    fail(ErrorCode::Protocol, "the repository server's wal.get answer for {} has no size or tag", name);
  uint64_t expectedSize = *sizeField;
  RecordReader reader(std::make_unique<ChannelSource>(channel), context.keys.keyring, KeyPurpose::Data,
                      fmt::format("WAL file {} from the archive", name));
  std::vector<uint8_t> buffer(context.bufferSize);
  WalTag tag(*context.keys.keyring);
  uint64_t size = 0;
  while (size_t n = reader.read(buffer)) {
    if (size + n > expectedSize)
      fail(ErrorCode::Corrupt, "WAL file {} from the archive is longer than the {} bytes it should have; {}", name,
           expectedSize, unwritten);
    tag.update(std::span(buffer).first(n));
    write(std::span(buffer).first(n));
    size += n;
  }
  if (size != expectedSize || tag.finish() != *tagField)
    fail(ErrorCode::Corrupt,
         "WAL file {} from the archive does not match its size and tag ({} bytes instead of {}, or other content): "
         "the archived copy is damaged; {}",
         name, size, expectedSize, unwritten);
  return true;
}

}  // namespace

bool fetchWalFile(RepoClient& client, const ArchiveContext& context, std::string_view name,
                  const std::string& destination, bool durable) {
  std::string temporary = destination + ".pgbr-tmp";
  // The temporary file is made only once the server has the file: recovery asks for many files the
  // archive lacks (the next timeline's history, the segment after the last), and each of those
  // must end quietly with "missing", whatever the state of the destination's directory.
  UniqueFd out;
  bool created = false;
  auto create = [&] {
    int raw = openRetry(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw < 0) failErrno(ErrorCode::FileWrite, "cannot create", temporary, -raw);
    out = UniqueFd(raw);
    created = true;
  };
  try {
    bool found = downloadWal(client, context, name, fmt::format("nothing was written to '{}'", destination),
                             [&](std::span<const uint8_t> piece) {
                               if (!created) create();
                               writeFd(out.get(), piece, temporary);
                             });
    if (!found) return false;
    if (!created) create();  // an empty file
    if (durable) fsyncFd(out.get(), temporary);
    out.closeChecked(temporary);
    if (::rename(temporary.c_str(), destination.c_str()) != 0)
      failErrno(ErrorCode::FileWrite, "cannot rename the fetched WAL file to", destination, errno);
  } catch (...) {
    out.reset();
    if (created) ::unlink(temporary.c_str());
    throw;
  }
  if (durable) {
    std::string directory = std::filesystem::path(destination).parent_path().string();
    fsyncDirectory(directory.empty() ? "." : directory);
  }
  return true;
}

std::optional<std::string> fetchWalContent(RepoClient& client, const ArchiveContext& context, std::string_view name) {
  std::string content;
  bool found = downloadWal(client, context, name, "it was not used", [&](std::span<const uint8_t> piece) {
    if (content.size() + piece.size() > kMaxWalContent)
      fail(ErrorCode::Limit, "WAL file {} from the archive is larger than {} bytes", name, kMaxWalContent);
    content.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  });
  if (!found) return std::nullopt;
  return content;
}

std::vector<ReadyFile> readyWal(const std::string& walDirectory) {
  std::vector<ReadyFile> ready;
  std::error_code ec;
  constexpr std::string_view suffix = ".ready";
  std::filesystem::directory_iterator it(walDirectory + "/archive_status", ec), end;
  if (ec)
    fail(ErrorCode::FileOpen, "cannot list '{}/archive_status': {} (is '{}' PostgreSQL's pg_wal?)", walDirectory,
         ec.message(), walDirectory);
  for (; it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (!file.ends_with(suffix)) continue;
    std::string name = file.substr(0, file.size() - suffix.size());
    if (pg::walFileKind(name) == pg::WalFileKind::Other) continue;
    struct stat st {};
    if (::stat((walDirectory + "/" + name).c_str(), &st) != 0) continue;  // archived and removed meanwhile
    ready.push_back({std::move(name), static_cast<uint64_t>(st.st_size)});
  }
  if (ec) fail(ErrorCode::FileRead, "cannot list '{}/archive_status': {}", walDirectory, ec.message());
  // PostgreSQL archives timeline histories first, then the oldest files.
  std::sort(ready.begin(), ready.end(), [](const ReadyFile& a, const ReadyFile& b) {
    if (isHistory(a.name) != isHistory(b.name)) return isHistory(a.name);
    return a.name < b.name;
  });
  return ready;
}

uint64_t totalSize(const std::vector<ReadyFile>& files) {
  uint64_t bytes = 0;
  for (const auto& file : files) bytes += file.size;
  return bytes;
}

std::string dropWarning(std::string_view name, uint64_t queueMax) {
  return fmt::format(
      "dropped WAL file '{}' because the WAL waiting to be archived exceeded archive-push-queue-max ({}): the "
      "archive has a gap, and point-in-time recovery cannot cross it until the next backup",
      name, formatBytes(queueMax));
}

int runArchivePush(const Config& config) {
  // PostgreSQL runs archive_command in the data directory, so a relative %p is relative to the
  // working directory, never to a configured pg1-path (which may name another cluster).
  std::string path = config.args().at(0);
  std::string name = std::filesystem::path(path).filename().string();
  requireWalFileName(name);
  if (config.flag("archive-async")) return runArchivePushAsync(config, path);

  if (config.has("archive-push-queue-max")) {
    uint64_t queueMax = config.bytes("archive-push-queue-max");
    std::string walDirectory = std::filesystem::absolute(path).parent_path().string();
    if (totalSize(readyWal(walDirectory)) > queueMax) {
      logWarn("{}", dropWarning(name, queueMax));
      return 0;
    }
  }
  return pushNow(config, path);
}

int pushNow(const Config& config, const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  RepoSession session(config);
  ArchiveContext context = openArchiveContext(session.client(), config);
  if (pushWalFile(session.client(), context, path) == PushResult::Duplicate)
    logInfo("WAL file {} was already archived with identical contents", name);
  else
    logInfo("pushed WAL file {} to the archive", name);
  return 0;
}

int runArchiveGet(const Config& config) {
  std::string name = config.args().at(0);
  // As for archive-push: PostgreSQL gives %p relative to the data directory it runs in.
  std::string destination = config.args().at(1);
  auto kind = requireWalFileName(name);
  // Only segments are fetched ahead: timeline histories must always be asked afresh, since
  // recovery probes for ones that do not exist yet to find the newest timeline.
  if (config.flag("archive-async") && kind == pg::WalFileKind::Segment)
    return runArchiveGetAsync(config, name, destination);

  RepoSession session(config);
  ArchiveContext context;
  context.stanza = config.stanza();
  context.keys = fetchRepoKeys(session.client(), context.stanza);
  context.bufferSize = config.bytes("buffer-size");
  // Not fsynced: PostgreSQL never trusts a restored file across a crash (it asks restore_command
  // again), and fsyncs itself the ones it keeps under their own names. The spool, which outlives
  // the command, is written durably (archive_async.cpp).
  if (!fetchWalFile(session.client(), context, name, destination, false))
    fail(ErrorCode::ArchiveMissing, "WAL file '{}' is not in the archive of stanza '{}'", name, context.stanza);
  logInfo("fetched WAL file {} from the archive", name);
  return 0;
}

}  // namespace pgbr::agent
