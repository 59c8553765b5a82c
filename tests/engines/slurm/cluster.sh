#!/usr/bin/env bash
# Throwaway single-node Slurm cluster (slurmctld + slurmd + munged) for
# gridrun's integration tests. Everything lives in DIR, listens on 127.0.0.1
# only, and dies with OWNER_PID. See README.md next to this file.
#
#   cluster.sh start  DIR OWNER_PID   start; prints `export SLURM_CONF=...`
#   cluster.sh stop   DIR             stop everything (idempotent)
#   cluster.sh drain  DIR [REASON]    node -> DRAIN (running tasks go on, pending wait)
#   cluster.sh down   DIR [REASON]    node -> DOWN  (running tasks end as NODE_FAIL)
#   cluster.sh resume DIR             node -> back to service (IDLE/ALLOCATED)
#   cluster.sh status DIR             sinfo + squeue
#
# Needs root and Debian 12's packages: slurmctld slurmd slurm-client munge.
set -uo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
MARK=GRIDRUN_SLURM_DIR          # env marker put on every daemon we start
START_TIMEOUT=${GRIDRUN_SLURM_START_TIMEOUT:-30}   # seconds

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { [ -n "${GRIDRUN_SLURM_VERBOSE:-}" ] && echo "cluster.sh: $*" >&2; return 0; }

abs_dir() { # abs_dir DIR [create]
    [ -n "${1:-}" ] || die "missing DIR"
    [ "${2:-}" = create ] && mkdir -p "$1"
    [ -d "$1" ] || return 1
    (cd "$1" && pwd -P)
}

# alive PID: process exists and is not a zombie.
alive() {
    local st
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# PIDs whose initial environment carries our marker for DIR.
marked_pids() {
    local dir=$1 f p
    for f in $(grep -lzxF "$MARK=$dir" /proc/[0-9]*/environ 2>/dev/null); do
        p=${f#/proc/}; p=${p%/environ}
        [ "$p" = $$ ] || [ "$p" = "${BASHPID:-$$}" ] || echo "$p"
    done
}

free_port() { # a TCP port nobody listens on (loopback or any)
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        [ "$p" = "${1:-}" ] && continue
        if [ -z "$(ss -Htln "( sport = :$p )" 2>/dev/null)" ]; then
            echo "$p"; return 0
        fi
    done
    return 1
}

slurm_env() { export SLURM_CONF="$1/slurm.conf"; }

node_name() { sed -n 's/^NodeName=\([^ ]*\) .*/\1/p' "$1/slurm.conf" 2>/dev/null | head -n1; }

# ---------------------------------------------------------------- cgroups
# Slurm's cgroup/v1 plugin puts jobs under /sys/fs/cgroup/<controller>/slurm_<NodeName>/.
# NodeName is unique per live cluster (gr<SlurmdPort>), so concurrent clusters
# never share a cgroup; stop() kills what is left in ours and removes it.
our_cgroups() {
    local node d
    node=$(node_name "$1") || return 0
    [ -n "$node" ] || return 0
    for d in /sys/fs/cgroup/*/"slurm_$node" /sys/fs/cgroup/"slurm_$node"; do
        [ -d "$d" ] && echo "$d"
    done
    return 0
}

kill_cgroups() {
    local d f p
    for d in $(our_cgroups "$1"); do
        for f in $(find "$d" -name cgroup.procs 2>/dev/null); do
            while read -r p; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done <"$f"
        done
    done
}

rm_cgroups() {
    local d
    for d in $(our_cgroups "$1"); do
        # depth first; rmdir only succeeds on empty cgroups
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    return 0
}

# ---------------------------------------------------------------- stop
do_stop() {
    local dir p pids i
    dir=$(abs_dir "${1:-}") || return 0          # nothing there: nothing to stop
    [ -f "$dir/.gridrun-slurm" ] || { log "no cluster in $dir"; return 0; }

    # the watchdog (unless we are it); pid files are only trusted after a
    # look at the command line, in case the pid was reused.
    p=$(cat "$dir/run/watchdog.pid" 2>/dev/null)
    if [ -n "$p" ] && [ "$p" != $$ ] && [ "$p" != "${GRIDRUN_WATCHDOG_PID:-}" ] &&
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "_watchdog $dir "; then
        kill -KILL "$p" 2>/dev/null
    fi

    # Daemons carry $MARK=$dir in their environment (so do the slurmstepds they
    # spawn): SIGTERM daemons, SIGKILL step daemons and the jobs' processes.
    pids=$(marked_pids "$dir" | grep -vxF "${GRIDRUN_WATCHDOG_PID:-x}")
    for p in $pids; do
        case $(cat "/proc/$p/comm" 2>/dev/null) in
            slurmstepd) kill -KILL "$p" 2>/dev/null ;;
            *) kill -TERM "$p" 2>/dev/null ;;
        esac
    done
    kill_cgroups "$dir"

    # wait up to ~3 s, then SIGKILL whatever is left
    for i in $(seq 1 100); do
        pids=$(marked_pids "$dir" | grep -vxF "${GRIDRUN_WATCHDOG_PID:-x}")
        local any=
        for p in $pids; do alive "$p" && any=1; done
        [ -z "$any" ] && break
        sleep 0.03
    done
    for p in $(marked_pids "$dir" | grep -vxF "${GRIDRUN_WATCHDOG_PID:-x}"); do
        kill -KILL "$p" 2>/dev/null
    done
    kill_cgroups "$dir"
    sleep 0.05
    rm_cgroups "$dir"
    rm -f "$dir"/run/*.pid "$dir/munge/munge.sock" "$dir/munge/munge.sock.lock" "$dir/env"
    log "stopped $dir"
    return 0
}

# ---------------------------------------------------------------- watchdog
do_watchdog() { # runs detached (setsid), found by run/watchdog.pid
    local dir=$1 owner=$2
    export GRIDRUN_WATCHDOG_PID=$$
    echo $$ >"$dir/run/watchdog.pid"
    while alive "$owner"; do sleep 0.2; done
    do_stop "$dir" >>"$dir/log/watchdog.log" 2>&1
    rm -f "$dir/run/watchdog.pid"
}

# ---------------------------------------------------------------- start
write_conf() {
    local dir=$1 host node cpus_line mem real ctld_port slurmd_port
    host=$(hostname -s 2>/dev/null || uname -n); host=${host%%.*}
    # Topology as slurmd detects it (a mismatch makes the node INVALID).
    cpus_line=$(slurmd -C 2>/dev/null | head -n1) || true
    [ -n "$cpus_line" ] || die "slurmd -C failed"
    mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$cpus_line")
    real=$((mem - mem / 20)); [ "$real" -lt 1 ] && real=1      # 95 %
    cpus_line=$(sed -E "s/^NodeName=[^ ]+ //; s/RealMemory=[0-9]+/RealMemory=$real/" <<<"$cpus_line")
    ctld_port=$(free_port) || die "no free port"
    slurmd_port=$(free_port "$ctld_port") || die "no free port"
    # A NodeName of our own (the host is reached as NodeHostname/NodeAddr):
    # slurmd names its cgroup tree slurm_<NodeName>, so this keeps clusters apart.
    node=gr$slurmd_port
    local sched_params=${GRIDRUN_SLURM_SCHEDULER_PARAMETERS-batch_sched_delay=0}

    cat >"$dir/slurm.conf" <<EOF
# generated by tests/engines/slurm/cluster.sh -- one node, loopback only
ClusterName=gridrun
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SrunPortRange=$((slurmd_port + 1))-$((slurmd_port + 20))
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
TmpFS=$dir/tmp
MpiDefault=none
MailProg=/bin/true
# an admin DOWN (cluster.sh down) stays DOWN until cluster.sh resume
ReturnToService=1
MaxArraySize=1001
MaxJobCount=20000
# finished jobs stay visible to squeue/scontrol for 10 min
MinJobAge=600
# quick kills: SIGTERM -> SIGKILL after 2 s on timeout/cancel
KillWait=2
OverTimeLimit=0
SlurmdTimeout=30
InactiveLimit=0
# resources: cores + memory are consumable, --mem is enforced by cgroups
SchedulerType=sched/backfill
# Default batch_sched_delay=3 lets a freed core sit idle up to 3 s before the
# next pending (array) task is started: ~1.4 s/task on 2 cores. 0 = schedule on
# the controller's next 1 s background tick.
${sched_params:+SchedulerParameters=$sched_params}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without this a job that gives no --mem is allotted the whole node's memory
DefMemPerCPU=1024
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
# sstat (MaxRSS of running steps) works; nothing is kept after the job ends
JobAcctGatherType=jobacct_gather/linux
# no slurmdbd: finished jobs are appended to a text file; read with sacct -c
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
${GRIDRUN_SLURM_EXTRA_CONF:-}
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$host $cpus_line State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

    cat >"$dir/cgroup.conf" <<EOF
CgroupPlugin=${GRIDRUN_SLURM_CGROUP_PLUGIN:-autodetect}
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainDevices=no
ConstrainRAMSpace=yes
AllowedRAMSpace=100
ConstrainSwapSpace=no
EOF
}

wait_for() { # wait_for SECONDS CMD...  (polls every 20 ms)
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    until "$@"; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

ctld_listening() { [ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]; }

node_idle() { sinfo -h -N -o '%t' 2>/dev/null | grep -qx idle; }

fail_start() { # the EXIT trap set in do_start stops what was started
    local dir=$1; shift
    echo "cluster.sh: start failed: $*" >&2
    for f in munge/munged.log log/slurmctld.out log/slurmctld.log log/slurmd.out log/slurmd.log; do
        [ -s "$dir/$f" ] && { echo "--- $f" >&2; tail -n 15 "$dir/$f" >&2; }
    done
    exit 1
}

do_start() {
    local dir owner t0
    t0=$(date +%s%N)
    [ "$(id -u)" = 0 ] || die "must run as root"
    for b in munged mungekey slurmctld slurmd sinfo scontrol ss; do
        command -v "$b" >/dev/null || die "$b not found (apt-get install slurmctld slurmd slurm-client munge)"
    done
    dir=$(abs_dir "${1:-}" create) || die "cannot create DIR"
    owner=${2:-}
    [[ "$owner" =~ ^[0-9]+$ ]] && alive "$owner" || die "OWNER_PID '$owner' is not a live process"

    do_stop "$dir"                       # leftovers of an earlier run in DIR
    touch "$dir/.gridrun-slurm"
    # any failure from here on (die, fail_start, a signal) stops what was started
    STARTING_DIR=$dir
    trap 'do_stop "$STARTING_DIR"' EXIT
    trap 'exit 130' INT TERM HUP
    # munged insists that every directory above its socket is world-executable
    chmod 755 "$dir"
    rm -rf "$dir/env" "$dir/jobcomp.txt" "$dir/state" "$dir/spool" "$dir/log"
    mkdir -p "$dir"/{munge,state,spool,log,run,tmp}
    chmod 755 "$dir/munge"

    slurm_env "$dir"

    # watchdog first, so a half-done start is cleaned up too
    setsid bash "$SELF" _watchdog "$dir" "$owner" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/run/watchdog.pid"
    disown $! 2>/dev/null
    write_conf "$dir"

    rm -f "$dir/munge/munge.key"
    mungekey --create --keyfile="$dir/munge/munge.key" --bits=1024 >/dev/null 2>&1 \
        || fail_start "$dir" "mungekey"
    env "$MARK=$dir" munged --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
        --log-file="$dir/munge/munged.log" --pid-file="$dir/run/munged.pid" \
        --seed-file="$dir/munge/munged.seed" </dev/null >/dev/null 2>&1 \
        || fail_start "$dir" "munged"

    # -c: no state to recover; -i: ignore state errors. Both fork into the background.
    env "$MARK=$dir" slurmctld -c -i -f "$dir/slurm.conf" </dev/null >>"$dir/log/slurmctld.out" 2>&1 \
        || fail_start "$dir" "slurmctld"
    # slurmd registers at once and, if slurmctld is not listening yet, retries
    # only a second later: start it when the controller's port is open.
    local port; port=$(sed -n 's/^SlurmctldPort=//p' "$dir/slurm.conf")
    wait_for 10 ctld_listening "$port" || fail_start "$dir" "slurmctld is not listening on $port"
    env "$MARK=$dir" slurmd -f "$dir/slurm.conf" </dev/null >>"$dir/log/slurmd.out" 2>&1 \
        || fail_start "$dir" "slurmd"

    log "daemons forked after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    wait_for "$START_TIMEOUT" node_idle || fail_start "$dir" "node not idle after ${START_TIMEOUT}s: $(sinfo -h -N -o '%t %E' 2>&1)"

    {
        echo "NODE=$(node_name "$dir")"
        echo "MAX_ARRAY_SIZE=$(sed -n 's/^MaxArraySize=//p' "$dir/slurm.conf")"
        echo "SLURMCTLD_PORT=$(sed -n 's/^SlurmctldPort=//p' "$dir/slurm.conf")"
        echo "SLURMD_PORT=$(sed -n 's/^SlurmdPort=//p' "$dir/slurm.conf")"
        echo "JOBCOMP=$dir/jobcomp.txt"
    } >"$dir/info"
    printf 'export SLURM_CONF=%s\n' "$dir/slurm.conf" >"$dir/env"
    trap - EXIT INT TERM HUP
    log "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    cat "$dir/env"
}

# ---------------------------------------------------------------- node state
do_node() { # do_node DIR STATE [REASON]
    local dir node
    dir=$(abs_dir "${1:-}") || die "no such DIR"
    slurm_env "$dir"
    node=$(node_name "$dir")
    case $2 in
        RESUME) scontrol update NodeName="$node" State=RESUME ;;
        *) scontrol update NodeName="$node" State="$2" Reason="${3:-gridrun test}" ;;
    esac
}

cmd=${1:-}; shift || true
case $cmd in
    start) do_start "$@" ;;
    stop) [ -n "${1:-}" ] || die "usage: $0 stop DIR"; do_stop "$@" ;;
    drain) do_node "${1:-}" DRAIN "${2:-}" ;;
    down) do_node "${1:-}" DOWN "${2:-}" ;;
    resume) do_node "${1:-}" RESUME ;;
    status)
        dir=$(abs_dir "${1:-}") || die "no such DIR"; slurm_env "$dir"
        sinfo -N -o '%N %t %c %m %E'; squeue -o '%i %t %M %R' ;;
    _watchdog) do_watchdog "$@" ;;
    *) echo "usage: $0 start DIR OWNER_PID | stop DIR | drain DIR [REASON] | down DIR [REASON] | resume DIR | status DIR" >&2
       exit 2 ;;
esac
