#!/usr/bin/env bash
# Throwaway local PostgreSQL for development and CI.
#
#   scripts/pg.sh start   install Debian's postgresql if absent, create the cluster if absent, start it
#   scripts/pg.sh stop    stop the cluster (fast shutdown)
#   scripts/pg.sh restart restart it (PG_RESTART_MODE=immediate simulates a crash)
#   scripts/pg.sh wipe    stop it and delete its data folder
#   scripts/pg.sh status  say whether it runs, and its connection string
#   scripts/pg.sh url     print the connection string only
#
# Environment (all optional):
#   PGPORT_LOCAL  port on 127.0.0.1          (default 55432; never 5432, to stay off a system server)
#   PG_DATA_DIR   cluster folder (git-ignored) (default <repo>/.pgdata)
#   PG_FSYNC      on|off                     (default on: what users run; the test run may switch it off;
#                                             synchronous commit stays on either way)
#   PG_DATABASE   database to create          (default orleans)
#   PG_PASSWORD   password of user postgres   (default postgres)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PGPORT_LOCAL:-55432}"
data_dir="${PG_DATA_DIR:-$repo_root/.pgdata}"
fsync="${PG_FSYNC:-on}"
database="${PG_DATABASE:-orleans}"
password="${PG_PASSWORD:-postgres}"
log_file="$data_dir.log"

die() { echo "pg.sh: $*" >&2; exit 1; }

# PG_FSYNC=off skips fsync and full-page writes (safe against a crash of PostgreSQL, not of the
# machine: what was written reaches the OS before a commit returns). synchronous_commit stays on:
# with it off, PostgreSQL acknowledges commits it has not written yet and loses them in a crash,
# and the chaos runs crash it (an immediate restart) and count on every acknowledged commit.
server_options() { echo "-c fsync=$fsync -c full_page_writes=$fsync -c synchronous_commit=on"; }

find_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

ensure_installed() {
  if [[ -z "$(find_bin)" ]]; then
    echo "pg.sh: installing Debian's postgresql..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq postgresql >/dev/null || die "apt-get install postgresql failed"
  fi
  bin="$(find_bin)" || die "no initdb found under /usr/lib/postgresql after install"
}

# PostgreSQL refuses to run as root: run its tools as the postgres user.
as_pg() {
  if [[ "$(id -u)" == "0" ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

connection_string() {
  echo "Host=127.0.0.1;Port=$port;Database=$database;Username=postgres;Password=$password"
}

is_running() {
  [[ -f "$data_dir/postmaster.pid" ]] && as_pg "$bin/pg_ctl" -D "$data_dir" status >/dev/null 2>&1
}

init_cluster() {
  [[ -f "$data_dir/PG_VERSION" ]] && return 0
  mkdir -p "$data_dir"
  [[ "$(id -u)" == "0" ]] && chown postgres:postgres "$data_dir"
  chmod 700 "$data_dir"
  local pwfile
  pwfile="$(mktemp)"
  echo "$password" > "$pwfile"
  [[ "$(id -u)" == "0" ]] && chown postgres "$pwfile"
  as_pg "$bin/initdb" -D "$data_dir" -U postgres --pwfile="$pwfile" -A scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null || { rm -f "$pwfile"; die "initdb failed"; }
  rm -f "$pwfile"
  cat >> "$data_dir/postgresql.conf" <<CONF
# written by scripts/pg.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data_dir'
max_connections = 300
shared_buffers = 128MB
CONF
}

start() {
  ensure_installed
  init_cluster
  if is_running; then
    echo "pg.sh: already running on 127.0.0.1:$port" >&2
  else
    touch "$log_file"; [[ "$(id -u)" == "0" ]] && chown postgres "$log_file"
    as_pg "$bin/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 30 \
        -o "$(server_options)" start >/dev/null \
      || die "could not start PostgreSQL (see $log_file)"
  fi
  if ! PGPASSWORD="$password" psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    PGPASSWORD="$password" psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$database\"" \
      || die "could not create database $database"
  fi
  echo "pg.sh: PostgreSQL on 127.0.0.1:$port (fsync=$fsync), database $database" >&2
  connection_string
}

stop() {
  bin="$(find_bin)" || return 0
  if is_running; then
    as_pg "$bin/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
    echo "pg.sh: stopped" >&2
  fi
}

restart() {
  ensure_installed
  as_pg "$bin/pg_ctl" -D "$data_dir" -l "$log_file" -m "${PG_RESTART_MODE:-fast}" -w -t 30 \
      -o "$(server_options)" restart >/dev/null \
    || die "could not restart PostgreSQL (see $log_file)"
  echo "pg.sh: restarted" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  wipe) stop; rm -rf "$data_dir" "$log_file"; echo "pg.sh: wiped $data_dir" >&2 ;;
  status)
    bin="$(find_bin)" || die "PostgreSQL is not installed"
    if is_running; then echo "running on 127.0.0.1:$port"; connection_string; else echo "not running"; exit 3; fi ;;
  url) connection_string ;;
  *) echo "usage: scripts/pg.sh start|stop|restart|wipe|status|url" >&2; exit 2 ;;
esac
