#!/usr/bin/env bash
# The soak of docs/chaos.md, on the default silo settings, on a PostgreSQL of its own:
#   - `client chaos`: 100 orders x 500 adds (10 % re-sent), 3 silos, first one silo frozen with
#     SIGSTOP for FREEZE seconds (a zombie that wakes up later), then kill -9 of a random silo every
#     15 s (20 kills), rare crash faults after commit;
#   - meanwhile, from outside the runner: one immediate PostgreSQL restart (a database crash), and
#     PostgreSQL stopped for DB_STOP seconds.
# Usage: scripts/soak.sh [extra chaos options]   (the client's verdict goes to .runs/soak/<run>.json)
# Environment: SOAK_PG_PORT (55434), FREEZE (60), DB_CRASH_AT (360 s after the start),
#              DB_STOP_AT (120 s after the crash), DB_STOP (120).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

export PGPORT_LOCAL="${SOAK_PG_PORT:-55434}"
export PG_DATA_DIR="${SOAK_PG_DIR:-$repo_root/.pgdata-soak}"
connection="$(scripts/pg.sh start)"
export ConnectionStrings__Orleans="$connection"

dotnet build Orleans.sln -c Release -nologo -v quiet >/dev/null
client_dll="$repo_root/Client/bin/Release/net10.0/ExactlyOnce.Client.dll"
run="soak-$(date +%m%d-%H%M%S)"
out="$repo_root/.runs/soak"
mkdir -p "$out"
log() { echo "soak $(date +%T): $*" | tee -a "$out/$run.events"; }

log "run $run on $connection"
dotnet "$client_dll" chaos --orders 100 --items 500 --duplicates 0.1 --kills 20 --kill-interval 15 --restart-delay 2 \
  --fault after-commit=0.0002:crash --freeze "${FREEZE:-60}" --run "$run" --timeout 1800 --drain-bound 900 --json "$@" \
  >"$out/$run.json" 2>"$out/$run.stderr" &
chaos=$!

sleep "${DB_CRASH_AT:-360}"
log "PostgreSQL restarted in immediate mode (a crash)"
PG_RESTART_MODE=immediate scripts/pg.sh restart >/dev/null

sleep "${DB_STOP_AT:-120}"
log "PostgreSQL stopped for ${DB_STOP:-120} s"
scripts/pg.sh stop >/dev/null
sleep "${DB_STOP:-120}"
scripts/pg.sh start >/dev/null
log "PostgreSQL started again"

status=0
wait "$chaos" || status=$?
log "chaos exited with $status"
cat "$out/$run.json"
exit "$status"
