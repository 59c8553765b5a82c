#!/usr/bin/env bash
# Test fixture: real OpenSSH sshd "build hosts" on 127.0.0.1 for gridrun's integration tests.
#
#   sshd.sh start     DIR OWNER_PID [N]  start N (default 2) sshd instances h1..hN; prints "NAME PORT" lines
#   sshd.sh blackhole DIR OWNER_PID      start a TCP listener that never speaks (bh1, bh2, ...); prints "NAME PORT"
#   sshd.sh kill      DIR NAME           SIGKILL one instance: listener, per-connection sshds, session processes
#   sshd.sh revive    DIR NAME           restart a killed hN on its old port (same host key); prints "NAME PORT"
#   sshd.sh stop      DIR                kill everything of DIR (instances, sessions, blackholes, watchdogs)
#
# Everything lives under DIR: id_ed25519 (client key), authorized_keys, known_hosts, ssh_config,
# hosts.env (KEY=VALUE: SSH_CONFIG, IDENTITY, KNOWN_HOSTS, H1_PORT, BH1_PORT, ...), and one folder per
# instance (sshd_config, host key, sshd.pid, sshd.log). Use `ssh -F DIR/ssh_config h1 CMD`.
# Session processes carry GRIDRUN_TEST_SSHD_DIR=DIR and GRIDRUN_TEST_SSHD_HOST=DIR/NAME in their
# environment (sshd's SetEnv), sshd listeners are found by the -f DIR/NAME/sshd_config in their command
# line; kill/stop SIGKILL these, their sshd ancestors and all descendants, so processes a session left
# behind (`sleep 1000 &`, even setsid/nohup) go too. A watchdog (setsid, polls every 200 ms) does
# `stop DIR` once OWNER_PID is gone (exit, panic, SIGKILL) or DIR is deleted.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
SSHD=${GRIDRUN_SSHD:-/usr/sbin/sshd}
MARK_DIR=GRIDRUN_TEST_SSHD_DIR
MARK_HOST=GRIDRUN_TEST_SSHD_HOST

die() {
  echo "sshd.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,8p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# "STATE STARTTIME" of a pid, from /proc/PID/stat; fails if there is no such process.
proc_stat() {
  local s f
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$s" ] || return 1
  read -ra f <<<"${s##*) }"
  echo "${f[0]} ${f[19]}"
}

# True while PID exists and is not a zombie; with a second argument, also its start time must match
# (guards against PID reuse).
alive() {
  local st
  st=$(proc_stat "$1") || return 1
  case ${st%% *} in Z | X | x) return 1 ;; esac
  [ $# -lt 2 ] || [ "${st#* }" = "$2" ]
}

# Canonical absolute path of DIR (it need not exist). Refuses characters that sshd_config,
# ssh_config or %-token expansion would mangle.
canon_dir() {
  local d
  d=$(readlink -m -- "$1")
  [[ $d =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "DIR must be a path of [A-Za-z0-9._/+-] only: $d"
  [ "$d" != / ] || die "DIR must not be /"
  echo "$d"
}

check_name() {
  [[ $1 =~ ^(h|bh)[0-9]+$ ]] || die "bad instance name: $1"
}

pause() { sleep "$1"; }

# Pids to kill for one instance or a whole DIR: live processes whose environment holds exactly the
# record $1 (e.g. GRIDRUN_TEST_SSHD_DIR=/tmp/x: session processes, blackholes), processes whose
# command line matches the extended regex $2 (sshd listeners: sshd overwrites its environ area with its
# process title, so they cannot be found by environment), the sshd ancestors of the former
# (per-connection sshds), and all descendants of all of these. Never this script or its parent.
collect() {
  local seeds
  seeds=$( {
    grep -lzxF -- "$1" /proc/[0-9]*/environ 2>/dev/null || true
    grep -lzE -- "$2" /proc/[0-9]*/cmdline 2>/dev/null || true
  } | cut -d/ -f3)
  [ -n "$seeds" ] || return 0
  ps -e -o pid=,ppid=,stat=,comm= | awk -v seeds="$seeds" -v self="$$" -v parent="$PPID" '
    BEGIN { n = split(seeds, s, "\n"); for (i = 1; i <= n; i++) if (s[i] != "") want[s[i]] = 1 }
    { pp[$1] = $2; st[$1] = $3; comm[$1] = $4; ord[++m] = $1 }
    END {
      for (p in want) for (q = pp[p]; (q in comm) && comm[q] ~ /^sshd/ && !(q in want); q = pp[q]) up[q] = 1
      for (q in up) want[q] = 1
      do { ch = 0; for (i = 1; i <= m; i++) { p = ord[i]; if (!(p in want) && (pp[p] in want)) { want[p] = 1; ch = 1 } } } while (ch)
      for (p in want) if ((p in st) && st[p] !~ /^Z/ && p != self && p != parent) print p
    }'
}

# Extended regex matching the sshd_config path of one instance ($2) or of any instance of DIR.
cfg_regex() { # DIR [NAME]
  local esc
  esc=$(printf '%s' "$1" | sed 's/[.+]/\\&/g')
  echo "(^|[^A-Za-z0-9._/+-])$esc/${2:-h[0-9]+}/sshd_config"
}

# SIGKILL everything collect() finds for record $1, repeatedly, until nothing is left.
kill_record() { # RECORD REGEX
  local pids i
  for i in $(seq 1 50); do
    pids=$(collect "$1" "$2")
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086 # word splitting of the pid list is intended
    kill -KILL $pids 2>/dev/null || true
    [ "$i" -eq 1 ] || pause 0.02
  done
  echo "sshd.sh: processes of $1 survived SIGKILL: $(collect "$1" "$2" | tr '\n' ' ')" >&2
  return 1
}

# Pids of the watchdogs of DIR (argv holds "_watchdog" and DIR), except this process.
watchdogs_of() {
  local f pid
  for f in $(grep -lzxF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" != "$$" ] || continue
    grep -qzxF _watchdog "$f" 2>/dev/null && alive "$pid" && echo "$pid"
  done
  return 0
}

stop_dir() { # DIR [keep_watchdogs]
  local dir=$1 rc=0 w
  if [ "${2:-}" != keep_watchdogs ]; then
    for w in $(watchdogs_of "$dir"); do kill -KILL "$w" 2>/dev/null || true; done
  fi
  kill_record "$MARK_DIR=$dir" "$(cfg_regex "$dir")" || rc=1
  [ ! -d "$dir" ] || : >"$dir/stopped"
  return "$rc"
}

# Common files of DIR: client key, authorized_keys, hosts.env header, empty ssh_config/known_hosts.
init_dir() {
  local dir=$1
  if [ ! -s "$dir/id_ed25519" ]; then
    ssh-keygen -q -t ed25519 -N '' -C gridrun-test-client -f "$dir/id_ed25519" </dev/null >/dev/null
  fi
  [ -s "$dir/authorized_keys" ] || cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  [ -e "$dir/known_hosts" ] || : >"$dir/known_hosts"
  [ -e "$dir/ssh_config" ] || : >"$dir/ssh_config"
  if [ ! -e "$dir/hosts.env" ]; then
    {
      echo "SSHD_DIR=$dir"
      echo "SSH_CONFIG=$dir/ssh_config"
      echo "IDENTITY=$dir/id_ed25519"
      echo "KNOWN_HOSTS=$dir/known_hosts"
    } >"$dir/hosts.env"
  fi
}

ssh_config_block() { # DIR NAME PORT
  cat <<EOF
Host $2
  HostName 127.0.0.1
  Port $3
  User root
  IdentityFile $1/id_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  PreferredAuthentications publickey
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  StrictHostKeyChecking no
  UserKnownHostsFile $1/known_hosts
  GlobalKnownHostsFile /dev/null
  UpdateHostKeys no
  CheckHostIP no
  AddressFamily inet
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR

EOF
}

# Start (or watchdog-check) the watchdog of DIR for OWNER.
ensure_watchdog() { # DIR OWNER OWNER_START
  local dir=$1 owner=$2 ostart=$3 pidf pid i
  pidf=$dir/watchdog.$owner.pid
  if [ -s "$pidf" ]; then
    pid=$(cat "$pidf")
    if alive "$pid" && grep -qzxF _watchdog "/proc/$pid/cmdline" 2>/dev/null; then return 0; fi
  fi
  rm -f "$pidf"
  setsid env -u "$MARK_DIR" -u "$MARK_HOST" "$BASH" "$SELF" _watchdog "$dir" "$owner" "$ostart" \
    </dev/null >>"$dir/watchdog.log" 2>&1 &
  for i in $(seq 1 250); do
    [ -s "$pidf" ] && return 0
    pause 0.01
  done
  die "watchdog did not start (see $dir/watchdog.log)"
}

watchdog() { # DIR OWNER OWNER_START
  local dir=$1 owner=$2 ostart=$3
  echo "$$" >"$dir/watchdog.$owner.pid"
  echo "$(date '+%T.%N') watchdog $$ watching owner $owner"
  while alive "$owner" "$ostart" && [ -d "$dir" ]; do pause 0.2; done
  echo "$(date '+%T.%N') owner $owner gone or DIR removed: stopping $dir"
  stop_dir "$dir" keep_watchdogs || true
  # A start/blackhole that was still running when the owner died may have launched one more process.
  pause 0.5
  stop_dir "$dir" keep_watchdogs || true
  # Other watchdogs of the same DIR (other owners) are left alone: nothing is left for them to do,
  # and each exits once its own owner goes.
  echo "$(date '+%T.%N') watchdog $$ done"
}

# Pick a port below the kernel's ephemeral range, so it does not race with outgoing connections.
pick_port() {
  local lo hi
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  hi=$((lo - 1))
  [ "$hi" -gt 11000 ] || hi=65000
  echo $((((RANDOM << 15) | RANDOM) % (hi - 10000) + 10000))
}

write_sshd_config() { # DIR NAME PORT
  local dir=$1 name=$2 port=$3 inst=$1/$2 shlvl=" SHLVL=1"
  # Debian's bash sources ~/.bashrc for `ssh host cmd` when SSH_CLIENT is set and SHLVL is unset; SHLVL=1
  # stops that, so remote commands do not depend on (nor pay for) this machine's root dotfiles.
  [ "${GRIDRUN_SSHD_SOURCE_BASHRC:-0}" = 0 ] || shlvl=""
  cat >"$inst/sshd_config" <<EOF
# gridrun test sshd $name (generated by sshd.sh)
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $inst/ssh_host_ed25519_key
PidFile $inst/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AuthorizedPrincipalsFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserRC no
PermitUserEnvironment no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
MaxSessions 64
MaxStartups 128
MaxAuthTries 10
LoginGraceTime 30
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
SetEnv $MARK_DIR=$dir $MARK_HOST=$inst$shlvl${GRIDRUN_SSHD_SETENV:+ $GRIDRUN_SSHD_SETENV}
LogLevel VERBOSE
EOF
  # OpenSSH >= 9.8 penalises source addresses whose connections crash or fail auth; on loopback that
  # would throttle the tests themselves (kill/revive, blackholes).
  if "$SSHD" -t -f "$inst/sshd_config" -o PerSourcePenalties=no >/dev/null 2>&1; then
    echo "PerSourcePenalties no" >>"$inst/sshd_config"
  fi
}

# Launch sshd for DIR/NAME with its config; wait until it listens. Returns 3 if the port was taken.
launch_sshd() { # DIR NAME
  local dir=$1 inst=$1/$2 pid i
  rm -f "$inst/sshd.pid"
  : >"$inst/stderr.log"
  env "$MARK_DIR=$dir" "$MARK_HOST=$inst" setsid "$SSHD" -D -f "$inst/sshd_config" -E "$inst/sshd.log" \
    </dev/null >/dev/null 2>>"$inst/stderr.log" &
  pid=$!
  echo "$pid" >"$inst/launcher.pid"
  # sshd writes its PidFile only once its listening socket is bound.
  for i in $(seq 1 1000); do
    [ -s "$inst/sshd.pid" ] && return 0
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      if grep -qE 'Cannot bind any address|Address already in use' "$inst/sshd.log" "$inst/stderr.log" 2>/dev/null; then
        return 3
      fi
      echo "sshd.sh: sshd $2 exited at startup:" >&2
      tail -n 5 "$inst/sshd.log" "$inst/stderr.log" >&2 || true
      return 1
    fi
    pause 0.005
  done
  echo "sshd.sh: sshd $2 not listening after 10 s" >&2
  return 1
}

start_instance() { # DIR NAME  -> prints the port
  local dir=$1 name=$2 inst=$1/$2 port rc attempt
  mkdir -p "$inst"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$inst/ssh_host_ed25519_key" </dev/null >/dev/null
  for attempt in $(seq 1 30); do
    port=$(pick_port)
    write_sshd_config "$dir" "$name" "$port"
    rc=0
    launch_sshd "$dir" "$name" || rc=$?
    if [ "$rc" -eq 0 ]; then
      echo "$port"
      return 0
    fi
    [ "$rc" -eq 3 ] || return 1
    echo "$(date '+%T') $name: port $port taken (attempt $attempt)" >>"$inst/ports.log"
  done
  echo "sshd.sh: no free port for $name after 30 attempts" >&2
  return 1
}

cmd_start() { # DIR OWNER [N]
  if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
  local owner=$2 n=${3:-2} dir ostart i port name
  [[ $owner =~ ^[0-9]+$ ]] || die "OWNER_PID must be a pid: $owner"
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 64 ]; then die "N must be 1..64: $n"; fi
  alive "$owner" || die "owner $owner is not running"
  ostart=$(proc_stat "$owner") && ostart=${ostart#* }
  [ -x "$SSHD" ] || die "$SSHD not found: apt-get install openssh-server"
  command -v ssh-keygen >/dev/null || die "ssh-keygen not found: apt-get install openssh-client"
  dir=$(canon_dir "$1")
  mkdir -p "$dir"
  [ ! -e "$dir/h1" ] || die "$dir already holds instances; use a fresh DIR"
  if [ "$(id -u)" -eq 0 ]; then
    # Privilege separation directory (root sshd refuses to start without it); systemd's unit
    # normally creates it.
    [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
    if getent shadow root 2>/dev/null | grep -q '^root:!'; then
      echo "sshd.sh: warning: root's password is locked ('!' in /etc/shadow); with UsePAM no sshd refuses root logins (see README)" >&2
    fi
  fi

  # If anything below fails, take down whatever was started.
  trap 'rc=$?; if [ "$rc" -ne 0 ]; then stop_dir "'"$dir"'" >/dev/null 2>&1 || true; fi' EXIT

  init_dir "$dir"
  ensure_watchdog "$dir" "$owner" "$ostart"

  local out=() cfg="" env="" kh=""
  for i in $(seq 1 "$n"); do
    name=h$i
    port=$(start_instance "$dir" "$name")
    out+=("$name $port")
    cfg+=$(ssh_config_block "$dir" "$name" "$port")$'\n\n'
    env+="H${i}_PORT=$port"$'\n'
    kh+="[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/$name/ssh_host_ed25519_key.pub")"$'\n'
  done
  printf '%s' "$kh" >>"$dir/known_hosts"
  printf '%s' "$cfg" >>"$dir/ssh_config"
  printf '%s' "$env" >>"$dir/hosts.env"
  # The watchdog may have swept DIR while instances were still being launched.
  alive "$owner" "$ostart" || die "owner $owner died during start"
  trap - EXIT
  printf '%s\n' "${out[@]}"
}

cmd_blackhole() { # DIR OWNER
  [ $# -eq 2 ] || usage
  local owner=$2 dir ostart k name inst pid i port py
  [[ $owner =~ ^[0-9]+$ ]] || die "OWNER_PID must be a pid: $owner"
  alive "$owner" || die "owner $owner is not running"
  ostart=$(proc_stat "$owner") && ostart=${ostart#* }
  py=$(command -v /usr/bin/python3 python3 | head -n 1) || die "python3 not found"
  dir=$(canon_dir "$1")
  mkdir -p "$dir"
  init_dir "$dir"
  ensure_watchdog "$dir" "$owner" "$ostart"
  k=1
  while ! mkdir "$dir/bh$k" 2>/dev/null; do k=$((k + 1)); done
  name=bh$k
  inst=$dir/$name
  # Accepts connections, keeps them open, never reads nor writes.
  env "$MARK_DIR=$dir" "$MARK_HOST=$inst" setsid "$py" -c '
import socket, sys, os
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(128)
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(tmp, sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' "$inst/port" </dev/null >/dev/null 2>>"$inst/stderr.log" &
  pid=$!
  echo "$pid" >"$inst/blackhole.pid"
  for i in $(seq 1 500); do
    [ -s "$inst/port" ] && break
    alive "$pid" || { cat "$inst/stderr.log" >&2; kill_record "$MARK_HOST=$inst" 'x^' || true; die "blackhole failed"; }
    pause 0.01
  done
  [ -s "$inst/port" ] || { kill_record "$MARK_HOST=$inst" 'x^' || true; die "blackhole not listening after 5 s"; }
  port=$(cat "$inst/port")
  if ! alive "$owner" "$ostart"; then
    kill_record "$MARK_HOST=$inst" 'x^' || true
    die "owner $owner died during blackhole"
  fi
  { ssh_config_block "$dir" "$name" "$port"; } >>"$dir/ssh_config"
  echo "BH${k}_PORT=$port" >>"$dir/hosts.env"
  echo "$name $port"
}

cmd_kill() { # DIR NAME
  [ $# -eq 2 ] || usage
  local dir
  dir=$(canon_dir "$1")
  check_name "$2"
  kill_record "$MARK_HOST=$dir/$2" "$(cfg_regex "$dir" "$2")"
  [ ! -d "$dir/$2" ] || : >"$dir/$2/killed"
}

cmd_revive() { # DIR NAME
  [ $# -eq 2 ] || usage
  local dir inst port
  dir=$(canon_dir "$1")
  [[ $2 =~ ^h[0-9]+$ ]] || die "only hN instances can be revived: $2"
  inst=$dir/$2
  [ -f "$inst/sshd_config" ] || die "no instance $2 in $dir"
  [ -n "$(watchdogs_of "$dir")" ] || die "no watchdog for $dir (owner gone or stopped); start a new DIR"
  [ -z "$(collect "$MARK_HOST=$inst" "$(cfg_regex "$dir" "$2")")" ] || die "$2 is still running"
  port=$(awk '$1 == "Port" { print $2 }' "$inst/sshd_config")
  launch_sshd "$dir" "$2" || die "could not restart $2 on port $port"
  rm -f "$inst/killed"
  echo "$2 $port"
}

cmd_stop() { # DIR
  [ $# -eq 1 ] || usage
  local dir
  dir=$(canon_dir "$1")
  stop_dir "$dir"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
  start) cmd_start "$@" ;;
  blackhole) cmd_blackhole "$@" ;;
  kill) cmd_kill "$@" ;;
  revive) cmd_revive "$@" ;;
  stop) cmd_stop "$@" ;;
  _watchdog) watchdog "$@" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
