#!/usr/bin/env bash
# Report speed (issue: reports). Builds gridrun in release, makes a real store with one
# `gridrun run` of a tiny matrix (so the schema is the one gridrun migrates to), adds one run of
# 10,000 jobs to it (bench/synthetic-run.py: steps, shared and unique diagnostics, test results,
# artifacts, a bad day's mix of failures), and times `gridrun report RUN --format html -o FILE`
# over it (target: <= 1 s), then prints the page's size. Markdown and JUnit are timed alongside.
# Needs hyperfine (apt-get install hyperfine) and python3 with its sqlite3 module.
# JOBS=N changes the size of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
jobs=${JOBS:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1

new_store "$work"
run=$(python3 bench/synthetic-run.py --jobs "$jobs" --path "$work/state/gridrun.db")
state="--state-dir $work/state"

echo "== gridrun report over one run of $jobs jobs =="
hyperfine --style basic --warmup 2 --runs 10 --export-json "$work/report.json" \
  -n html "$bin $state report $run --format html -o $work/report.html" \
  -n md "$bin $state report $run --format md -o $work/report.md" \
  -n junit "$bin $state report $run --format junit -o $work/report.xml" | grep -E "Benchmark|Time|Range" || true
python3 - "$work/report.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    target = " (target <= 1000 ms: " + ("ok" if r["mean"] <= 1.0 else "OVER") + ")" if r["command"] == "html" else ""
    print(f"{r['command']}: mean {r['mean'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms{target}")
PY
if [ -n "$base" ]; then
  echo "== against GRIDRUN_BASE ($base): 10 interleaved rounds =="
  mkdir "$work/base"
  new_store "$work/base" "$base"
  base_run=$(python3 bench/synthetic-run.py --jobs "$jobs" --path "$work/base/state/gridrun.db")
  args=()
  for format in html md junit; do
    args+=("$format=$bin $state report $run --format $format -o $work/this.$format"
      "base-$format=$base --state-dir $work/base/state report $base_run --format $format -o $work/base.$format")
  done
  python3 bench/interleave.py 10 "${args[@]}"
fi
for f in report.html report.md report.xml; do
  echo "$f: $(du -h "$work/$f" | cut -f1) ($(wc -c < "$work/$f") bytes)"
done

# The page in a real browser (optional: needs Debian's chromium and npm, which fetches
# playwright-core into the scratch folder).
if command -v chromium > /dev/null && command -v npm > /dev/null; then
  echo "== the HTML report in Chromium =="
  (cd "$work" && npm install --silent --no-save playwright-core@1 > /dev/null 2>&1) &&
    NODE_PATH="$work/node_modules" node bench/browser-load.js "$work/report.html" ||
    echo "(could not install playwright-core; skipped)"
fi
