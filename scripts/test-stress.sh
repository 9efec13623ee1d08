#!/usr/bin/env bash
# The test suite on a starved machine: one CPU hog per core (busy-looping Node processes) for the
# whole run, then the same vitest command as scripts/test.sh. A test that passes only on an idle
# machine waits for time instead of for its event; this finds it.
#   npm run test:stress          one run
#   npm run test:stress -- 3     three runs in a row (all must pass)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-1}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: npm run test:stress [-- RUNS]  (RUNS: how many full runs in a row, default 1)" >&2
  exit 64
fi

hogs=()
tests=""
stop_hogs() {
  # A signal stops the test run too; bash runs this trap only once `wait` below returns.
  if [ -n "$tests" ]; then kill "$tests" 2>/dev/null || true; fi
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cores="$(nproc)"
for ((i = 0; i < cores; i++)); do
  node -e 'for (;;) {}' &
  hogs+=("$!")
done
echo "CPU hogs on all $cores cores: ${hogs[*]}"

mkdir -p .tmp
failed=0
for ((run = 1; run <= runs; run++)); do
  echo "== stress run $run of $runs"
  status=0
  # In the background and waited for, so that a TERM reaches the trap at once (bash defers traps
  # while a foreground command runs).
  node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest-results.json &
  tests=$!
  wait "$tests" || status=$?
  tests=
  node -e '
    const r = JSON.parse(require("fs").readFileSync(".tmp/vitest-results.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`stress run '"$run"': ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
  ' || status=1
  [ "$status" -eq 0 ] || failed=$((failed + 1))
done
echo "stress: $((runs - failed)) of $runs runs green"
[ "$failed" -eq 0 ]
