# Sourced by the demo scripts. start_silos CLIENT_DLL LOG_DIR [client silos options]: runs
# 'client silos' (the silo-process helper the tests and the chaos runner use too) in the
# background, waits (120 s at most) for its 'all silos started' line, and fills the caller's
# 'silo_pids' array; prints its output and exits 1 otherwise. stop_silos: SIGTERM to it (it
# forwards SIGTERM to every silo), then waits until every silo process is gone (40 s at most).
start_silos() {
  local client_dll="$1" logs="$2"
  shift 2
  dotnet "$client_dll" silos --logs "$logs" "$@" >"$logs/silos.out" 2>&1 &
  silos_runner=$!
  for _ in $(seq 1 240); do
    grep -q "^all silos started" "$logs/silos.out" && break
    kill -0 "$silos_runner" 2>/dev/null || break
    sleep 0.5
  done
  grep -q "^all silos started" "$logs/silos.out" || { echo "the silos did not start:"; tail -n 20 "$logs/silos.out"; exit 1; }
  grep "^silo " "$logs/silos.out"
  mapfile -t silo_pids < <(sed -nE 's/^silo [0-9]+: pid ([0-9]+) .*/\1/p' "$logs/silos.out")
}

stop_silos() {
  [[ -n "${silos_runner:-}" ]] || return 0
  kill -TERM "$silos_runner" 2>/dev/null || true
  wait "$silos_runner" 2>/dev/null || true
  local pid
  for pid in "${silo_pids[@]}"; do
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
  silos_runner=""
}
