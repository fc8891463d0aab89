#!/usr/bin/env bash
# WAL archiving figures of pgbr beside pgBackRest 2.45 on this machine, for issue 5's closing note:
#   - archive-push segments/s for N segments (default 200): synchronous, and asynchronous with
#     process-max 2, driven the way PostgreSQL's archiver drives it (one call per .ready segment,
#     in name order, each marked .done after success);
#   - archive-get segments/s for M segments (default 100): synchronous, and asynchronous with
#     prefetch into the spool, driven the way recovery drives it (one call per segment, in order);
#   - the time PostgreSQL takes to recover a restore whose archive holds about R MiB (default 1024)
#     of WAL after the backup, restore_command being each tool's asynchronous archive-get.
#
#   bench/archive-figures.sh [--pgbr-bin DIR] [--push N] [--get M] [--replay-mb R] [--keep]
#
# Runs as root on Debian 12 with PostgreSQL 15 and pgbackrest installed (both tools run as
# postgres); pgbr-agent and pgbr-repo come from --pgbr-bin (default build-a/bin; use a release
# build: RelWithDebInfo, -O2). One PostgreSQL cluster makes the WAL (pgbench, 16 MiB segments);
# its archive_command copies each segment into a corpus and pushes it to both tools' "pitr" stanza
# (synchronously), where a full backup of each tool precedes the replayed WAL. The push and get
# figures use the corpus with stanzas of their own. Both tools: zstd level 3, no encryption,
# process-max 2 where asynchronous, pgBackRest with a local posix repository, pgbr through
# pgbr-repo on 127.0.0.1 over mutual TLS. Results are printed and written to <work>/figures.txt.
# Everything started is stopped on exit.
set -euo pipefail
# One brace group, parsed before anything runs: editing the file during a run changes nothing.
{
cd "$(dirname "$0")/.."
src=$(pwd)

pgbr_bin=$src/build-a/bin push_n=200 get_n=100 replay_mb=1024 keep=0
while (($#)); do
  case $1 in
    --pgbr-bin) pgbr_bin=$(realpath "$2"); shift 2 ;;
    --push) push_n=$2; shift 2 ;;
    --get) get_n=$2; shift 2 ;;
    --replay-mb) replay_mb=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "bench/archive-figures.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
((get_n <= push_n)) || { echo "bench/archive-figures.sh: --get must not exceed --push" >&2; exit 2; }
for tool in "$pgbr_bin/pgbr-agent" "$pgbr_bin/pgbr-repo" /usr/bin/pgbackrest /usr/lib/postgresql/15/bin/postgres; do
  [[ -x $tool ]] || { echo "bench/archive-figures.sh: $tool is missing" >&2; exit 1; }
done

pgbin=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/pgbr-archive-figures-XXXXXX)
chmod 755 "$work"
mkdir -p "$work"/{bin,tls,corpus,run,log,pgbr/{repo,spool,lock},pgbackrest/{repo,spool,lock}}
cp "$pgbr_bin/pgbr-agent" "$pgbr_bin/pgbr-repo" "$work/bin/"
as_pg() { (cd "$work" && runuser -u postgres -- "$@"); }
started_clusters=() repo_pid=''
cleanup() {
  local status=$? d
  for d in "${started_clusters[@]}"; do as_pg "$pgbin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
  [[ -n $repo_pid ]] && { kill "$repo_pid" 2>/dev/null; wait "$repo_pid" 2>/dev/null || true; }
  # pgBackRest's and pgbr's asynchronous processes exit by themselves once idle (a second or so).
  sleep 2
  if ((keep || status != 0)); then echo "work directory kept: $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- pgbr: repository server and agent configuration --------------------------------------------
repo_port=$(free_port)
"$src/scripts/make-certs" "$work/tls" 127.0.0.1 db1 >/dev/null
chgrp postgres "$work/tls/db1.key" && chmod 640 "$work/tls/db1.key"
cat >"$work/pgbr/repo.conf" <<EOF
[global]
repo1-path=$work/pgbr/repo
tls-server-address=127.0.0.1
tls-server-port=$repo_port
tls-server-ca-file=$work/tls/ca.crt
tls-server-cert-file=$work/tls/server.crt
tls-server-key-file=$work/tls/server.key
tls-server-auth=db1=*
log-path=$work/log
EOF
pg_port=$(free_port)
pgdata=$work/pgdata
common_agent="repo1-host=127.0.0.1
repo1-host-port=$repo_port
repo1-host-ca-file=$work/tls/ca.crt
repo1-host-cert-file=$work/tls/db1.crt
repo1-host-key-file=$work/tls/db1.key
log-path=$work/pgbr/log
lock-path=$work/pgbr/lock
spool-path=$work/pgbr/spool
compress-type=zstd
compress-level=3
process-max=2
start-fast=y"
{
  echo "[global]"
  echo "$common_agent"
  for stanza in pitr push-sync push-async; do
    printf '\n[%s]\npg1-path=%s\npg1-port=%s\npg1-socket-path=%s\n' "$stanza" "$pgdata" "$pg_port" "$work/run"
  done
} >"$work/pgbr/agent.conf"
pgbackrest_conf() { # the same stanzas, posix repository, zstd 3
  printf '[global]\nrepo1-path=%s/pgbackrest/repo\nlog-path=%s/pgbackrest/log\nlock-path=%s/pgbackrest/lock\n' \
    "$work" "$work" "$work"
  printf 'spool-path=%s/pgbackrest/spool\ncompress-type=zst\ncompress-level=3\nprocess-max=2\nstart-fast=y\n' "$work"
  printf 'archive-get-queue-max=128MiB\nrepo1-retention-full=99\n'
  for stanza in pitr push-sync push-async; do
    printf '\n[%s]\npg1-path=%s\npg1-port=%s\npg1-socket-path=%s\n' "$stanza" "$pgdata" "$pg_port" "$work/run"
  done
}
pgbackrest_conf >"$work/pgbackrest/pgbackrest.conf"
mkdir -p "$work/pgbr/log" "$work/pgbackrest/log"
chmod 644 "$work/pgbr/agent.conf" "$work/pgbackrest/pgbackrest.conf"
chown -R postgres "$work/pgbr" "$work/pgbackrest" "$work/corpus" "$work/run" "$work/log"
chown root "$work/pgbr/repo.conf" && mkdir -p "$work/pgbr/repo" && chown root "$work/pgbr/repo"
"$work/bin/pgbr-repo" --config="$work/pgbr/repo.conf" server >"$work/log/repo-console.log" 2>&1 &
repo_pid=$!
pgbr() { as_pg "$work/bin/pgbr-agent" --config="$work/pgbr/agent.conf" "$@"; }
pgbackrest() { as_pg /usr/bin/pgbackrest --config="$work/pgbackrest/pgbackrest.conf" "$@"; }
for _ in $(seq 100); do pgbr server-ping >/dev/null 2>&1 && break; sleep 0.1; done
pgbr server-ping >/dev/null

# ---- the WAL-making cluster ---------------------------------------------------------------------
# archive_command: keep a copy for the corpus, then push to both tools' pitr stanza.
# The name holds "pgbackrest": pgBackRest's backup refuses an archive_command that does not.
cat >"$work/bin/archive-pgbr-pgbackrest" <<EOF
#!/bin/bash
seg=\${1##*/}
if [[ \$seg =~ ^[0-9A-F]{24}\$ && ! -f $work/corpus/\$seg ]]; then
  cp "\$1" "$work/corpus/.\$seg.tmp" && mv "$work/corpus/.\$seg.tmp" "$work/corpus/\$seg" || exit 1
fi
$work/bin/pgbr-agent --config=$work/pgbr/agent.conf --stanza=pitr archive-push "\$1" || exit 1
exec /usr/bin/pgbackrest --config=$work/pgbackrest/pgbackrest.conf --stanza=pitr archive-push "\$1"
EOF
chmod 755 "$work/bin/archive-pgbr-pgbackrest"
install -d -o postgres -m 700 "$pgdata"
as_pg "$pgbin/initdb" -D "$pgdata" -k -A trust -U postgres >/dev/null
cat >>"$pgdata/postgresql.conf" <<EOF
port=$pg_port
listen_addresses=''
unix_socket_directories='$work/run'
wal_level=replica
archive_mode=on
archive_command='$work/bin/archive-pgbr-pgbackrest %p'
max_wal_size=4GB
checkpoint_timeout=30s
synchronous_commit=off
EOF
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$work/log/postgresql.log" -w -t 300 start >/dev/null
started_clusters+=("$pgdata")
psql() { as_pg "$pgbin/psql" -X -q -A -t -h "$work/run" -p "$pg_port" -U postgres "$@"; }
for stanza in pitr push-sync push-async; do
  pgbr --stanza=$stanza stanza-create >/dev/null
  pgbackrest --stanza=$stanza --log-level-console=warn stanza-create
done
echo "making WAL (pgbench) and a full backup with each tool..."
as_pg "$pgbin/pgbench" -i -s 20 -q -h "$work/run" -p "$pg_port" -U postgres postgres >/dev/null 2>&1
# The corpus needs push_n segments, of which about replay_mb / 16 come after the backups.
before=$((push_n - replay_mb / 16))
while (($(ls "$work/corpus" | wc -l) < before)); do
  as_pg "$pgbin/pgbench" -n -c 4 -j 2 -T 10 -h "$work/run" -p "$pg_port" -U postgres postgres >/dev/null 2>&1
done
pgbackrest --stanza=pitr --type=full --log-level-console=warn backup
pgbr --stanza=pitr --type=full backup >/dev/null
start_lsn=$(psql -c "SELECT pg_current_wal_lsn()")
need_segments=$((push_n > replay_mb / 16 ? push_n : replay_mb / 16))
while :; do
  made=$(psql -c "SELECT (pg_current_wal_lsn() - '$start_lsn'::pg_lsn) / (1024 * 1024)")
  made=${made%.*}
  ((made >= replay_mb && $(ls "$work/corpus" | wc -l) >= need_segments)) && break
  as_pg "$pgbin/pgbench" -n -c 4 -j 2 -T 10 -h "$work/run" -p "$pg_port" -U postgres postgres >/dev/null 2>&1
done
psql -c "SELECT pg_switch_wal()" >/dev/null
echo "waiting for the archiver..."
for _ in $(seq 3000); do compgen -G "$pgdata/pg_wal/archive_status/*.ready" >/dev/null || break; sleep 0.2; done
as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null
replayed_mb=$made

# ---- archive-push -------------------------------------------------------------------------------
# Paths are absolute: pgBackRest takes a relative one as relative to pg1-path.
# A pg_wal of push_n corpus segments, every one marked .ready.
fake=$work/fake
reset_fake() {
  rm -rf "$fake"
  mkdir -p "$fake/pg_wal/archive_status" "$fake/global"
  # pgBackRest reads pg_control from pg1-path and wants the WAL under it.
  cp "$pgdata/global/pg_control" "$fake/global/"
  local seg
  for seg in $(ls "$work/corpus" | grep -E '^[0-9A-F]{24}$' | head -n "$push_n"); do
    ln "$work/corpus/$seg" "$fake/pg_wal/$seg"
    : >"$fake/pg_wal/archive_status/$seg.ready"
  done
  chown -R postgres "$fake"
}
push_loop() { # push_loop <command…>: PostgreSQL's archiver
  local ready seg
  for ready in $(ls "$fake/pg_wal/archive_status" | grep '\.ready$' | sort); do
    seg=${ready%.ready}
    (cd "$fake" && runuser -u postgres -- "$@" archive-push "$fake/pg_wal/$seg") >/dev/null 2>>"$work/log/push-loop.err" ||
      { echo "archive-push of $seg failed: $*" >&2; exit 1; }
    mv "$fake/pg_wal/archive_status/$ready" "$fake/pg_wal/archive_status/$seg.done"
  done
}
get_loop() { # get_loop <command…>: recovery
  local seg
  for seg in $(ls "$work/corpus" | grep -E '^[0-9A-F]{24}$' | head -n "$get_n"); do
    (cd "$fake" && runuser -u postgres -- "$@" archive-get "$seg" "$fake/pg_wal/RECOVERYXLOG") >/dev/null 2>>"$work/log/get-loop.err" ||
      { echo "archive-get of $seg failed: $*" >&2; exit 1; }
    rm -f "$fake/pg_wal/RECOVERYXLOG"
  done
}
declare -A result
measure_push() { # measure_push <key> <command…>
  local key=$1
  shift
  reset_fake
  local t0 t1
  t0=$(now)
  push_loop "$@"
  t1=$(now)
  result[$key]="$(rate "$push_n" "$(secs "$t0" "$t1")") segments/s ($push_n in $(secs "$t0" "$t1") s)"
  echo "$key: ${result[$key]}"
}
measure_get() { # measure_get <key> <command…>
  local key=$1
  shift
  reset_fake
  rm -rf "$work/pgbr/spool/archive/push-sync/in" "$work/pgbackrest/spool/archive/push-sync/in"
  local t0 t1
  t0=$(now)
  get_loop "$@"
  t1=$(now)
  result[$key]="$(rate "$get_n" "$(secs "$t0" "$t1")") segments/s ($get_n in $(secs "$t0" "$t1") s)"
  echo "$key: ${result[$key]}"
}
PGBR=("$work/bin/pgbr-agent" --config="$work/pgbr/agent.conf" --pg1-path="$fake")
PGBACKREST=(/usr/bin/pgbackrest --config="$work/pgbackrest/pgbackrest.conf" --pg1-path="$fake")
echo "archive-push of $push_n segments, archive-get of $get_n..."
measure_push "pgbr push sync" "${PGBR[@]}" --stanza=push-sync --no-archive-async
measure_push "pgBackRest push sync" "${PGBACKREST[@]}" --stanza=push-sync --no-archive-async
measure_push "pgbr push async pm2" "${PGBR[@]}" --stanza=push-async --archive-async --process-max=2
measure_push "pgBackRest push async pm2" "${PGBACKREST[@]}" --stanza=push-async --archive-async --process-max=2
measure_get "pgbr get sync" "${PGBR[@]}" --stanza=push-sync --no-archive-async
measure_get "pgBackRest get sync" "${PGBACKREST[@]}" --stanza=push-sync --no-archive-async
measure_get "pgbr get async pm2" "${PGBR[@]}" --stanza=push-sync --archive-async --process-max=2
measure_get "pgBackRest get async pm2" "${PGBACKREST[@]}" --stanza=push-sync --archive-async --process-max=2

# ---- recovery of about replay_mb MiB of WAL -----------------------------------------------------
# Each tool restores its backup into its own directory and port; PostgreSQL then replays the WAL
# archived after the backup through the tool's asynchronous archive-get and promotes at its end.
recover() { # recover <key> <restore command…>
  local key=$1
  shift
  local dir=$work/restore-${key%% *} port
  port=$(free_port)
  install -d -o postgres -m 700 "$dir"
  local t0 t1 t2
  t0=$(now)
  as_pg "$@" --pg1-path="$dir" restore >/dev/null
  t1=$(now)
  printf "port=%s\narchive_mode=off\n" "$port" >>"$dir/postgresql.auto.conf"
  as_pg "$pgbin/pg_ctl" -D "$dir" -l "$work/log/$key.log" -w -t 3600 start >/dev/null
  started_clusters+=("$dir")
  until [[ $(as_pg "$pgbin/psql" -X -A -t -h "$work/run" -p "$port" -U postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]]; do
    sleep 0.1
  done
  t2=$(now)
  as_pg "$pgbin/pg_ctl" -D "$dir" -m fast stop >/dev/null
  result[$key]="$(secs "$t1" "$t2") s to recover $replayed_mb MiB of WAL ($(rate "$replayed_mb" "$(secs "$t1" "$t2")") MiB/s; the restore of the files before it: $(secs "$t0" "$t1") s)"
  echo "$key: ${result[$key]}"
}
# The restore_command each tool writes names its configuration file, so that is where recovery's
# archive-get learns to be asynchronous.
for conf in "$work/pgbr/agent.conf" "$work/pgbackrest/pgbackrest.conf"; do
  printf '\n[global:archive-get]\narchive-async=y\nprocess-max=2\n' >>"$conf"
done
echo "restores replaying $replayed_mb MiB of WAL..."
recover "pgbr recovery" "$work/bin/pgbr-agent" --config="$work/pgbr/agent.conf" --stanza=pitr
recover "pgBackRest recovery" /usr/bin/pgbackrest --config="$work/pgbackrest/pgbackrest.conf" --stanza=pitr

{
  echo "# WAL archiving figures ($(date -u +%FT%TZ), $(nproc) cores, pgbr from $pgbr_bin, $(pgbackrest version))"
  echo "# command: bench/archive-figures.sh --pgbr-bin $pgbr_bin --push $push_n --get $get_n --replay-mb $replay_mb"
  for key in "pgbr push sync" "pgBackRest push sync" "pgbr push async pm2" "pgBackRest push async pm2" \
    "pgbr get sync" "pgBackRest get sync" "pgbr get async pm2" "pgBackRest get async pm2" "pgbr recovery" \
    "pgBackRest recovery"; do
    printf '%-28s %s\n' "$key" "${result[$key]}"
  done
  for pair in "push sync" "push async pm2" "get sync" "get async pm2"; do
    a=${result["pgbr $pair"]%% *} b=${result["pgBackRest $pair"]%% *}
    printf 'ratio pgbr/pgBackRest %-14s %s\n' "$pair" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
  done
  a=${result["pgbr recovery"]%% *} b=${result["pgBackRest recovery"]%% *}
  printf 'ratio pgBackRest/pgbr recovery time %s\n' "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
} | tee "$work/figures.txt"
exit 0
}
