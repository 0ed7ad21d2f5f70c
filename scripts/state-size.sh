#!/usr/bin/env bash
# Measures the stored state of one order (component A) after N messages to it, for each N given:
# 'load --orders 1 --items N --removes 1' sends one add, then removes (the first takes the line
# away, the others find nothing), so the business data stays empty and what the state write
# carries beyond it is the protocol part (dedup, outbox). Prints the stored bytes of the row (what
# every state write rewrites), split into business data and the rest.
#   scripts/state-size.sh [--silo-root DIR] N [N ...]      e.g. scripts/state-size.sh 1000 25000
# --silo-root: a checkout whose Release silo build is used (default: this one), so two versions of
# the silo can be compared under the same client.
# Starts PostgreSQL if needed and one silo of a throwaway service on ports 11151/30051.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$here"
if [[ "${1:-}" == "--silo-root" ]]; then root="$(cd "$2" && pwd)"; shift 2; fi
[[ $# -ge 1 ]] || { echo "usage: scripts/state-size.sh [--silo-root DIR] N [N ...]"; exit 2; }
connection="$("$here/scripts/pg.sh" start)"
export ConnectionStrings__Orleans="$connection"
service="size-$(date +%s)"
export Cluster__ClusterId="$service" Cluster__ServiceId="$service"
silo="$root/Silo/bin/Release/net10.0/ExactlyOnce.Silo.dll"
client="$here/Client/bin/Release/net10.0/ExactlyOnce.Client.dll"
log="$(mktemp)"
# JSON states, so that the business data can be told from the rest (the default binary format is
# about a quarter of the size; the split needs the JSON).
dotnet "$silo" --silo-port 11151 --gateway-port 30051 --Storage:StateFormat json >"$log" 2>&1 &
silo_pid=$!
trap 'kill $silo_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 120); do grep -q "silo started" "$log" && break; sleep 0.5; done
grep -q "silo started" "$log" || { echo "silo did not start:"; tail -n 20 "$log"; exit 1; }
psql_url="$(python3 -c "import sys;d=dict(p.split('=',1) for p in sys.argv[1].split(';') if p);print(f\"postgresql://{d['Username']}:{d['Password']}@{d['Host']}:{d['Port']}/{d['Database']}\")" "$connection")"
echo "silo version: $(git -C "$root" log -1 --format='%h %s' | cut -c1-70)"
printf '%-8s %-8s %12s %12s %14s\n' "messages" "row" "stored B" "data B" "protocol B"
for n in "$@"; do
  run="sz$n-$(date +%s)"
  dotnet "$client" load --orders 1 --items "$n" --removes 1 --run "$run" --json >/dev/null
  dotnet "$client" verify --run "$run" --timeout 1800 --json >"$log.verify" || true
  for state in order; do
    psql "$psql_url" -At -c "SELECT convert_from(PayloadBinary, 'UTF8') FROM OrleansStorage WHERE ServiceId = '$service' AND GrainTypeString = '$state' AND GrainIdExtensionString = '$run-0'" |
      python3 -c "
import json, sys
text = sys.stdin.read().strip()
data = json.dumps(json.loads(text)['Data'], separators=(',', ':'))
print(f'{sys.argv[1]:<8} {sys.argv[2]:<8} {len(text.encode()):>12} {len(data.encode()):>12} {len(text.encode()) - len(data.encode()):>14}')" "$n" "$state"
  done
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"         verify: ok={r['ok']} lost={r['lost']} duplicated={r['duplicated']}\")" "$log.verify" 2>/dev/null || echo "         verify: (no verdict)"
done
