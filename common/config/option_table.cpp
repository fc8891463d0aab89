// The option table: every option pgbr-agent and pgbr-repo accept, declared once. The parser,
// `help`, docs/configuration.md and docs/commands.md are all generated from these entries;
// option_table_test checks that each entry is consistent (commands exist, defaults and ranges
// parse, dependencies name real options).
#include "common/config/option_def.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pgbr {
namespace {

using Names = std::vector<std::string_view>;

Names plus(Names names, std::initializer_list<std::string_view> more) {
  names.insert(names.end(), more);
  return names;
}

// Stanza names appear in section headers, file names and log lines.
std::string checkStanzaName(std::string_view value) {
  bool ok = !value.empty() && value.size() <= 64 && std::isalnum(static_cast<unsigned char>(value[0]));
  for (char c : value) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) return "a stanza name is 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit";
  if (value == "global") return "'global' is the name of the section shared by all stanzas";
  return {};
}

// <client-cn>=<stanza>[,<stanza>...] or <client-cn>=*
std::string checkServerAuth(std::string_view value) {
  std::string_view stanzas = value.substr(value.find('=') + 1);
  if (stanzas == "*") return {};
  size_t start = 0;
  for (;;) {
    size_t comma = stanzas.find(',', start);
    std::string_view stanza = stanzas.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (std::string problem = checkStanzaName(stanza); !problem.empty())
      return fmt::format(
          "expected <client-cn>=<stanza>[,<stanza>...] or <client-cn>=*, and '{}' is not a stanza "
          "name: {}",
          stanza, problem);
    if (comma == std::string_view::npos) return {};
    start = comma + 1;
  }
}

// current, latest, or a timeline number (decimal or 0x hexadecimal).
std::string checkTimeline(std::string_view value) {
  if (value == "current" || value == "latest") return {};
  std::string_view digits = value;
  bool hex = digits.starts_with("0x") || digits.starts_with("0X");
  if (hex) digits.remove_prefix(2);
  bool ok = !digits.empty() && digits.size() <= 8;
  for (char c : digits)
    ok = ok && (hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)));
  return ok ? std::string() : std::string("expected current, latest or a timeline number such as 3 or 0x3");
}

Names commandsWithStanza(bool requiredOnly) {
  Names names;
  for (const auto& command : commandTable()) {
    bool use = requiredOnly ? command.stanza == StanzaUse::Required : command.stanza != StanzaUse::None;
    if (use && std::find(names.begin(), names.end(), command.name) == names.end()) names.push_back(command.name);
  }
  return names;
}

std::vector<OptionDef> buildOptions() {
  // Command sets shared by many options.
  const Names agent = {"archive-get", "archive-push", "backup",        "check",         "expire", "info",
                       "restore",     "server-ping",  "stanza-create", "stanza-delete", "verify"};
  const Names all = plus(agent, {"server"});
  const Names locking = {"archive-get", "archive-push",  "backup",        "expire",
                         "restore",     "stanza-create", "stanza-delete", "server"};
  const Names pgConnect = {"backup", "check", "stanza-create", "stanza-delete"};
  const Names pgPath = {"archive-get", "archive-push", "backup", "check", "restore", "stanza-create", "stanza-delete"};
  const Names cipher = {"archive-get", "archive-push", "backup", "restore", "stanza-create", "verify", "server"};
  const Names retention = {"backup", "expire", "server"};
  const Names server = {"server"};
  const Names restore = {"restore"};
  const Names logLevels = {"off", "error", "warn", "info", "detail", "debug", "trace"};
  const Names uriStyles = {"host", "path"};
  const Range port{"1", "65535"};
  const Range retentionCount{"1", "9999999"};
  const Dependency s3{"repo-type", {"s3"}};
  const Dependency azure{"repo-type", {"azure"}};

  return {
      // General ------------------------------------------------------------------------------------
      {
          .name = "config",
          .type = OptionType::String,
          .section = OptionSection::CommandLine,
          .commands = all,
          .defaultValue = "/etc/pgbr/pgbr.conf",
          .negatable = true,
          .summary = "Configuration file.",
          .description =
              "A missing file at the default location is not an error, so a host can run on the command line "
              "and environment alone; a file named explicitly must exist. --no-config reads no configuration "
              "file at all (and no include path unless config-include-path is given).",
      },
      {
          .name = "config-include-path",
          .type = OptionType::Path,
          .section = OptionSection::CommandLine,
          .commands = all,
          .defaultValue = "/etc/pgbr/conf.d",
          .summary = "Directory of additional configuration files.",
          .description =
              "Every file ending in .conf in this directory is read after the main configuration file, in "
              "name order, as if appended to it; a typical use is one file per stanza. The default directory "
              "may be missing. When config is given explicitly and this option is not, no include directory "
              "is read.",
      },
      {
          .name = "stanza",
          .type = OptionType::String,
          .section = OptionSection::CommandLine,
          .commands = commandsWithStanza(false),
          .requiredFor = commandsWithStanza(true),
          .check = checkStanzaName,
          .summary = "Name of the stanza: one PostgreSQL cluster and its backups.",
          .description = "Selects the [<stanza>] and [<stanza>:<command>] sections of the configuration files and the "
                         "stanza's data in the repository. Use a name that describes the cluster's purpose (main, "
                         "billing), not the host it runs on, since the cluster may move.",
      },
      {
          .name = "output",
          .type = OptionType::Enum,
          .section = OptionSection::CommandLine,
          .commands = {"info", "verify"},
          .defaultValue = "text",
          .allowed = {"text", "json"},
          .summary = "Output format.",
          .description = "text is for people; json is for programs and keeps its field names from release to release.",
      },
      {
          .name = "buffer-size",
          .type = OptionType::Size,
          .commands = all,
          .defaultValue = "1MiB",
          .range = Range{"16KiB", "16MiB"},
          .summary = "Buffer size for file and network operations.",
          .description = "Each read, compression and network stage works on buffers of this size. Larger buffers cost "
                         "memory per worker and help only on fast storage and networks.",
      },
      {
          .name = "io-timeout",
          .type = OptionType::Time,
          .commands = all,
          .defaultValue = "60",
          .range = Range{"0.1", "3600"},
          .summary = "Time-out in seconds for a single network read or write.",
          .description = "A connection that makes no progress for this long is closed with a time-out error. Fractions "
                         "of a second are allowed (1.5).",
      },
      {
          .name = "protocol-timeout",
          .type = OptionType::Time,
          .commands = all,
          .defaultValue = "1830",
          .range = Range{"0.1", "604800"},
          .summary = "Time-out in seconds for a response from the peer.",
          .description = "How long an agent waits for the repository server to answer a request (and the server for an "
                         "agent) before giving up. It should exceed the longest single operation the peer performs.",
      },
      {
          .name = "lock-path",
          .type = OptionType::Path,
          .commands = locking,
          .defaultValue = "/tmp/pgbr",
          .summary = "Directory for lock files.",
          .description =
              "Lock files keep two processes from doing conflicting work on one stanza at the same time (two "
              "backups, or two archive-push processes for one segment).",
      },
      {
          .name = "process-max",
          .type = OptionType::Integer,
          .commands = {"archive-get", "archive-push", "backup", "restore", "verify", "server"},
          .defaultValue = "1",
          .range = Range{"1", "64"},
          .overrides = {{.command = "server", .defaultValue = "4"}},
          .summary = "Number of worker processes for reading, compressing and transferring.",
          .description = "Backups and restores read and write files in parallel with this many workers; asynchronous "
                         "archiving pushes or fetches this many segments at a time. Each worker uses a CPU for "
                         "compression and encryption, so leave headroom for PostgreSQL.\n\n"
                         "For pgbr-repo server it is the number of worker threads that verify, store and read chunks "
                         "and WAL for all agents together (the network has its own threads); one or two per CPU "
                         "keeps the disks and CPUs busy.",
      },
      {
          .name = "compress-type",
          .type = OptionType::Enum,
          .commands = {"archive-push", "backup"},
          .defaultValue = "zstd",
          .allowed = {"none", "zstd", "lz4", "bz2", "gz"},
          .summary = "Compression of stored chunks and WAL.",
          .description = "zstd compresses well at little CPU cost; lz4 is the fastest; bz2 and gz exist for their "
                         "ubiquity. Each stored object records its compression, so changing this option never makes "
                         "older backups unreadable.",
      },
      {
          .name = "compress-level",
          .type = OptionType::Integer,
          .commands = {"archive-push", "backup"},
          .range = Range{"-7", "22"},
          .summary = "Compression level.",
          .description = "Valid levels depend on compress-type: zstd -7 to 22 (default 3), lz4 0 to 12 (default 1), "
                         "bz2 1 to 9 (default 9), gz 0 to 9 (default 6). Unset, each algorithm uses its default.",
      },
      {
          .name = "tls-min-version",
          .type = OptionType::Enum,
          .commands = all,
          .defaultValue = "1.3",
          .allowed = {"1.2", "1.3"},
          .summary = "Oldest TLS version to accept.",
          .description = "Agent and server speak TLS 1.3. Set 1.2 only where a TLS-terminating device in between "
                         "requires it.",
      },

      // Log ------------------------------------------------------------------------------------------
      {
          .name = "log-level-console",
          .type = OptionType::Enum,
          .group = OptionGroup::Log,
          .commands = all,
          .defaultValue = "warn",
          .allowed = logLevels,
          .summary = "Level of messages written to the console (stderr).",
          .description =
              "off writes nothing; error only errors; warn adds warnings; info adds the start and end of each "
              "command and its main steps; detail adds every file or segment handled; debug and trace are for "
              "finding bugs.",
      },
      {
          .name = "log-level-file",
          .type = OptionType::Enum,
          .group = OptionGroup::Log,
          .commands = all,
          .defaultValue = "info",
          .allowed = logLevels,
          .summary = "Level of messages written to the log file.",
          .description = "The levels are those of log-level-console. The log file is "
                         "<log-path>/<stanza>-<command>.log, or all-<command>.log for a command run without a stanza; "
                         "off writes no file.",
      },
      {
          .name = "log-path",
          .type = OptionType::Path,
          .group = OptionGroup::Log,
          .commands = all,
          .defaultValue = "/var/log/pgbr",
          .summary = "Directory of the log files.",
          .description = "Must exist and be writable by the user that runs the command.",
      },
      {
          .name = "log-timestamp",
          .type = OptionType::Bool,
          .group = OptionGroup::Log,
          .commands = all,
          .defaultValue = "y",
          .summary = "Start each log line with a timestamp.",
          .description = "Turn it off when another logger (systemd's journal) adds its own.",
      },

      // Archive --------------------------------------------------------------------------------------
      {
          .name = "archive-async",
          .type = OptionType::Bool,
          .group = OptionGroup::Archive,
          .commands = {"archive-get", "archive-push"},
          .defaultValue = "n",
          .summary = "Push and fetch WAL asynchronously.",
          .description =
              "archive-push hands ready segments to a background process that sends several at once ahead of "
              "PostgreSQL's calls, and archive-get prefetches the following segments into spool-path. Both "
              "still report success only for a segment that is durable in the repository (archive-push) or "
              "written to its destination (archive-get). Worth it when WAL is generated faster than one "
              "segment at a time can be sent.",
      },
      {
          .name = "spool-path",
          .type = OptionType::Path,
          .group = OptionGroup::Archive,
          .commands = {"archive-get", "archive-push"},
          .defaultValue = "/var/spool/pgbr",
          .depend = Dependency{"archive-async", {"y"}},
          .summary = "Directory for asynchronous archiving's state and prefetched WAL.",
          .description = "Holds the status of segments pushed in the background and the segments fetched ahead of "
                         "recovery. Put it on local storage; it does not need to survive a crash.",
      },
      {
          .name = "archive-timeout",
          .type = OptionType::Time,
          .group = OptionGroup::Archive,
          .commands = {"archive-get", "archive-push", "backup", "check"},
          .defaultValue = "60",
          .range = Range{"0.1", "86400"},
          .summary = "Seconds to wait for WAL to reach the archive.",
          .description =
              "How long a backup waits, after stopping, for the WAL that makes it consistent, how long check "
              "waits for the segment it switched to, and how long asynchronous archive commands wait for the "
              "background process.",
      },
      {
          .name = "archive-push-queue-max",
          .type = OptionType::Size,
          .group = OptionGroup::Archive,
          .commands = {"archive-push"},
          .summary = "Most WAL allowed to wait for archiving before it is dropped.",
          .description =
              "When the WAL waiting to be archived exceeds this size, archive-push reports success without "
              "archiving, so PostgreSQL can remove segments instead of filling its disk while the repository "
              "is unreachable. WAL dropped this way breaks point-in-time recovery until the next backup: use "
              "it only where PostgreSQL's availability matters more. Unset, nothing is ever dropped.",
      },
      {
          .name = "archive-get-queue-max",
          .type = OptionType::Size,
          .group = OptionGroup::Archive,
          .commands = {"archive-get"},
          .defaultValue = "128MiB",
          .depend = Dependency{"archive-async", {"y"}},
          .summary = "Most WAL fetched ahead into spool-path.",
          .description = "Bounds the space prefetched segments take in spool-path during asynchronous archive-get.",
      },

      // Backup ---------------------------------------------------------------------------------------
      {
          .name = "type",
          .type = OptionType::Enum,
          .group = OptionGroup::Backup,
          .section = OptionSection::CommandLine,
          .commands = {"backup", "restore"},
          .overrides = {{.command = "backup", .defaultValue = "incr", .allowed = {"full", "diff", "incr"}},
                        {.command = "restore",
                         .defaultValue = "default",
                         .allowed = {"default", "immediate", "time", "xid", "lsn", "name", "standby", "preserve",
                                     "none"}}},
          .summary = "Backup type, or the kind of recovery target for restore.",
          .description =
              "backup: full reads every file; diff reads files changed since the last full backup; incr reads "
              "files changed since the last backup of any type. A diff or incr without a full backup to "
              "refer to becomes a full backup. Whatever its type, every backup restores on its own.\n\n"
              "restore: default recovers to the end of the archived WAL; immediate stops as soon as the "
              "backup is consistent; time, xid, lsn and name stop at target; standby sets the cluster up as a "
              "standby that follows the archive; preserve keeps the recovery settings already in the data "
              "directory; none writes no recovery settings at all.",
      },
      {
          .name = "start-fast",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup"},
          .defaultValue = "n",
          .summary = "Start the backup with an immediate checkpoint.",
          .description =
              "Without it PostgreSQL spreads the checkpoint that starts a backup over its checkpoint "
              "settings, which can take minutes; with it the checkpoint runs at once, at the price of a burst "
              "of I/O.",
      },
      {
          .name = "delta",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup", "restore"},
          .defaultValue = "n",
          .summary = "Compare contents rather than trusting timestamps.",
          .description = "backup: decides which files changed by their contents rather than by size and modification "
                         "time; slower, and safe even when clocks or timestamps are not to be trusted.\n\n"
                         "restore: restores over an existing, stopped data directory (any postmaster.pid refuses it; "
                         "it must hold PG_VERSION unless --force): files whose size and modification time match the "
                         "backup are kept, the others are hashed chunk by chunk and only the chunks that differ are "
                         "fetched and written, and whatever the backup does not have is removed (stale WAL, stray "
                         "files, old signal files). The summary reports bytes kept and fetched.",
      },
      {
          .name = "resume",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup"},
          .defaultValue = "y",
          .summary = "Resume an interrupted backup.",
          .description = "Chunks that an interrupted backup already stored are not sent again. With n the interrupted "
                         "backup is discarded and its chunks are left to garbage collection.",
      },
      {
          .name = "archive-check",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup", "check"},
          .defaultValue = "y",
          .summary = "Wait until the WAL a backup needs is archived.",
          .description = "A backup is consistent only with the WAL written while it ran. With y (the default), the "
                         "repository commits a backup only when that WAL is in the archive. Turn it off only when the "
                         "WAL is archived elsewhere, and then use archive-copy or keep that archive safe yourself.",
      },
      {
          .name = "archive-copy",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup"},
          .defaultValue = "n",
          .depend = Dependency{"archive-check", {"y"}},
          .summary = "Store the backup's WAL with the backup itself.",
          .description = "Copies the WAL needed to make the backup consistent into the backup, so the backup can be "
                         "restored to its end point even if the archive is later lost or expired.",
      },
      {
          .name = "backup-standby",
          .type = OptionType::Enum,
          .group = OptionGroup::Backup,
          .commands = {"backup", "check"},
          .defaultValue = "n",
          .allowed = {"y", "n", "prefer"},
          .summary = "Read files from a standby instead of the primary.",
          .description =
              "y copies files from the standby (pg2-host, or another pg index) and only starts and stops the "
              "backup on the primary, taking read load off the primary; it fails when no standby is "
              "reachable. prefer uses a standby when one is reachable and the primary otherwise.",
      },
      {
          .name = "checksum-page",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .commands = {"backup"},
          .summary = "Validate data page checksums while reading.",
          .description = "Pages whose checksum does not match are recorded in the manifest and reported; the backup "
                         "continues. Unset, it follows whether the cluster has data checksums enabled.",
      },
      {
          .name = "exclude",
          .type = OptionType::List,
          .group = OptionGroup::Backup,
          .commands = {"backup"},
          .summary = "Path in the data directory to leave out of backups (repeatable).",
          .description = "Relative to the data directory; a trailing / excludes a directory's contents but keeps the "
                         "directory. Give the option once per path. Excluded files are simply missing after a "
                         "restore, so exclude nothing PostgreSQL needs.",
      },
      {
          .name = "force",
          .type = OptionType::Bool,
          .group = OptionGroup::Backup,
          .section = OptionSection::CommandLine,
          .commands = {"restore", "stanza-create", "stanza-delete"},
          .defaultValue = "n",
          .summary = "Override a safety check.",
          .description = "restore (only with --delta): check every existing file by content — each chunk read back "
                         "and hashed against the backup's chunk ids — even when its size and modification time "
                         "match, and restore over a directory without PG_VERSION. "
                         "stanza-create: create the stanza even though the repository already holds data for it. "
                         "stanza-delete: delete the stanza even though its cluster still appears to be running.",
      },
      {
          .name = "set",
          .type = OptionType::String,
          .group = OptionGroup::Backup,
          .section = OptionSection::CommandLine,
          .commands = {"expire", "info", "restore", "verify"},
          .overrides = {{.command = "restore", .defaultValue = "latest"}},
          .summary = "Backup to act on, by label.",
          .description = "restore: the backup to restore (latest by default; with a time, xid or lsn target the newest "
                         "backup that can reach it is chosen unless set is given). expire: the one backup to remove. "
                         "info and verify: show or check only this backup.",
      },

      // Restore --------------------------------------------------------------------------------------
      {
          .name = "target",
          .type = OptionType::String,
          .group = OptionGroup::Restore,
          .section = OptionSection::CommandLine,
          .commands = restore,
          .requiredFor = restore,
          .depend = Dependency{"type", {"time", "xid", "lsn", "name"}},
          .summary = "Recovery target: a time, transaction id, LSN or restore point name.",
          .description = "Its form follows type: a timestamp with time zone for time ('2026-05-01 12:00:00+00'), a "
                         "transaction id for xid, an LSN such as 0/3000060 for lsn, and the name given to "
                         "pg_create_restore_point() for name.",
      },
      {
          .name = "target-exclusive",
          .type = OptionType::Bool,
          .group = OptionGroup::Restore,
          .section = OptionSection::CommandLine,
          .commands = restore,
          .defaultValue = "n",
          .depend = Dependency{"type", {"time", "xid", "lsn"}},
          .summary = "Stop just before the target instead of just after it.",
          .description = "Sets recovery_target_inclusive to off.",
      },
      {
          .name = "target-action",
          .type = OptionType::Enum,
          .group = OptionGroup::Restore,
          .section = OptionSection::CommandLine,
          .commands = restore,
          .defaultValue = "pause",
          .allowed = {"pause", "promote", "shutdown"},
          .depend = Dependency{"type", {"immediate", "time", "xid", "lsn", "name"}},
          .summary = "What PostgreSQL does when it reaches the target.",
          .description = "pause waits so that the result can be inspected before pg_wal_replay_resume() promotes it; "
                         "promote opens the cluster for writes at once; shutdown stops the server.",
      },
      {
          .name = "target-timeline",
          .type = OptionType::String,
          .group = OptionGroup::Restore,
          .section = OptionSection::CommandLine,
          .commands = restore,
          .depend = Dependency{"type", {"default", "time", "xid", "lsn", "name", "standby"}},
          .check = checkTimeline,
          .summary = "Timeline to recover along.",
          .description = "current stays on the backup's timeline; latest follows the newest timeline in the archive "
                         "(PostgreSQL's default); a number picks that timeline.",
      },
      {
          .name = "tablespace-map",
          .type = OptionType::Map,
          .group = OptionGroup::Restore,
          .commands = restore,
          .summary = "Restore a tablespace elsewhere: <name>=<path> (repeatable).",
          .description = "The tablespace is given by its name or its OID; the path must be absolute. Other tablespaces "
                         "are restored where they were.",
      },
      {
          .name = "tablespace-map-all",
          .type = OptionType::Path,
          .group = OptionGroup::Restore,
          .commands = restore,
          .summary = "Restore every tablespace under this directory.",
          .description =
              "Each tablespace goes to a subdirectory named after it; tablespace-map still takes precedence.",
      },
      {
          .name = "link-all",
          .type = OptionType::Bool,
          .group = OptionGroup::Restore,
          .commands = restore,
          .defaultValue = "n",
          .summary = "Restore symbolic links in the data directory as links.",
          .description = "Without it, files and directories that were reached through a link (other than tablespaces) "
                         "are restored as plain files and directories inside the data directory.",
      },
      {
          .name = "link-map",
          .type = OptionType::Map,
          .group = OptionGroup::Restore,
          .commands = restore,
          .summary = "Restore a link to another destination: <link>=<path> (repeatable).",
          .description = "The link is given by its path relative to the data directory, such as pg_wal=/wal/main.",
      },
      {
          .name = "recovery-option",
          .type = OptionType::Map,
          .group = OptionGroup::Restore,
          .commands = restore,
          .depend = Dependency{"type", {"default", "immediate", "time", "xid", "lsn", "name", "standby"}},
          .summary = "Extra recovery setting for postgresql.auto.conf: <name>=<value> (repeatable).",
          .description = "Written as given next to the settings restore writes itself, such as "
                         "primary_conninfo=host=primary user=replicator for a standby. A restore_command given here "
                         "replaces the one pgbr writes.",
      },
      {
          .name = "archive-mode",
          .type = OptionType::Enum,
          .group = OptionGroup::Restore,
          .commands = restore,
          .defaultValue = "preserve",
          .allowed = {"preserve", "off"},
          .summary = "archive_mode of the restored cluster.",
          .description = "preserve keeps the setting of the backed-up cluster; off disables archiving so that a copy "
                         "restored for testing does not push WAL into the original cluster's archive.",
      },

      // PostgreSQL cluster ---------------------------------------------------------------------------
      {
          .name = "pg-path",
          .type = OptionType::Path,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgPath,
          .requiredFor = {"backup", "check", "restore", "stanza-create"},
          .indexed = true,
          .summary = "Data directory of the cluster.",
          .description =
              "Must match the data_directory PostgreSQL reports. For restore, the directory to restore into.",
      },
      {
          .name = "pg-port",
          .type = OptionType::Integer,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgConnect,
          .defaultValue = "5432",
          .range = port,
          .indexed = true,
          .summary = "Port PostgreSQL listens on.",
          .description = "Also names the Unix socket file in pg-socket-path.",
      },
      {
          .name = "pg-socket-path",
          .type = OptionType::Path,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgConnect,
          .indexed = true,
          .summary = "Directory of PostgreSQL's Unix socket.",
          .description = "Unset, libpq's compiled-in default is used (/var/run/postgresql on Debian).",
      },
      {
          .name = "pg-user",
          .type = OptionType::String,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgConnect,
          .indexed = true,
          .summary = "User to connect to PostgreSQL as.",
          .description = "Unset, the operating-system user running the command. It needs the rights to start and stop "
                         "backups and read the settings pgbr checks; a superuser or a member of pg_checkpoint and "
                         "pg_read_all_settings with EXECUTE on the backup functions.",
      },
      {
          .name = "pg-database",
          .type = OptionType::String,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgConnect,
          .defaultValue = "postgres",
          .indexed = true,
          .summary = "Database to connect to.",
          .description = "Any database the user may connect to; pgbr only runs cluster-wide functions in it.",
      },
      {
          .name = "pg-host",
          .type = OptionType::String,
          .group = OptionGroup::Pg,
          .section = OptionSection::Stanza,
          .commands = pgConnect,
          .indexed = true,
          .summary = "Host of another cluster of the stanza, typically a standby (pg2-host).",
          .description = "pg1 is the cluster on this host. Further indexes name standbys that the agent reaches over "
                         "the network with libpq, to take backups from a standby (backup-standby) or check them.",
      },

      // Repository server connection (agent) ---------------------------------------------------------
      {
          .name = "repo-host",
          .type = OptionType::String,
          .group = OptionGroup::RepoHost,
          .commands = agent,
          .requiredFor = agent,
          .indexed = true,
          .summary = "Host name or address of the repository server.",
          .description = "The agent reaches its repository through pgbr-repo server on this host. The name must match "
                         "the server certificate's subject alternative name.",
      },
      {
          .name = "repo-host-port",
          .type = OptionType::Integer,
          .group = OptionGroup::RepoHost,
          .commands = agent,
          .defaultValue = "8432",
          .range = port,
          .indexed = true,
          .summary = "Port of the repository server.",
          .description = "The server's tls-server-port.",
      },
      {
          .name = "repo-host-ca-file",
          .type = OptionType::Path,
          .group = OptionGroup::RepoHost,
          .commands = agent,
          .requiredFor = agent,
          .indexed = true,
          .summary = "CA certificate that signed the repository server's certificate.",
          .description = "The fleet CA: the agent accepts only a server certificate it signed.",
      },
      {
          .name = "repo-host-cert-file",
          .type = OptionType::Path,
          .group = OptionGroup::RepoHost,
          .commands = agent,
          .requiredFor = agent,
          .indexed = true,
          .summary = "This agent's certificate.",
          .description =
              "Signed by the fleet CA; the server authorises its common name for stanzas with tls-server-auth.",
      },
      {
          .name = "repo-host-key-file",
          .type = OptionType::Path,
          .group = OptionGroup::RepoHost,
          .commands = agent,
          .requiredFor = agent,
          .indexed = true,
          .summary = "Private key of repo-host-cert-file.",
          .description = "Keep it readable only by the user that runs the agent.",
      },

      // Repository ------------------------------------------------------------------------------------
      {
          .name = "repo-path",
          .type = OptionType::Path,
          .group = OptionGroup::Repo,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "/var/lib/pgbr",
          .indexed = true,
          .summary = "Path of the repository.",
          .description = "For repo-type=posix, the directory on the server; for object stores, the prefix within the "
                         "bucket or container.",
      },
      {
          .name = "repo-type",
          .type = OptionType::Enum,
          .group = OptionGroup::Repo,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "posix",
          .allowed = {"posix", "s3", "azure"},
          .indexed = true,
          .summary = "Storage of the repository.",
          .description =
              "posix is a directory on the server (repo1 usually is); s3 is AWS S3 or an S3-compatible store; "
              "azure is Azure Blob Storage. Further repositories receive copies of what the first commits.",
      },
      {
          .name = "repo-cipher-type",
          .type = OptionType::Enum,
          .group = OptionGroup::Repo,
          .commands = cipher,
          .defaultValue = "none",
          .allowed = {"none", "aes-256-gcm"},
          .indexed = true,
          .summary = "Encryption of the repository.",
          .description =
              "aes-256-gcm encrypts and authenticates every chunk, manifest and WAL segment with keys derived "
              "from a master key that repo-cipher-pass unwraps. Chosen when the stanza is created; it cannot "
              "be changed for existing data.",
      },
      {
          .name = "repo-cipher-pass",
          .type = OptionType::String,
          .group = OptionGroup::Repo,
          .commands = cipher,
          .requiredFor = server,
          .depend = Dependency{"repo-cipher-type", {"aes-256-gcm"}},
          .secret = true,
          .indexed = true,
          .summary = "Passphrase of the repository's encryption keys.",
          .description = "Keep it out of files and process listings with ENV:<variable>. Losing it loses the "
                         "repository: keep a copy somewhere safe.",
      },
      {
          .name = "repo-retention-full",
          .type = OptionType::Integer,
          .group = OptionGroup::Repo,
          .commands = retention,
          .range = retentionCount,
          .indexed = true,
          .summary = "Full backups to keep (or days, with repo-retention-full-type=time).",
          .description =
              "When a full backup completes, the oldest full backups beyond this number are expired, and with "
              "them the differential and incremental backups taken since. Unset, nothing is expired.",
      },
      {
          .name = "repo-retention-full-type",
          .type = OptionType::Enum,
          .group = OptionGroup::Repo,
          .commands = retention,
          .defaultValue = "count",
          .allowed = {"count", "time"},
          .indexed = true,
          .summary = "Whether repo-retention-full counts backups or days.",
          .description = "time keeps every full backup newer than that many days, and the newest one older than that, "
                         "so the whole period stays recoverable.",
      },
      {
          .name = "repo-retention-diff",
          .type = OptionType::Integer,
          .group = OptionGroup::Repo,
          .commands = retention,
          .range = retentionCount,
          .indexed = true,
          .summary = "Differential backups to keep.",
          .description = "Incremental backups that depend on an expired differential backup go with it.",
      },
      {
          .name = "repo-retention-archive",
          .type = OptionType::Integer,
          .group = OptionGroup::Repo,
          .commands = retention,
          .range = retentionCount,
          .indexed = true,
          .summary = "Backups whose WAL stays recoverable to any point.",
          .description = "WAL older than what the newest this-many backups (of repo-retention-archive-type) need for "
                         "point-in-time recovery is expired; older backups keep only the WAL that makes them "
                         "consistent. Unset, all WAL of retained backups is kept.",
      },
      {
          .name = "repo-retention-archive-type",
          .type = OptionType::Enum,
          .group = OptionGroup::Repo,
          .commands = retention,
          .defaultValue = "full",
          .allowed = {"full", "diff", "incr"},
          .indexed = true,
          .summary = "Kind of backup repo-retention-archive counts.",
          .description = "diff counts full and differential backups; incr counts every backup.",
      },
      {
          .name = "repo-storage-ca-file",
          .type = OptionType::Path,
          .group = OptionGroup::Repo,
          .section = OptionSection::Global,
          .commands = server,
          .depend = Dependency{"repo-type", {"s3", "azure"}},
          .indexed = true,
          .summary = "CA certificates to trust for the object store.",
          .description = "Unset, the system's trusted CAs are used.",
      },
      {
          .name = "repo-storage-upload-chunk-size",
          .type = OptionType::Size,
          .group = OptionGroup::Repo,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "16MiB",
          .range = Range{"5MiB", "1GiB"},
          .depend = Dependency{"repo-type", {"s3", "azure"}},
          .indexed = true,
          .summary = "Part size of uploads to the object store.",
          .description = "An object larger than this goes up as a multipart upload (S3) or as staged blocks (Azure) "
                         "in parts of this size; each object being written holds one part in memory.",
      },

      // Repository on S3 --------------------------------------------------------------------------------
      {
          .name = "repo-s3-bucket",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = s3,
          .indexed = true,
          .summary = "Bucket of the repository.",
          .description =
              "The bucket must exist; with S3 Object Lock in compliance mode, stored backups cannot be altered.",
      },
      {
          .name = "repo-s3-endpoint",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = s3,
          .indexed = true,
          .summary = "S3 endpoint: host[:port].",
          .description = "s3.<region>.amazonaws.com for AWS, or the address of an S3-compatible store.",
      },
      {
          .name = "repo-s3-region",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = s3,
          .indexed = true,
          .summary = "Region of the bucket, for request signing.",
          .description = "S3-compatible stores usually accept us-east-1.",
      },
      {
          .name = "repo-s3-key",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = s3,
          .secret = true,
          .indexed = true,
          .summary = "Access key id.",
          .description = "Use ENV:<variable> to keep it out of files.",
      },
      {
          .name = "repo-s3-key-secret",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = s3,
          .secret = true,
          .indexed = true,
          .summary = "Secret access key.",
          .description = "Use ENV:<variable> to keep it out of files.",
      },
      {
          .name = "repo-s3-token",
          .type = OptionType::String,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .depend = s3,
          .secret = true,
          .indexed = true,
          .summary = "Session token, for temporary credentials.",
          .description = "Needed only with credentials from AWS STS.",
      },
      {
          .name = "repo-s3-uri-style",
          .type = OptionType::Enum,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "host",
          .allowed = uriStyles,
          .depend = s3,
          .indexed = true,
          .summary = "Address the bucket by host name or by path.",
          .description = "host puts the bucket in the host name (bucket.endpoint), as AWS prefers; path puts it in the "
                         "path (endpoint/bucket), as many S3-compatible stores require.",
      },
      {
          .name = "repo-s3-verify-tls",
          .type = OptionType::Bool,
          .group = OptionGroup::RepoS3,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "y",
          .depend = s3,
          .indexed = true,
          .summary = "Verify the S3 endpoint's certificate.",
          .description = "Turn it off only for a test store on a trusted network.",
      },

      // Repository on Azure -------------------------------------------------------------------------------
      {
          .name = "repo-azure-account",
          .type = OptionType::String,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = azure,
          .indexed = true,
          .summary = "Storage account name.",
          .description = "The account that holds repo-azure-container.",
      },
      {
          .name = "repo-azure-container",
          .type = OptionType::String,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = azure,
          .indexed = true,
          .summary = "Container of the repository.",
          .description = "The container must exist.",
      },
      {
          .name = "repo-azure-key",
          .type = OptionType::String,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .depend = azure,
          .secret = true,
          .indexed = true,
          .summary = "Shared key of the storage account.",
          .description = "Use ENV:<variable> to keep it out of files.",
      },
      {
          .name = "repo-azure-endpoint",
          .type = OptionType::String,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "blob.core.windows.net",
          .depend = azure,
          .indexed = true,
          .summary = "Blob service endpoint: host[:port].",
          .description = "Change it for sovereign clouds or a local emulator such as Azurite.",
      },
      {
          .name = "repo-azure-uri-style",
          .type = OptionType::Enum,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "host",
          .allowed = uriStyles,
          .depend = azure,
          .indexed = true,
          .summary = "Address the account by host name or by path.",
          .description =
              "host puts the account in the host name, as Azure does; path puts it in the path, as Azurite does.",
      },
      {
          .name = "repo-azure-key-type",
          .type = OptionType::Enum,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "shared",
          .allowed = {"shared", "sas"},
          .depend = azure,
          .indexed = true,
          .summary = "Whether repo-azure-key is the account's shared key or a SAS token.",
          .description = "A SAS token (without the leading '?') must allow read, add, create, write, delete and list "
                         "on the container.",
      },
      {
          .name = "repo-azure-verify-tls",
          .type = OptionType::Bool,
          .group = OptionGroup::RepoAzure,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "y",
          .depend = azure,
          .indexed = true,
          .summary = "Verify the Azure endpoint's certificate.",
          .description = "Turn it off only for a test store on a trusted network.",
      },

      // Repository server -----------------------------------------------------------------------------
      {
          .name = "server-path",
          .type = OptionType::Path,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "/var/lib/pgbr-server",
          .summary = "Local directory of the server when repo1 is an object store.",
          .description =
              "Holds the lock that keeps a second server away, the cached copies of index segments, the queues of "
              "objects to forward to further repositories, and spooled manifest entries. Put it on local storage. "
              "With repo1-type=posix, repo1-path holds all of these and this option is not used.",
      },
      {
          .name = "tls-server-address",
          .type = OptionType::String,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "localhost",
          .summary = "Address the server listens on.",
          .description = "A host name or IP address; 0.0.0.0 or :: listens on every interface.",
      },
      {
          .name = "tls-server-port",
          .type = OptionType::Integer,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .defaultValue = "8432",
          .range = port,
          .summary = "Port the server listens on.",
          .description = "Agents set the same port as repo-host-port.",
      },
      {
          .name = "tls-server-ca-file",
          .type = OptionType::Path,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .summary = "CA certificate that signs the agents' certificates.",
          .description = "The fleet CA: the server accepts only client certificates it signed.",
      },
      {
          .name = "tls-server-cert-file",
          .type = OptionType::Path,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .summary = "The server's certificate.",
          .description = "Its subject alternative names must include the name agents use as repo-host.",
      },
      {
          .name = "tls-server-key-file",
          .type = OptionType::Path,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .summary = "Private key of tls-server-cert-file.",
          .description = "Keep it readable only by the user that runs the server.",
      },
      {
          .name = "tls-server-auth",
          .type = OptionType::Map,
          .group = OptionGroup::Server,
          .section = OptionSection::Global,
          .commands = server,
          .requiredFor = server,
          .check = checkServerAuth,
          .summary = "Stanzas a client certificate may use: <client-cn>=<stanza>[,<stanza>...] (repeatable).",
          .description = "Each entry authorises the agent whose certificate has this common name for the listed "
                         "stanzas; * authorises it for every stanza. A client not listed is refused after the TLS "
                         "handshake.",
      },
  };
}

}  // namespace

std::span<const OptionDef> optionTable() {
  static const std::vector<OptionDef> table = buildOptions();
  return table;
}

}  // namespace pgbr
