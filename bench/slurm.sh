#!/usr/bin/env bash
# Slurm speed (issue: the grid on a Slurm cluster). Builds gridrun in release, starts the test
# fixture's real single-node Slurm (tests/engines/slurm/cluster.sh: slurmctld, slurmd, munge on
# loopback), and measures, in one invocation:
#   1. 100 no-op cells through Slurm: `gridrun run --on slurm` submit-to-collected wall time
#      against `sbatch --array=0-99 --wait --wrap true` on the same cluster (target <= 1.25x);
#   2. the same 100 cells packed ten to a task (`--pack 10`): less time than the plain array;
#   3. `gridrun collect` over 100 finished tasks (target <= 2 s);
#   4. `gridrun collect` over 10,000 synthetic finished task states (target <= 30 s): the run and
#      its tasks' results are made by gridrun itself against stand-ins for sbatch, srun and
#      scontrol (a mock cluster: nothing runs), so only the folding is timed.
# Needs root, python3 and Slurm (.ci/install-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
work=$(mktemp -d /var/tmp/gridrun-bench-slurm.XXXXXX)
# munged wants every folder above its socket open to all.
chmod 755 "$work"
sleep infinity &
owner=$!
cleanup() {
  bash tests/engines/slurm/cluster.sh stop "$work/cluster" >/dev/null 2>&1 || true
  kill "$owner" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1
bash tests/engines/slurm/cluster.sh start "$work/cluster" "$owner" > /dev/null
export SLURM_CONF=$work/cluster/slurm.conf
# The first job after a start waits for slurmctld's first scheduling pass: not timed.
sbatch --wait --quiet --output=/dev/null --wrap true

mkdir -p "$work/proj" "$work/plain"
{
  printf '[project]\nname = "noop-100"\n[matrix]\nn = [%s]\n' "$(seq -s, 1 100)"
  printf '[[steps]]\nname = "noop"\nrun = "true"\n'
} > "$work/proj/gridrun.toml"
# The probe task runs once (its answer is cached a day): not timed either.
"$bin" plan "$work/proj" --on slurm > /dev/null

secs() { python3 -c 'import sys, time; print(f"{time.time():.3f}")'; }
timed() { # LABEL COMMAND…
  local start end
  start=$(secs)
  "${@:2}" > /dev/null 2>&1 || true
  end=$(secs)
  python3 -c "print(f'{float($end) - float($start):.1f}')" > "$work/$1.s"
}
echo "== 1-2. 100 no-op cells through Slurm =="
timed plain sbatch --wait --quiet --array=0-99 --output=/dev/null --chdir="$work/plain" --wrap true
timed gridrun "$bin" run "$work/proj" --on slurm
timed packed "$bin" run "$work/proj" --on slurm --pack 10
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
t = {k: float(open(f"{w}/{k}.s").read()) for k in ("plain", "gridrun", "packed")}
print(f"sbatch --array=0-99 --wait: {t['plain']:.1f} s; gridrun run --on slurm: {t['gridrun']:.1f} s "
      f"= {t['gridrun'] / t['plain']:.2f}x (target <= 1.25x); --pack 10: {t['packed']:.1f} s "
      f"= {t['packed'] / t['plain']:.2f}x (target < 1x)")
PY

echo "== 3. collect over 100 finished tasks =="
run=$("$bin" run "$work/proj" --on slurm --detach 2>/dev/null)
until [ -z "$(squeue -h -t pending,running,completing)" ]; do sleep 1; done
start=$(secs)
"$bin" collect --matrix "$work/proj" "$run" > /dev/null
end=$(secs)
python3 -c "print(f'collect of 100 finished tasks: {float($end) - float($start):.2f} s (target <= 2 s)')"

echo "== 4. collect over 10,000 synthetic finished task states =="
mock=$work/mock
mkdir -p "$mock/bin" "$work/big"
cat > "$mock/bin/scontrol" <<'SH'
#!/bin/sh
# A mock cluster for the synthetic benchmark: it knows no job.
[ "$1 $2" = "show config" ] && { echo "ClusterName = synthetic"; echo "MaxArraySize = 100001"; exit 0; }
echo "slurm_load_jobs error: Invalid job id specified" >&2
exit 1
SH
cat > "$mock/bin/sbatch" <<'SH'
#!/bin/sh
echo 4242
SH
cat > "$mock/bin/srun" <<'SH'
#!/bin/sh
# Runs the probe here: skip srun's own options, then exec the command.
while [ $# -gt 0 ]; do case $1 in --*) shift ;; *) break ;; esac; done
exec "$@"
SH
printf '#!/bin/sh\nexit 0\n' > "$mock/bin/scancel"
printf '#!/bin/sh\nexit 1\n' > "$mock/bin/sacct"
chmod +x "$mock/bin/"*
{
  printf '[project]\nname = "synthetic-10k"\n[matrix]\nn = [%s]\n' "$(seq -s, 1 10000)"
  printf '[[steps]]\nname = "noop"\nrun = "true"\n'
} > "$work/big/gridrun.toml"
run=$(PATH=$mock/bin:$PATH "$bin" run "$work/big" --on slurm --detach 2>/dev/null)
python3 - "$work/big/.gridrun" "$run" <<'PY'
import json, os, sys
state, run = sys.argv[1], int(sys.argv[2])
spec = json.load(open(f"{state}/slurm/{run}/spec.json"))
for n, slugs in enumerate(spec["tasks"]):
    d = f"{state}/slurm/{run}/task-{n}"
    os.makedirs(d, exist_ok=True)
    for slug in slugs:
        log = f"{state}/runs/{run}/{slug}/noop.log"
        job = {"schema": 1, "run": run, "slug": slug, "cell": {"n": int(slug)}, "status": "passed", "failure_kind": None,
               "exit_code": 0, "signal": None, "duration_ms": 12, "cpu_ms": 3, "peak_rss_kb": 1024, "flaky": False,
               "allow_failure": False, "host": None, "image": None, "image_digest": None,
               "steps": [{"name": "noop", "status": "passed", "exit_code": 0, "duration_ms": 11, "log": log, "attempt": 1,
                          "signal": None, "cpu_ms": 3, "peak_rss_kb": 1024, "log_bytes": 0, "command": "true", "position": 0}],
               "diagnostics": [], "tests": {"passed": 0, "failed": 0, "skipped": 0}, "reason": None, "config_hash": "0" * 16,
               "compiler": "", "compiler_version": "", "started_at": None, "work_dir": None, "reused_from": None,
               "test_cases": [], "artifacts": [], "log_tail": None}
        with open(f"{d}/result-{slug}.json", "w") as f:
            json.dump(job, f)
PY
start=$(secs)
PATH=$mock/bin:$PATH "$bin" collect --matrix "$work/big" "$run" > /dev/null
end=$(secs)
python3 -c "print(f'collect of 10,000 synthetic finished tasks: {float($end) - float($start):.2f} s (target <= 30 s)')"
"$bin" status --matrix "$work/big" 2>/dev/null | head -1 || "$bin" status "$work/big" | head -1
