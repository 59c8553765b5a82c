#!/usr/bin/env bash
# Stats speed (issue: stats and gc). Builds gridrun in release, makes a real store with one
# `gridrun run` of a tiny matrix (so the schema is the one gridrun migrates to), fills it with
# synthetic history (bench/synthetic_store.py: 100,000 jobs over 30 days, two projects, with
# steps and diagnostics), and times `gridrun stats` and `gridrun stats --json` over it
# (target: <= 0.2 s each).
# Needs hyperfine (apt-get install hyperfine) and python3 with its sqlite3 module.
# JOBS=N changes the size of the store.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
jobs=${JOBS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

new_store "$work"
python3 bench/synthetic_store.py --jobs "$jobs" --path "$work/state/gridrun.db"
echo "store: $(du -h "$work/state/gridrun.db" | cut -f1)"

echo "== gridrun stats over $jobs jobs =="
hyperfine --style basic --warmup 3 --runs 20 --export-json "$work/stats.json" \
  -n text "$bin --state-dir $work/state stats > /dev/null" \
  -n json "$bin --state-dir $work/state stats --json > /dev/null" | grep -E "Benchmark|Time|Range" || true
python3 - "$work/stats.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    verdict = "ok" if r["mean"] <= 0.2 else "OVER"
    print(f"{r['command']}: mean {r['mean'] * 1000:.1f} ms, max {r['max'] * 1000:.1f} ms (target <= 200 ms: {verdict})")
PY
if [ -n "$base" ]; then
  echo "== against GRIDRUN_BASE ($base): 15 interleaved rounds =="
  mkdir "$work/base"
  new_store "$work/base" "$base"
  python3 bench/synthetic_store.py --jobs "$jobs" --path "$work/base/state/gridrun.db" > /dev/null
  python3 bench/interleave.py 15 \
    "text=$bin --state-dir $work/state stats > /dev/null" "base-text=$base --state-dir $work/base/state stats > /dev/null" \
    "json=$bin --state-dir $work/state stats --json > /dev/null" \
    "base-json=$base --state-dir $work/base/state stats --json > /dev/null"
fi
