#!/usr/bin/env bash
# Plan speed (issue: foundation). Builds gridrun in release and measures, in one invocation:
#   1. a 100,000-cell matrix (bench/plan-100k.toml) planned to JSON: wall time and peak RSS
#      (targets: <= 0.5 s, <= 100 MiB);
#   2. `gridrun plan` of the example grid with the toolchain cache warm (target: <= 50 ms).
# Needs hyperfine (apt-get install hyperfine) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

cells=$("$bin" --state-dir "$state" plan bench/plan-100k.toml --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')
echo "== 100k-cell matrix to JSON ($cells jobs) =="
hyperfine --warmup 2 --runs 10 --style basic \
  "$bin --state-dir $state plan bench/plan-100k.toml --format json > /dev/null"
/usr/bin/time -f 'peak RSS: %M KiB, wall: %e s' "$bin" --state-dir "$state" plan bench/plan-100k.toml --format json > /dev/null

echo "== example grid, toolchain cache warm =="
"$bin" --state-dir "$state" plan examples/gridrun.toml > /dev/null
hyperfine --warmup 3 --runs 30 --style basic \
  "$bin --state-dir $state plan examples/gridrun.toml > /dev/null"
if [ -n "$base" ]; then
  echo "== against GRIDRUN_BASE ($base): interleaved rounds =="
  mkdir "$state/base"
  "$base" --state-dir "$state/base" plan examples/gridrun.toml > /dev/null
  python3 bench/interleave.py 10 \
    "plan-100k=$bin --state-dir $state plan bench/plan-100k.toml --format json > /dev/null" \
    "base-plan-100k=$base --state-dir $state/base plan bench/plan-100k.toml --format json > /dev/null"
  python3 bench/interleave.py 40 \
    "example=$bin --state-dir $state plan examples/gridrun.toml > /dev/null" \
    "base-example=$base --state-dir $state/base plan examples/gridrun.toml > /dev/null"
fi
