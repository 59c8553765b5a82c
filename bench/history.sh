#!/usr/bin/env bash
# The history page (issue: insight). Builds gridrun in release, makes a real store with one
# `gridrun run` (the schema gridrun migrates to), fills it with synthetic history
# (bench/synthetic_store.py: 100,000 jobs over 30 days, two projects), and times
# `gridrun report --history` writing a page per project (targets: <= 1 s, each page <= 2 MB),
# against `gridrun stats --json` over the same store, which reads the same figures.
# Needs hyperfine and python3 with its sqlite3 module. JOBS=N changes the size of the store.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
jobs=${JOBS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

new_store "$work"
python3 bench/synthetic_store.py --jobs "$jobs" --path "$work/state/gridrun.db"

echo "== gridrun report --history over $jobs jobs =="
hyperfine --style basic --warmup 2 --runs 10 --export-json "$work/history.json" \
  -n history "$bin --state-dir $work/state report --history -o $work/history.html" \
  -n "stats --json" "$bin --state-dir $work/state stats --json > /dev/null" | grep -E "Benchmark|Time|Range" || true
python3 - "$work/history.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
h, s = results["history"], results["stats --json"]
verdict = "ok" if h["mean"] <= 1.0 else "OVER"
print(f"history: mean {h['mean'] * 1000:.1f} ms (target <= 1000 ms: {verdict}); "
      f"stats --json: {s['mean'] * 1000:.1f} ms; ratio {h['mean'] / s['mean']:.2f}x")
PY
for page in "$work"/history*.html; do
  size=$(stat -c %s "$page")
  verdict=ok; [ "$size" -le $((2 * 1024 * 1024)) ] || verdict=OVER
  echo "$(basename "$page"): $size bytes (target <= 2 MB: $verdict)"
done
