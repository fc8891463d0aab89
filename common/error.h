// pgbr's one error type: a stable numeric code (also the process exit code and the code sent
// on the wire in ERROR frames) and a message a user can act on.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgbr {

// Codes are stable: never renumber, only add. All are <= 125 because PostgreSQL treats a
// restore_command exit status above 125 as fatal for recovery. The table below is the
// single source for docs/exit-codes.md.
#define PGBR_ERROR_CODES(X)                                                                        \
  X(ArchiveMissing, 1, "archive-missing", "the requested WAL file is not in the archive (archive-get)") \
  X(ConfigInvalid, 10, "config-invalid", "a configuration file cannot be read or parsed")          \
  X(OptionInvalid, 11, "option-invalid", "an option is unknown or not allowed where it was given") \
  X(OptionInvalidValue, 12, "option-invalid-value", "an option has a value that is not allowed")   \
  X(OptionRequired, 13, "option-required", "a required option is missing")                         \
  X(CommandInvalid, 14, "command-invalid", "the command is unknown or was given bad arguments")    \
  X(FileMissing, 20, "file-missing", "a file or directory does not exist")                        \
  X(FileOpen, 21, "file-open", "a file or directory cannot be opened")                             \
  X(FileRead, 22, "file-read", "a file cannot be read")                                            \
  X(FileWrite, 23, "file-write", "a file cannot be written (permissions, disk full)")              \
  X(PathNotEmpty, 24, "path-not-empty", "a directory that must be empty is not")                   \
  X(PathInvalid, 25, "path-invalid", "a path is absolute, climbs out with '..' or escapes through a link") \
  X(Format, 30, "format", "stored or received data does not have the expected format")           \
  X(Corrupt, 31, "corrupt", "stored data fails its checksum or authentication tag")               \
  X(Crypto, 32, "crypto", "a cryptographic operation failed (for example a wrong passphrase)")     \
  X(RepoVersion, 33, "repo-version", "the repository was written by a newer pgbr")                \
  X(Protocol, 40, "protocol", "the peer broke the protocol (malformed or out-of-order frame)")     \
  X(Tls, 41, "tls", "the TLS handshake failed (certificate refused, wrong CA, expired)")          \
  X(Auth, 42, "auth", "the peer is not authorised for this stanza or request")                     \
  X(Connect, 43, "connect", "cannot connect to the peer")                                          \
  X(Timeout, 44, "timeout", "an operation did not finish in time")                                 \
  X(Cancelled, 45, "cancelled", "the operation was cancelled (shutdown or peer request)")          \
  X(Limit, 46, "limit", "a configured limit was exceeded")                                         \
  X(PgConnect, 50, "pg-connect", "cannot connect to PostgreSQL")                                   \
  X(PgQuery, 51, "pg-query", "a PostgreSQL query failed")                                          \
  X(PgMismatch, 52, "pg-mismatch", "the cluster's system identifier or version does not match the stanza") \
  X(PgRunning, 53, "pg-running", "PostgreSQL is running where it must be stopped")                 \
  X(PgNotRunning, 54, "pg-not-running", "PostgreSQL is not running where it must be")              \
  X(StanzaMissing, 60, "stanza-missing", "the stanza does not exist in the repository")            \
  X(BackupInProgress, 61, "backup-in-progress", "another backup of this stanza is running")        \
  X(BackupMissing, 62, "backup-missing", "the requested backup does not exist")                   \
  X(ArchiveMismatch, 63, "archive-mismatch", "a different WAL file with the same name is already archived") \
  X(ArchiveTimeout, 64, "archive-timeout", "WAL did not reach the archive within archive-timeout") \
  X(RestoreTarget, 65, "restore-target", "the recovery target is invalid or no backup can reach it") \
  X(ArchiveDisabled, 66, "archive-disabled", "PostgreSQL does not archive its WAL through pgbr-agent (archive_mode, archive_command)") \
  X(Internal, 98, "internal", "an internal error (a bug: please report it)")                       \
  X(Unknown, 99, "unknown", "an unexpected error from the system or a library")

enum class ErrorCode : int {
#define PGBR_X(name, number, slug, text) name = number,
  PGBR_ERROR_CODES(PGBR_X)
#undef PGBR_X
};

struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view slug;
  std::string_view description;
};

// Every code, in numeric order (for docs and help).
std::span<const ErrorCodeInfo> errorCodes();
std::string_view errorSlug(ErrorCode code);
std::optional<ErrorCode> errorCodeFromNumber(int number);

class Error : public std::runtime_error {
public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const noexcept { return code_; }
  int exitCode() const noexcept { return static_cast<int>(code_); }

private:
  ErrorCode code_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// Throws FileOpen/FileRead/FileWrite/... from errno, naming the operation and path.
[[noreturn]] void failErrno(ErrorCode code, std::string_view what, std::string_view path, int err);

}  // namespace pgbr
