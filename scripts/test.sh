#!/usr/bin/env bash
# Runs the whole test suite against a throwaway local PostgreSQL (started here if needed).
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter EXPR   any extra arguments go to 'dotnet test'
# Ends with the line 'N passed, N failed'. Exit code 0 only when nothing failed.
set -uo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The tests may run without fsync: a crashed test machine throws its test database away anyway.
# Synchronous commit stays on (scripts/pg.sh): the chaos tests crash PostgreSQL and count on every
# commit it acknowledged.
export PG_FSYNC="${PG_FSYNC:-off}"
# The operator page's test drives Debian's headless Chromium: installed when absent, as pg.sh does PostgreSQL.
if ! command -v chromium >/dev/null; then
  echo "test.sh: installing Debian's chromium for the operator page's test..." >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null \
    || echo "test.sh: apt-get install chromium failed; the operator page's test will fail and say so" >&2
fi
connection="$(scripts/pg.sh start)" || { echo "test.sh: PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
export ConnectionStrings__Orleans="$connection"

results_dir="$repo_root/.runs/test-results"
rm -rf "$results_dir"
mkdir -p "$results_dir"

dotnet build Orleans.sln -c Release -nologo -v quiet || { echo "test.sh: build failed"; echo "0 passed, 1 failed"; exit 1; }
dotnet test tests/ExactlyOnce.Tests/ExactlyOnce.Tests.csproj -c Release --no-build -nologo \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results_dir" "$@"
test_exit=$?

trx="$results_dir/results.trx"
if [[ -f "$trx" ]]; then
  passed="$(grep -o '<Counters [^>]*' "$trx" | grep -o 'passed="[0-9]*"' | grep -o '[0-9]*')"
  failed="$(grep -o '<Counters [^>]*' "$trx" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')"
else
  passed=0
  failed=1
fi
if [[ "$test_exit" -ne 0 && "${failed:-0}" -eq 0 ]]; then
  failed=1 # the runner failed without a failing test (crash, no tests found): never report green
fi
echo "${passed:-0} passed, ${failed:-0} failed"
[[ "${failed:-0}" -eq 0 && "$test_exit" -eq 0 ]]
