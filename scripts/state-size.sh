#!/usr/bin/env bash
# Measures the stored state of one order (component A) after N messages to it, for each N given:
# 'load --orders 1 --items N --removes 1' sends one add, then removes (the first takes the line
# away, the others find nothing), so the business data stays empty and what the state write
# carries beyond it is the protocol part (dedup, outbox). Prints the stored bytes of the row (what
# every state write rewrites), split into business data and the rest.
#   scripts/state-size.sh [--silo-root DIR] [--json] [--silo-port P] [--gateway-port P] N [N ...]
#   e.g. scripts/state-size.sh 1000 25000
# --silo-root: a checkout whose Release silo build is used (default: this one), so two versions of
# the silo can be compared under the same client.
# --json: print one JSON object instead of the table (stdout holds nothing else): the silo version,
# and per N the stored, data and protocol bytes, the verifier's verdict, the seconds the load and
# its verification took with the messages per second that makes (seconds, throughput), and the
# seconds from the first publish to the order's last state write with the messages per second
# that makes (appliedSeconds, appliedThroughput: without the client processes' start and the
# verifier's wait for quiet), to see whether the speed stays flat as the order grows. Each N is an
# order of its own.
# --silo-port / --gateway-port (or SIZE_SILO_PORT / SIZE_GATEWAY_PORT): the silo's ports, default
# 11151/30051.
# Starts PostgreSQL if needed (scripts/pg.sh, with its PGPORT_LOCAL and PG_DATA_DIR) and one silo
# of a throwaway service.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$here"
json=false
silo_port="${SIZE_SILO_PORT:-11151}"
gateway_port="${SIZE_GATEWAY_PORT:-30051}"
usage="usage: scripts/state-size.sh [--silo-root DIR] [--json] [--silo-port P] [--gateway-port P] N [N ...]"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --silo-root) [[ $# -ge 2 ]] || { echo "$usage"; exit 2; }; root="$(cd "$2" && pwd)"; shift 2 ;;
    --json) json=true; shift ;;
    --silo-port) [[ $# -ge 2 ]] || { echo "$usage"; exit 2; }; silo_port="$2"; shift 2 ;;
    --gateway-port) [[ $# -ge 2 ]] || { echo "$usage"; exit 2; }; gateway_port="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "unknown option $1"; echo "$usage"; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "$usage"; exit 2; }
for n in "$@" "$silo_port" "$gateway_port"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive number: $n"; echo "$usage"; exit 2; }
done
connection="$("$here/scripts/pg.sh" start)"
export ConnectionStrings__Orleans="$connection"
service="size-$(date +%s)"
export Cluster__ClusterId="$service" Cluster__ServiceId="$service"
silo="$root/Silo/bin/Release/net10.0/ExactlyOnce.Silo.dll"
client="$here/Client/bin/Release/net10.0/ExactlyOnce.Client.dll"
log="$(mktemp)"
# JSON states, so that the business data can be told from the rest (the default binary format is
# about a quarter of the size; the split needs the JSON).
dotnet "$silo" --silo-port "$silo_port" --gateway-port "$gateway_port" --Storage:StateFormat json >"$log" 2>&1 &
silo_pid=$!
trap 'kill $silo_pid 2>/dev/null || true; rm -f "$log" "$log".*' EXIT
for _ in $(seq 1 120); do grep -q "silo started" "$log" && break; sleep 0.5; done
grep -q "silo started" "$log" || { echo "silo did not start:" >&2; tail -n 20 "$log" >&2; exit 1; }
psql_url="$(python3 -c "import sys;d=dict(p.split('=',1) for p in sys.argv[1].split(';') if p);print(f\"postgresql://{d['Username']}:{d['Password']}@{d['Host']}:{d['Port']}/{d['Database']}\")" "$connection")"
version="$(git -C "$root" log -1 --format='%h %s' | cut -c1-70)"
# The rows go to fd 3: the table on stdout, or one JSON entry a line to collect at the end.
if $json; then
  exec 3>"$log.entries"
else
  exec 3>&1
  echo "silo version: $version"
  printf '%-8s %-8s %12s %12s %14s\n' "messages" "row" "stored B" "data B" "protocol B"
fi
for n in "$@"; do
  run="sz$n-$(date +%s)"
  if $json; then echo "state-size: $n messages to one order (run $run)" >&2; fi
  started="$(date +%s.%N)"
  dotnet "$client" load --orders 1 --items "$n" --removes 1 --run "$run" --json >/dev/null
  dotnet "$client" verify --run "$run" --timeout 1800 --json >"$log.verify" || true
  finished="$(date +%s.%N)"
  for state in order; do
    row="ServiceId = '$service' AND GrainIdExtensionString = '$run-0'"
    psql "$psql_url" -At -c "SELECT convert_from(PayloadBinary, 'UTF8') FROM OrleansStorage WHERE $row AND GrainTypeString = '$state'" >"$log.state"
    if $json; then
      # When the order last wrote its state (its last message), and its bill, whose first entry
      # carries the client's publish time of the first message.
      psql "$psql_url" -At -c "SELECT extract(epoch FROM ModifiedOn) FROM OrleansStorage WHERE $row AND GrainTypeString = '$state'" >"$log.modified"
      psql "$psql_url" -At -c "SELECT convert_from(PayloadBinary, 'UTF8') FROM OrleansStorage WHERE $row AND GrainTypeString = 'billing'" >"$log.bill"
    fi
    python3 -c "
import json, sys
from datetime import datetime
n, state, as_json, verify, started, finished, log = sys.argv[1], sys.argv[2], sys.argv[3] == 'true', sys.argv[4], float(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
text = open(log + '.state').read().strip()
data = json.dumps(json.loads(text)['Data'], separators=(',', ':'))
stored, data_bytes = len(text.encode()), len(data.encode())
if not as_json:
    print(f'{n:<8} {state:<8} {stored:>12} {data_bytes:>12} {stored - data_bytes:>14}')
    sys.exit(0)
try:
    v = json.load(open(verify))
    ok, lost, duplicated = v['ok'], v['lost'], v['duplicated']
except Exception:
    ok = lost = duplicated = None
seconds = finished - started
# First publish to the order's last state write: the processing of the messages alone, without
# the start of the client processes and the verifier's wait for quiet (about 15 s here).
applied = None
try:
    items = json.loads(open(log + '.bill').read())['Data']['Items']
    items = items['\$values'] if isinstance(items, dict) else items
    first = min(datetime.fromisoformat(i['SentAt']).timestamp() for i in items if i.get('SentAt'))
    applied = float(open(log + '.modified').read()) - first
except Exception:
    pass
print(json.dumps({'messages': int(n), 'state': state, 'storedBytes': stored, 'dataBytes': data_bytes,
                  'protocolBytes': stored - data_bytes, 'ok': ok, 'lost': lost, 'duplicated': duplicated,
                  'seconds': round(seconds, 3), 'throughput': round(int(n) / seconds, 1),
                  'appliedSeconds': round(applied, 3) if applied and applied > 0 else None,
                  'appliedThroughput': round(int(n) / applied, 1) if applied and applied > 0 else None}))" \
      "$n" "$state" "$json" "$log.verify" "$started" "$finished" "$log" >&3
  done
  $json || python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"         verify: ok={r['ok']} lost={r['lost']} duplicated={r['duplicated']}\")" "$log.verify" 2>/dev/null || echo "         verify: (no verdict)"
done
exec 3>&-
if $json; then
  python3 -c "
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(json.dumps({'silo': sys.argv[2], 'format': 'json', 'state': 'order', 'entries': entries}))" "$log.entries" "$version"
fi
