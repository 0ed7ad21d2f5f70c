#!/usr/bin/env bash
# Regenerates the plots of docs/performance.md ("Plots") from measurements, never by hand:
#   1. a sweep of the offered load: for each rate R one bench run of its own,
#        bench --silos 2 --orders 20 --messages M --rate R --json   ->  <runs>/bench-rate-R.json
#      and one without --rate (saturated: the client publishes as fast as it can) -> bench-rate-max.json;
#   2. scripts/state-size.sh --json for the checkpoints                    ->  <runs>/state-size.json;
#   3. tools/Plots draws from those files, into --out:
#        throughput-vs-offered-load.png, latency-p99-vs-offered-load.png, state-write-size.png
#
#   scripts/plots.sh [--rates "100 200 ..."] [--messages M] [--no-max] [--state-sizes "1000 10000"]
#                    [--no-bench] [--no-state-size] [--plot-only] [--out DIR] [--runs DIR]
#                    [--base-port P] [--machine TEXT] [-- extra bench arguments]
#
#   --rates        offered loads in messages/s, one bench run each (default "100 200 300 400 600 800")
#   --messages     messages per measured run of every bench run (default 2000)
#   --no-max       no saturated run
#   --state-sizes  messages to one order per state-size checkpoint (default "1000 10000")
#   --no-bench / --no-state-size   skip that measurement (the plot reads the JSON left from before)
#   --plot-only    measure nothing: draw from the JSON already in --runs (every bench-rate-*.json there)
#   --out          where the PNG files go (default docs/img)
#   --runs         where the JSON goes and is read from (default .runs/plots)
#   --base-port    first port of the bench's silos (default 22000); state-size.sh's silo takes
#                  P+100 and P+101
#   --machine      machine line of the titles (default: cores, memory, PostgreSQL version and fsync
#                  setting of this machine, recorded in <runs>/machine.txt when measuring)
#   after --        passed to every bench run (e.g. -- --warmup 500 --rounds 2)
#
# PostgreSQL: scripts/pg.sh (its PGPORT_LOCAL, PG_DATA_DIR, PG_FSYNC), started when it is not
# running and then stopped at the end; or ConnectionStrings__Orleans when set.
# The bench's exit code 3 (a run failed verification) is reported and its JSON kept and plotted;
# the Plots tool warns about it. Any other failure stops the script.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

die() { echo "plots.sh: $*" >&2; exit 2; }
rates="100 200 300 400 600 800"
messages=2000
max=true
state_sizes="1000 10000"
bench=true
state_size=true
plot_only=false
out="docs/img"
runs=".runs/plots"
base_port=22000
machine=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rates) [[ $# -ge 2 ]] || die "--rates needs a value"; rates="$2"; shift 2 ;;
    --messages) [[ $# -ge 2 ]] || die "--messages needs a value"; messages="$2"; shift 2 ;;
    --no-max) max=false; shift ;;
    --state-sizes) [[ $# -ge 2 ]] || die "--state-sizes needs a value"; state_sizes="$2"; shift 2 ;;
    --no-bench) bench=false; shift ;;
    --no-state-size) state_size=false; shift ;;
    --plot-only) plot_only=true; bench=false; state_size=false; shift ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out="$2"; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs="$2"; shift 2 ;;
    --base-port) [[ $# -ge 2 ]] || die "--base-port needs a value"; base_port="$2"; shift 2 ;;
    --machine) [[ $# -ge 2 ]] || die "--machine needs a value"; machine="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see scripts/plots.sh --help)" ;;
  esac
done
bench_args=("$@")
for n in $rates; do [[ "$n" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "not a rate: $n"; done
for n in $messages $state_sizes $base_port; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"; done
mkdir -p "$runs" "$out"
log() { echo "plots.sh $(date +%T): $*" >&2; }

pg_was_running=true
if $bench || $state_size; then
  if [[ -z "${ConnectionStrings__Orleans:-}" ]]; then
    scripts/pg.sh status >/dev/null 2>&1 || pg_was_running=false
    ConnectionStrings__Orleans="$(scripts/pg.sh start)"
    export ConnectionStrings__Orleans
  fi
  cleanup() { if [[ "$pg_was_running" == false ]]; then scripts/pg.sh stop >/dev/null 2>&1 || true; fi; }
  trap cleanup EXIT

  log "building (Release)"
  dotnet build Orleans.sln -c Release -nologo -v quiet >"$runs/build.log" 2>&1 || { cat "$runs/build.log" >&2; exit 1; }
  {
    echo -n "$(nproc) cores, $(free -m | awk '/^Mem:/ { printf "%.0f", $2 / 1024 }') GiB"
    psql "$(python3 -c "import sys;d=dict(p.split('=',1) for p in sys.argv[1].split(';') if p);print(f\"postgresql://{d['Username']}:{d['Password']}@{d['Host']}:{d['Port']}/{d['Database']}\")" "$ConnectionStrings__Orleans")" \
      -At -c "SELECT ', PostgreSQL ' || current_setting('server_version') || ', fsync ' || current_setting('fsync')" 2>/dev/null || true
  } | tr -d '\n' >"$runs/machine.txt"
else
  dotnet build tools/Plots/Plots.csproj -c Release -nologo -v quiet >"$runs/build.log" 2>&1 || { cat "$runs/build.log" >&2; exit 1; }
fi
client_dll="$repo_root/Client/bin/Release/net10.0/ExactlyOnce.Client.dll"
plots_dll="$repo_root/tools/Plots/bin/Release/net10.0/ExactlyOnce.Plots.dll"

# One bench run; its JSON goes to <runs>/bench-rate-<label>.json, its notes to .log beside it.
bench_files=()
run_bench() {
  local label="$1"; shift
  local file="$runs/bench-rate-$label.json" status=0
  log "bench at ${label} msg/s offered ($messages messages per mode), notes in $runs/bench-rate-$label.log"
  dotnet "$client_dll" bench --silos 2 --orders 20 --messages "$messages" --base-port "$base_port" --json "$@" \
    ${bench_args[@]+"${bench_args[@]}"} >"$file.partial" 2>"$runs/bench-rate-$label.log" || status=$?
  if [[ $status -ne 0 && $status -ne 3 ]]; then
    tail -n 20 "$runs/bench-rate-$label.log" >&2
    die "bench at $label failed with exit code $status"
  fi
  [[ $status -eq 3 ]] && log "bench at $label: a run failed verification (exit code 3); kept and plotted"
  mv "$file.partial" "$file"
  bench_files+=("$file")
}

started=$SECONDS
if $bench; then
  for rate in $rates; do run_bench "$rate" --rate "$rate"; done
  if $max; then run_bench max; fi
fi

if $state_size; then
  log "state size after $state_sizes messages to one order"
  # shellcheck disable=SC2086 # the checkpoints are words
  scripts/state-size.sh --json --silo-port $((base_port + 100)) --gateway-port $((base_port + 101)) $state_sizes \
    >"$runs/state-size.json.partial" 2>"$runs/state-size.log" || { tail -n 20 "$runs/state-size.log" >&2; die "state-size.sh failed"; }
  mv "$runs/state-size.json.partial" "$runs/state-size.json"
fi
$bench || $state_size && log "measured in $((SECONDS - started)) s"

if [[ ${#bench_files[@]} -eq 0 ]]; then
  shopt -s nullglob
  bench_files=("$runs"/bench-rate-*.json)
  shopt -u nullglob
fi
[[ ${#bench_files[@]} -gt 0 ]] || die "no bench-rate-*.json in $runs (run without --plot-only first)"
[[ -n "$machine" || ! -f "$runs/machine.txt" ]] || machine="$(cat "$runs/machine.txt")"
dotnet "$plots_dll" offered-load --out "$out" --machine "$machine" "${bench_files[@]}"
if [[ -f "$runs/state-size.json" ]]; then
  dotnet "$plots_dll" state-size --out "$out" --machine "$machine" "$runs/state-size.json"
else
  log "no $runs/state-size.json: state-write-size.png not drawn"
fi
