#!/usr/bin/env bash
# The database ceiling (issue 10): how many exactly-once messages per second PostgreSQL alone can
# sustain for the statements one message costs today, at a given concurrency, with no Orleans in
# between. Runs pgbench with scripts/ceiling/message.pgbench, whose Orleans statements are the
# texts of the OrleansQuery catalog of the target database; see docs/ceiling-notes.md for the
# statement mix and how it was measured.
#
#   scripts/ceiling.sh [--clients N] [--seconds S] [--state-format binary|json] [--with-discard] [--json]
#
#   --clients N   concurrent pgbench clients (pgbench -c N, -j min(N, cores)); default 8
#   --seconds S   duration (pgbench -T S); default 20
#   --state-format binary|json  state sizes written by the silos (Storage:StateFormat); default binary
#   --with-discard  add the DISCARD ALL that Npgsql sent before each pooled call until the silos
#                 set No Reset On Close (the pipeline as it was measured in docs/ceiling-notes.md)
#   --json        one JSON line on stdout: messages_per_second, statements_per_message,
#                 commits_per_message (and the settings); progress and pgbench's report on stderr
#
# Database: ConnectionStrings__Orleans (Npgsql form: Host=...;Port=...;Database=...;Username=...;
# Password=...) or, when unset, the local scripts/pg.sh cluster (PGPORT_LOCAL, PG_DATABASE, ...),
# which must be running. The schema (Library/ExactlyOnce.Orleans.PostgreSql/Schema/*.sql and
# Hosting/Schema/*.sql) is applied first, all in file-name order, under
# the silos' migration lock; it is idempotent. Rows are written under a ServiceId of their own
# (ceiling-<pid>) and deleted at the end, also on failure or Ctrl-C.
# Exit codes: 0 done, 2 bad input or database unreachable, 1 the benchmark itself failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
template="$repo_root/scripts/ceiling/message.pgbench"
schema_dirs=("$repo_root/Library/ExactlyOnce.Orleans.PostgreSql/Schema" "$repo_root/Hosting/Schema")

fail() { echo "ceiling.sh: $1" >&2; exit "${2:-2}"; }
usage_error() { echo "ceiling.sh: $* (usage: scripts/ceiling.sh [--clients N] [--seconds S] [--state-format binary|json] [--with-discard] [--json])" >&2; exit 2; }

clients=8
seconds=20
json=false
discard=false
state_format=binary
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) [[ $# -ge 2 ]] || usage_error "--clients needs a value"; clients="$2"; shift 2 ;;
    --clients=*) clients="${1#*=}"; shift ;;
    --seconds) [[ $# -ge 2 ]] || usage_error "--seconds needs a value"; seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --json) json=true; shift ;;
    --with-discard) discard=true; shift ;;
    --state-format) [[ $# -ge 2 ]] || usage_error "--state-format needs a value"; state_format="$2"; shift 2 ;;
    --no-discard) discard=false; shift ;;  # the default now; kept for old command lines
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[[ "$clients" =~ ^[0-9]+$ ]] && (( 10#$clients >= 1 && 10#$clients <= 1000 )) \
  || usage_error "--clients must be an integer from 1 to 1000, got '$clients'"
[[ "$seconds" =~ ^[0-9]+$ ]] && (( 10#$seconds >= 1 && 10#$seconds <= 86400 )) \
  || usage_error "--seconds must be an integer from 1 to 86400, got '$seconds'"
[[ "$state_format" == binary || "$state_format" == json ]] || usage_error "--state-format must be binary or json, got '$state_format'"
clients=$((10#$clients)); seconds=$((10#$seconds))
command -v pgbench >/dev/null || fail "pgbench not found (Debian: apt-get install postgresql-client)"
command -v psql >/dev/null || fail "psql not found (Debian: apt-get install postgresql-client)"
[[ -r "$template" ]] || fail "missing $template"

# The connection, as libpq environment variables.
connection="${ConnectionStrings__Orleans:-}"
if [[ -z "$connection" ]]; then
  connection="$("$repo_root/scripts/pg.sh" url)"
fi
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
unset PGPASSWORD
IFS=';' read -r -a pairs <<<"$connection"
for pair in "${pairs[@]}"; do
  [[ -z "${pair// /}" ]] && continue
  key="$(echo "${pair%%=*}" | tr -d ' ' | tr '[:upper:]' '[:lower:]')"
  value="${pair#*=}"
  case "$key" in
    host|server) export PGHOST="$value" ;;
    port) export PGPORT="$value" ;;
    database|db) export PGDATABASE="$value" ;;
    username|userid|user|uid) export PGUSER="$value" ;;
    password|pwd) export PGPASSWORD="$value" ;;
    *) ;;  # pooling, timeouts, application name...: not libpq's business
  esac
done
export PGAPPNAME=ceiling PGCONNECT_TIMEOUT=5

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

probe_error="$(psql_q -c 'SELECT 1' 2>&1 >/dev/null)" \
  || fail "database $PGHOST:$PGPORT/$PGDATABASE unreachable: $(echo "$probe_error" | head -n1)"

say() { echo "ceiling.sh: $*" >&2; }

# The schema, as the silo applies it: every script in name order, under the migration lock
# (SchemaMigrator.AdvisoryLockKey, "EXONCE"), in one transaction.
schema_args=(-1 -c "SELECT pg_advisory_xact_lock($((0x45584F4E4345)))")
while IFS= read -r file; do schema_args+=(-f "$file"); done < <(for d in "${schema_dirs[@]}"; do ls "$d"/*.sql; done | awk -F/ '{print $NF"\t"$0}' | sort | cut -f2)
schema_error="$(psql_q "${schema_args[@]}" 2>&1 >/dev/null)" \
  || fail "could not apply the schema: $(echo "$schema_error" | grep -m1 -i error || echo "$schema_error" | head -n1)"

service_id="ceiling-$$"
producer="run/ceiling/$$"
workdir="$(mktemp -d)"

cleanup() {
  psql_q -v svc="$service_id" >/dev/null 2>&1 <<'SQL' || true
DELETE FROM OrleansStreamMessage WHERE ServiceId = :'svc';
DELETE FROM OrleansStreamDeadLetter WHERE ServiceId = :'svc';
DELETE FROM OrleansStreamEviction WHERE ServiceId = :'svc';
DELETE FROM OrleansStorage WHERE ServiceId = :'svc';
DELETE FROM ExactlyOnceSentMessage WHERE ServiceId = :'svc';
DELETE FROM ExactlyOnceClientMessage WHERE ServiceId = :'svc';
DELETE FROM ExactlyOnceProducerStream WHERE ServiceId = :'svc';
DELETE FROM ExactlyOnceProducer WHERE ServiceId = :'svc';
SQL
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Expand the "--> Key prefix [gset]" lines with the catalog texts: @Name becomes :prefixName; a
# confirm's @Items becomes the caller's claimed rows of its own queue (the receipts the agent would
# send); "gset" ends the statement with \gset instead of ";".
script="$workdir/message.pgbench"
: >"$script"
while IFS= read -r line; do
  if [[ "$line" =~ ^--\>\ ([A-Za-z]+)\ ([a-z]+_)(\ gset)?$ ]]; then
    key="${BASH_REMATCH[1]}" prefix="${BASH_REMATCH[2]}" gset="${BASH_REMATCH[3]}"
    text="$(psql_q -v key="$key" -v prefix=":$prefix" 2>/dev/null <<'SQL'
SELECT regexp_replace(btrim(QueryText, E' \n\r\t'), '@([A-Za-z]+)', :'prefix' || '\1', 'g')
  FROM OrleansQuery WHERE QueryKey = :'key';
SQL
)" || fail "could not read $key from the OrleansQuery catalog" 1
    [[ -n "$text" ]] || fail "the OrleansQuery catalog has no $key" 1
    if [[ "$key" == ConfirmStreamMessagesKey ]]; then
      items="(SELECT coalesce(string_agg(m.MessageId::text || ':' || m.Dequeued::text, '|' ORDER BY m.MessageId), '')"
      items+=" FROM OrleansStreamMessage AS m WHERE m.ServiceId = :svc AND m.ProviderId = 'durable'"
      items+=" AND m.QueueId = :${prefix}QueueId AND m.ClaimedBy IS NOT NULL)"
      text="${text//:${prefix}Items/$items}"
    fi
    if [[ -n "$gset" ]]; then text="${text%;} \\gset"; fi
    printf '%s\n' "$text" >>"$script"
  elif [[ "$line" == "DISCARD ALL;" && "$discard" == false ]]; then
    continue
  else
    printf '%s\n' "$line" >>"$script"
  fi
done <"$template"

# The client producer whose outbox chunks the script records.
psql_q -v svc="$service_id" -v producer="$producer" >/dev/null <<'SQL' || fail "could not create the benchmark's producer row" 1
INSERT INTO ExactlyOnceProducer (ServiceId, Kind, Name, Incarnation, ProducerId)
VALUES (:'svc', 'run', 'ceiling', nextval('ExactlyOnceProducerIncarnation'), :'producer');
SQL

commits() { psql_q -c "SELECT pg_stat_clear_snapshot(); SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()" | tail -n1; }

# The state sizes of A (an order) and B (a bill of 100 entries) as the silos write them: the binary
# format (the default, Storage:StateFormat) since docs/performance.md step 3, JSON before. The
# payload is JSON-like text either way, so the binary case compresses somewhat better than the real
# bytes (which TOAST shrinks to 56 %, against 27 % for the JSON).
if [[ "$state_format" == json ]]; then state_bytes_a=1403; state_bytes_b=19678; else state_bytes_a=416; state_bytes_b=6540; fi

cores="$(nproc 2>/dev/null || echo 2)"
threads=$(( clients < cores ? clients : cores ))
say "pgbench: $clients client(s), $threads thread(s), $seconds s against $PGHOST:$PGPORT/$PGDATABASE (ServiceId $service_id)"
before="$(commits)"
set +e
pgbench -n -M extended -c "$clients" -j "$threads" -T "$seconds" \
  -D svc="$service_id" -D producer="$producer" \
  -D stream_bytes_a=99 -D stream_bytes_b=111 -D state_bytes_a="$state_bytes_a" -D state_bytes_b="$state_bytes_b" \
  -D ready=0 -D dequeue_permille=432 -D confirm_permille=248 \
  -f "$script" "$PGDATABASE" >"$workdir/pgbench.out" 2>"$workdir/pgbench.err"
rc=$?
set -e
sleep 1  # backends report their counters when they exit
after="$(commits)"
cat "$workdir/pgbench.out" >&2
if [[ $rc -ne 0 ]]; then
  fail "pgbench failed: $(grep -m1 -iE 'error|fatal|abort' "$workdir/pgbench.err" || head -n1 "$workdir/pgbench.err")" 1
fi

messages="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$workdir/pgbench.out")"
failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$workdir/pgbench.out")"
rate="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$workdir/pgbench.out")"
[[ -n "$messages" && -n "$rate" && "$messages" -gt 0 ]] || fail "pgbench processed no message; see its report above" 1
[[ -z "$failed" || "$failed" == 0 ]] || fail "pgbench: $failed message(s) failed" 1

# Statements per message: every autocommit statement is one commit; the outbox chunks add their
# BEGIN, FOR SHARE, upsert and INSERT (5 statements, 1 commit). Commits of other sessions on this
# database during the run are counted too (run it on a quiet database).
chunks="$(psql_q -v svc="$service_id" <<<"SELECT count(*) / 100 FROM ExactlyOnceClientMessage WHERE ServiceId = :'svc';")"
read -r commits_per_message statements_per_message < <(awk -v b="$before" -v a="$after" -v m="$messages" -v c="$chunks" -v n="$clients" \
  'BEGIN { x = a - b - 2 - n; printf "%.2f %.2f\n", x / m, (x + 4 * c) / m }')

if [[ "$json" == true ]]; then
  printf '{"messages_per_second":%s,"statements_per_message":%s,"commits_per_message":%s,"messages":%s,"clients":%s,"seconds":%s,"discard":%s}\n' \
    "$rate" "$statements_per_message" "$commits_per_message" "$messages" "$clients" "$seconds" "$discard"
else
  printf 'ceiling: %s messages/s with %s client(s) over %s s (%s messages; %s statements, %s commits per message)\n' \
    "$rate" "$clients" "$seconds" "$messages" "$statements_per_message" "$commits_per_message"
fi
