// The command table: every command of pgbr-agent and pgbr-repo. Help, docs/commands.md and
// the parser's checks (stanza, positional arguments, log file) all come from here.
#include "common/config/option_def.h"

namespace pgbr {
namespace {

constexpr std::string_view kLogFile = "{stanza}-{command}.log";

// help and version, the same in both programs.
void addInformational(std::vector<CommandDef>& commands, Binary binary, std::string_view summary) {
  commands.push_back({
      .name = "help",
      .binary = binary,
      .arguments = {{.name = "command", .required = false, .summary = "command to describe"},
                    {.name = "option", .required = false, .summary = "option of that command to describe"}},
      .summary = summary,
      .description = "Also available as --help, which works after any command.",
  });
  commands.push_back({
      .name = "version",
      .binary = binary,
      .summary = "Show the version.",
      .description = "Prints the program name and version; also available as --version.",
  });
}

std::vector<CommandDef> buildCommands() {
  std::vector<CommandDef> commands = {
      // pgbr-agent
      {
          .name = "archive-get",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .arguments = {{.name = "wal-file", .summary = "name of the WAL file PostgreSQL asks for (%f)"},
                        {.name = "destination", .summary = "where PostgreSQL wants it written (%p)"}},
          .logFile = kLogFile,
          .summary = "Fetch a WAL file from the archive (PostgreSQL's restore_command).",
          .description =
              "Set restore_command = 'pgbr-agent --stanza=<stanza> archive-get %f \"%p\"' so that recovery, "
              "point-in-time restores and standbys read WAL from the repository.\n\n"
              "The exit status follows PostgreSQL's contract: 0 when the file was written to the destination, "
              "1 (quietly) when the archive does not have it, which ends recovery cleanly, and any other code "
              "for an error worth retrying. With archive-async the agent prefetches the following segments "
              "into spool-path so that recovery does not wait on the network for each one.",
      },
      {
          .name = "archive-push",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .arguments = {{.name = "wal-path", .summary = "path of the WAL file to archive (%p)"}},
          .logFile = kLogFile,
          .summary = "Send a WAL file to the archive (PostgreSQL's archive_command).",
          .description =
              "Set archive_command = 'pgbr-agent --stanza=<stanza> archive-push %p'. The segment's header is "
              "checked against the stanza's system identifier and version, and the command exits 0 only once "
              "the segment is durable in the repository; any other exit status tells PostgreSQL to keep the "
              "segment and try again.\n\n"
              "Pushing a segment that is already archived with identical contents succeeds; a different "
              "segment under the same name is an error. With archive-async a background process pushes ready "
              "segments in parallel ahead of PostgreSQL's calls, still reporting success only for durable "
              "segments.",
      },
      {
          .name = "backup",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Back up a PostgreSQL cluster to the repository.",
          .description = "Starts a backup in PostgreSQL, reads the data directory and tablespaces with process-max "
                         "workers, sends the chunks the repository does not already hold, stops the backup and waits "
                         "until the WAL that makes it consistent is archived before the repository commits it.\n\n"
                         "Every backup restores on its own: type only decides which files are read (full reads every "
                         "file; diff and incr skip files unchanged since the last full or the last backup). An "
                         "interrupted backup is resumed by the next one unless resume is off.",
      },
      {
          .name = "check",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Check the configuration, the repository connection and WAL archiving.",
          .description = "Connects to PostgreSQL and to the repository server, verifies that the stanza matches the "
                         "cluster, then switches to a new WAL segment and waits up to archive-timeout for it to reach "
                         "the archive. Run it after setting up a stanza and after any configuration change.",
      },
      {
          .name = "expire",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Remove backups and WAL that retention no longer keeps.",
          .description = "Applies the repository's retention settings to the stanza: full backups by count or age, "
                         "differential backups by count, and the WAL that the remaining backups need. Chunks no longer "
                         "referenced by any backup are then removed by the server's garbage collection. With set, "
                         "expires that one backup.",
      },
      {
          .name = "info",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Optional,
          .logFile = kLogFile,
          .summary = "Show the backups and WAL archive of one stanza or of all stanzas.",
          .description =
              "Lists each stanza's backups with their type, times, sizes and WAL range, and the range of WAL "
              "in the archive. output=json gives the same in a stable machine-readable form.",
      },
      {
          .name = "restore",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Restore a backup into a data directory.",
          .description =
              "Restores into an empty pg1-path, or with delta over an existing, stopped one (no postmaster.pid), "
              "fetching and writing only the chunks that differ and removing what the backup does not have; the "
              "summary gives the bytes kept and fetched. The backup is set, or chosen from the target for "
              "type=time, xid or lsn.\n\n"
              "Writes backup_label, tablespace_map, recovery.signal or standby.signal and the recovery "
              "settings in postgresql.auto.conf, with restore_command pointing back to pgbr-agent, so "
              "PostgreSQL replays WAL from the archive when it starts.",
      },
      {
          .name = "server-ping",
          .binary = Binary::Agent,
          .stanza = StanzaUse::None,
          .logFile = kLogFile,
          .summary = "Check that the repository server answers.",
          .description = "Connects to repo1-host over TLS with this host's certificate and exchanges a ping. Use it to "
                         "test certificates, firewalls and the server's address before creating a stanza.",
      },
      {
          .name = "stanza-create",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Create the stanza in the repository.",
          .description =
              "Records the cluster's system identifier and PostgreSQL version under the stanza's name so that "
              "backups and archived WAL can be checked against it. Running it again for an existing, "
              "matching stanza succeeds and changes nothing.",
      },
      {
          .name = "stanza-delete",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Delete a stanza and everything stored for it.",
          .description = "Removes the stanza's backups, manifests and archived WAL from the repository. The repository "
                         "refuses while the stanza's cluster is still running unless force is given; the deletion "
                         "cannot be undone.",
      },
      {
          .name = "verify",
          .binary = Binary::Agent,
          .stanza = StanzaUse::Required,
          .logFile = kLogFile,
          .summary = "Verify the stanza's backups and WAL in the repository.",
          .description = "Has the server read back everything the stanza depends on: pack checksums, envelope tags, "
                         "chunk ids, manifests and WAL continuity for every backup's range, and reports each finding. "
                         "With set, verifies that one backup.",
      },

      // pgbr-repo
      {
          .name = "server",
          .binary = Binary::Repo,
          .stanza = StanzaUse::None,
          .logFile = kLogFile,
          .summary = "Run the repository server.",
          .description = "Listens on tls-server-address:tls-server-port for agents, authenticates each by its "
                         "certificate and tls-server-auth, and serves backups, WAL archiving, restores and the "
                         "repository's maintenance. Stops cleanly on SIGTERM or SIGINT.",
      },
  };
  addInformational(commands, Binary::Agent, "Show help for the agent, a command or an option.");
  addInformational(commands, Binary::Repo, "Show help for the server, a command or an option.");
  return commands;
}

}  // namespace

std::span<const CommandDef> commandTable() {
  static const std::vector<CommandDef> table = buildCommands();
  return table;
}

}  // namespace pgbr
