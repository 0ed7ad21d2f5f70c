# Sourced by the demo scripts. start_two_silos SILO_DLL LOG_DIR: starts two silos on ports
# 11111/30001 and 11112/30002, appends their pids to the caller's 'pids' array, and waits (60 s at
# most) until both printed their started line; prints a silo's log tail and exits 1 otherwise.
start_two_silos() {
  local silo_dll="$1" logs="$2" i
  for i in 1 2; do
    # The demo arms faults on its own silos ('demo' throws after commit; no crash rules).
    dotnet "$silo_dll" --silo-port $((11110 + i)) --gateway-port $((30000 + i)) \
      --FaultInjection:Enabled true >"$logs/silo$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2; do
    for _ in $(seq 1 120); do grep -q "silo started" "$logs/silo$i.log" && break; sleep 0.5; done
    grep "silo started" "$logs/silo$i.log" || { echo "silo $i did not start:"; tail -n 20 "$logs/silo$i.log"; exit 1; }
  done
}
