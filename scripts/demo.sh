#!/usr/bin/env bash
# The main demo. Starts PostgreSQL and two silos when no silo of the cluster is running, runs the
# client's 'demo' (one workload under at-most-once, at-least-once and exactly-once with faults on),
# and stops what it started. Extra arguments go to 'demo' (e.g. --orders 10 --items 50).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
# shellcheck source=lib/silos.sh
source scripts/lib/silos.sh
runs="$repo_root/.runs/demo"
mkdir -p "$runs"

pg_was_running=true
scripts/pg.sh status >/dev/null 2>&1 || pg_was_running=false
export ConnectionStrings__Orleans="${ConnectionStrings__Orleans:-$(scripts/pg.sh start)}"

echo "== building (Release)"
dotnet build Orleans.sln -c Release -nologo -v quiet >"$runs/build.log" 2>&1 || { cat "$runs/build.log"; exit 1; }
client_dll="$repo_root/Client/bin/Release/net10.0/ExactlyOnce.Client.dll"

cleanup() {
  stop_silos
  if [[ "$pg_was_running" == false ]]; then scripts/pg.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# A cluster is running when the client can reach one of its silos.
if dotnet "$client_dll" faults show --json >/dev/null 2>&1; then
  echo "== using the silos already running"
else
  echo "== starting two silos (logs in .runs/demo/)"
  # The demo arms faults on its own silos ('demo' throws after commit; no crash rules).
  start_silos "$client_dll" "$runs" --count 2 --fault-injection
fi

echo "== demo"
dotnet "$client_dll" demo "$@"
