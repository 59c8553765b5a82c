#!/usr/bin/env bash
# Run speed (issue: gridrun run). Builds gridrun in release and measures, in one invocation:
#   1. 2,000 no-op jobs at -j2, each recorded in the store with its log, against `xargs -P2`
#      and GNU `parallel -j2` running the same 2,000 commands
#      (targets: <= 1.15x xargs, >= 3x faster than parallel);
#   2. a job printing 1 GiB against the same command redirected to a file
#      (targets: <= 1.2x, gridrun's peak RSS <= 50 MiB);
#   3. the example grid: gridrun's own CPU time against its jobs' CPU time (target: <= 2 %).
# Needs GNU parallel and GNU time (apt-get install parallel time).
# Run it on an otherwise idle machine: the figures are ratios between commands in this run.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
# On some virtual machines fork and exec slow down as the page cache fills (seen here: xargs
# itself from 0.8 s to 2.9 s after a test suite's builds). As root, the cache is dropped once
# here; each measurement then warms up, as a machine that runs gridrun often has it cached.
if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi

echo "== 1. 2,000 no-op jobs, 2 at a time =="
# Each job makes a log folder and a log file: what that costs depends on the file system the
# state folders are on (mktemp's, so TMPDIR moves them). Said here, as it moves the ratio.
echo "state folders on: $(findmnt -n -o FSTYPE,OPTIONS -T "$work" 2>/dev/null | cut -c1-60)"
# One state folder for every iteration: runs accumulate in the store as they do in use. (Deleting
# 2,000 log folders right before each run makes ext4 hunt for inodes and times the deletion.)
# The three commands run in turn, ten rounds after a warm-up one (ROUNDS=30 for more), and each
# round's ratio is taken:
# a virtual machine's speed drifts over a minute more than the difference being measured, and
# a pair run back to back sees the same machine.
# With GRIDRUN_BASE, the earlier build runs the same jobs in each round (a state folder of its own).
python3 - "$bin" "$work/noop-state" "$base" "$work/base-noop-state" "${ROUNDS:-10}" <<'PY'
import statistics, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "bench")
from interleave import spread, time_rounds
gridrun, state, base, base_state = sys.argv[1:5]
rounds = int(sys.argv[5])
commands = {
    "gridrun": f"{gridrun} --state-dir {state} run bench/noop-2000.toml -j 2 --cpus 2 > /dev/null 2>&1",
    "xargs": "seq 2000 | xargs -P2 -I{} sh -c true",
    "parallel": "seq 2000 | parallel -j2 sh -c true",
}
if base:
    commands["base"] = f"{base} --state-dir {base_state} run bench/noop-2000.toml -j 2 --cpus 2 > /dev/null 2>&1"
times = time_rounds(commands, rounds, check=False)
med = {name: statistics.median(t) for name, t in times.items()}
xargs = [g / x for g, x in zip(times["gridrun"], times["xargs"])]
parallel = [p / g for g, p in zip(times["gridrun"], times["parallel"])]
print(f"median of {rounds} rounds: gridrun {med['gridrun']:.3f} s, xargs {med['xargs']:.3f} s, parallel {med['parallel']:.3f} s")
print(f"gridrun / xargs, per round: {spread(xargs)} (target <= 1.15x)")
print(f"parallel / gridrun, per round: median {statistics.median(parallel):.2f}x (target >= 3x)")
if base:
    of_base = [b / x for b, x in zip(times["base"], times["xargs"])]
    print(f"GRIDRUN_BASE: median {med['base']:.3f} s; base / xargs, per round: {spread(of_base)}")
PY
"$bin" --state-dir "$work/noop-state" status -n 1 2>/dev/null | tail -1 || true

echo "== 2. one job printing 1 GiB =="
flood="head -c 1073741824 /dev/zero | tr '\\\\0' x | fold -w 127"
cat > "$work/flood.toml" <<TOML
[project]
name = "flood"
[[steps]]
name = "flood"
run = "$flood"
TOML
# Interleaved like the no-op jobs: one warm-up round, then five, each timing gridrun and the
# redirect one after the other (the file and the state folder removed beforehand, untimed).
python3 - "$bin" "$work" "$flood" <<'PY'
import os, shutil, statistics, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "bench")
from interleave import spread, time_rounds
gridrun, work, flood = sys.argv[1:4]
commands = {
    "gridrun": f"{gridrun} --state-dir {work}/flood-state run {work}/flood.toml > /dev/null 2>&1",
    "redirect": f"sh -c \"{flood}\" > {work}/flood.out",
}
def clean():
    shutil.rmtree(f"{work}/flood-state", ignore_errors=True)
    if os.path.exists(f"{work}/flood.out"):
        os.remove(f"{work}/flood.out")
times = time_rounds(commands, 5, check=False, before=clean)
ratios = [g / r for g, r in zip(times["gridrun"], times["redirect"])]
print(f"median of 5 rounds: gridrun {statistics.median(times['gridrun']):.3f} s, redirect "
      f"{statistics.median(times['redirect']):.3f} s; gridrun / redirect, per round: {spread(ratios)} (target <= 1.2x)")
PY
rm -rf "$work/flood-state" "$work/flood.out"
/usr/bin/time -f "%M" -o "$work/flood.rss" "$bin" --state-dir "$work/flood-state" run "$work/flood.toml" > /dev/null 2>&1
echo "peak RSS of gridrun (with its job's processes): $(awk '{printf "%.1f", $NF / 1024}' "$work/flood.rss") MiB (target <= 50 MiB)"

echo "== 3. the example grid: gridrun's own CPU =="
# Probe the compilers first (a one-off per compiler binary, cached), as a second run would.
"$bin" --state-dir "$work/grid-state" plan examples/gridrun.toml > /dev/null
/usr/bin/time -f "%e %U %S" -o "$work/grid.time" "$bin" --state-dir "$work/grid-state" run examples/gridrun.toml > /dev/null 2>&1 || true
python3 - "$work/grid.time" "$work/grid-state/gridrun.db" <<'PY'
import sqlite3, sys
wall, user, sys_ = map(float, open(sys.argv[1]).read().split()[-3:])
jobs_ms = sqlite3.connect(sys.argv[2]).execute("select sum(cpu_ms) from jobs").fetchone()[0] or 0
total_ms = (user + sys_) * 1000
own = total_ms - jobs_ms
print(f"wall {wall:.1f} s; CPU of gridrun and its jobs {total_ms / 1000:.1f} s; jobs {jobs_ms / 1000:.1f} s; "
      f"gridrun's own {own / 1000:.2f} s = {100 * own / jobs_ms:.2f} % of the jobs' (target <= 2 %)")
PY
