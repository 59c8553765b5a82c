#!/usr/bin/env bash
# Self-test of cluster.sh against the real Slurm daemons (root, ~40-70 s):
#   tests/engines/slurm/selftest.sh [--bench]
# --bench adds `sbatch --array=0-99 --wait --wrap true` (~75 s).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CL="$HERE/cluster.sh"
DIR=$(mktemp -d /tmp/gridrun-slurm-selftest.XXXXXX)
WORK="$DIR/work"; mkdir -p "$WORK"; cd "$WORK" || exit 1
pass=0; fail=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
ko() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
state() { squeue -h -t all -j "$1" -o '%T' 2>/dev/null | head -n1; }
wait_state() { # wait_state JOB REGEX TIMEOUT_S
    local end=$(( $(date +%s) + $3 ))
    until [[ "$(state "$1")" =~ ^($2)$ ]]; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}
trap '"$CL" stop "$DIR"; rm -rf "$DIR"' EXIT

t0=$(date +%s%N)
eval "$("$CL" start "$DIR" $$)" || { echo "start failed"; exit 1; }
echo "# start: $(ms "$t0") ms"
host=$(hostname -s)

# 1. one job
j=$(sbatch --parsable --mem=50M --wrap hostname)
check "hostname job COMPLETED" wait_state "$j" COMPLETED 20
check "hostname job output" grep -qx "$host" "slurm-$j.out"

# 2. array with throttle
a=$(sbatch --parsable --array=0-9%2 --cpus-per-task=1 --mem=100M --time=1 --wrap 'echo $SLURM_ARRAY_TASK_ID')
check "array 0-9%2 all COMPLETED" wait_state "${a}_9" COMPLETED 60
sleep 0.5
check "array: 10 COMPLETED tasks" test "$(squeue -h -t all -j "$a" -o %T | grep -c COMPLETED)" = 10
check "array outputs" test "$(cat slurm-"${a}"_*.out | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 8 9 "

# 4. over --mem
j=$(sbatch --parsable --mem=50M --wrap "perl -e '\$x = \"x\" x (300*1024*1024); sleep 5'")
check "300 MB in --mem=50M -> OUT_OF_MEMORY" wait_state "$j" OUT_OF_MEMORY 30

# 5. scancel a running array task; 3. TIMEOUT via TimeLimit=0 on a running task
a=$(sbatch --parsable --array=0-4 --mem=50M --time=5 --no-requeue --wrap 'sleep 300')
wait_state "${a}_0" RUNNING 20; wait_state "${a}_1" RUNNING 20
scancel "${a}_0"
check "scancel running task -> CANCELLED" wait_state "${a}_0" CANCELLED 15
t0=$(date +%s%N)
scontrol update JobId="${a}_1" TimeLimit=0
check "TimeLimit=0 on running task -> TIMEOUT" wait_state "${a}_1" TIMEOUT 45
echo "# TIMEOUT after $(ms "$t0") ms"

# 6. drain with tasks pending, then resume; NODE_FAIL via down
wait_state "${a}_2" RUNNING 20; wait_state "${a}_3" RUNNING 20
"$CL" drain "$DIR" "selftest"
check "node draining/drained" bash -c "sinfo -h -N -o %t | grep -qE '^drain(ing|ed)?$|^drng$|^drain$'"
sleep 2
check "pending task stays PENDING while drained" wait_state "${a}_4" PENDING 1
"$CL" down "$DIR" "selftest"
check "down node: running --no-requeue task -> NODE_FAIL" wait_state "${a}_2" NODE_FAIL 15
"$CL" resume "$DIR"
check "after resume pending task runs" wait_state "${a}_4" RUNNING 15
scancel "$a"

# 8. sbatch --wait exit codes
sbatch --wait --mem=50M --wrap 'exit 3' >/dev/null; rc=$?
check "sbatch --wait exit 3 -> 3 (got $rc)" test "$rc" = 3
sbatch --wait --mem=50M --array=0-2 --wrap 'exit $SLURM_ARRAY_TASK_ID' >/dev/null; rc=$?
check "sbatch --wait array max exit -> 2 (got $rc)" test "$rc" = 2

# final states are also in the jobcomp text file
check "jobcomp.txt has OUT_OF_MEMORY/TIMEOUT/NODE_FAIL/CANCELLED" \
    bash -c "for s in OUT_OF_MEMORY TIMEOUT NODE_FAIL CANCELLED; do grep -q \"JobState=\$s \" '$DIR/jobcomp.txt' || exit 1; done"

if [ "${1:-}" = --bench ]; then
    t0=$(date +%s%N)
    a=$(sbatch --parsable --array=0-99 --mem=50M --wrap true)
    until [ -z "$(squeue -h -j "$a" 2>/dev/null)" ]; do sleep 0.1; done
    echo "# 100-task array of 'true', polled by squeue: $(ms "$t0") ms"
    t0=$(date +%s%N)
    sbatch --array=0-99 --mem=50M --wait --wrap true >/dev/null
    echo "# 100-task array of 'true', sbatch --wait: $(ms "$t0") ms"
fi

t0=$(date +%s%N)
"$CL" stop "$DIR"
echo "# stop: $(ms "$t0") ms"
check "no daemon left" bash -c "! grep -lzxF 'GRIDRUN_SLURM_DIR=$DIR' /proc/[0-9]*/environ 2>/dev/null | grep -q ."
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
