#!/usr/bin/env bash
# Self-test of sshd.sh against real OpenSSH: bash tests/engines/ssh/selftest.sh
# Needs root, openssh-server, openssh-client, python3. Prints one line per check and
# "N passed, N failed" at the end; exits non-zero if any check failed.
set -euo pipefail

S=$(readlink -f "$(dirname "${BASH_SOURCE[0]}")")/sshd.sh
TMP=$(mktemp -d /tmp/gridrun-sshd-selftest.XXXXXX)
pass=0
fail=0
dirs=()

ok() {
  pass=$((pass + 1))
  echo "ok   $*"
}
ko() {
  fail=$((fail + 1))
  echo "FAIL $*"
}
check() { # DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@"; then ok "$d"; else ko "$d"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
cleanup() {
  local d
  for d in "${dirs[@]}"; do "$S" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# Processes of DIR: environment marker or sshd command line.
procs_of() {
  {
    grep -lzxF "GRIDRUN_TEST_SSHD_DIR=$1" /proc/[0-9]*/environ 2>/dev/null || true
    grep -lzF "$1/h" /proc/[0-9]*/cmdline 2>/dev/null || true
  } | cut -d/ -f3 | sort -u | while read -r p; do
    [ "$p" != "$$" ] && [ -r "/proc/$p/stat" ] && ! grep -q ') Z' "/proc/$p/stat" && echo "$p"
  done
  return 0
}
none_left() { [ -z "$(procs_of "$1")" ]; }
# True if PID is gone or a zombie (orphans are reaped by PID 1, which may take a while).
dead() { ! [ -r "/proc/$1/stat" ] || grep -q ') Z' "/proc/$1/stat" 2>/dev/null; }

# --- start -------------------------------------------------------------------------------------
D=$TMP/a
dirs+=("$D")
t0=$(now_ms)
out=$("$S" start "$D" $$)
t1=$(now_ms)
echo "     start of 2 instances: $((t1 - t0)) ms"
check "start prints h1/h2 lines" grep -qE '^h1 [0-9]+$' <<<"$out"
check "start prints h2" grep -qE '^h2 [0-9]+$' <<<"$out"
# shellcheck disable=SC1091
. "$D/hosts.env"
check "hosts.env has ports" test -n "$H1_PORT" -a -n "$H2_PORT"
check "h1 listens on 127.0.0.1 only" bash -c "ss -Hltn 'sport = :$H1_PORT' | awk '{print \$4}' | grep -qx '127.0.0.1:$H1_PORT' && [ \$(ss -Hltn 'sport = :$H1_PORT' | wc -l) -eq 1 ]"
C=(ssh -F "$D/ssh_config")

# shellcheck disable=SC2016 # expanded remotely
r=$("${C[@]}" h1 'uname -a; echo $HOME')
echo "${r//$'\n'/$'\n'     }" | sed '1s/^/     /'
check "ssh h1 uname/HOME" grep -qx /root <<<"$r"
check "ssh h2 true" "${C[@]}" h2 true
check "ssh -p PORT root@127.0.0.1 with key only" ssh -i "$D/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$H2_PORT" root@127.0.0.1 true
check "sftp subsystem" bash -c "echo 'ls /' | sftp -q -F '$D/ssh_config' -b - h1 >/dev/null"

# --- ControlMaster: 8 concurrent sessions over one connection -----------------------------------
M=(-o ControlMaster=auto -o "ControlPath=$D/cm-%C" -o ControlPersist=60)
t0=$(now_ms)
r=$(timeout 10 "${C[@]}" "${M[@]}" h1 'echo master' 2>&1) || true
t1=$(now_ms)
check "ControlPersist master: \$(ssh ... 2>&1) returns at once ($((t1 - t0)) ms)" test "$r" = master -a $((t1 - t0)) -lt 3000
check "ssh -O check" "${C[@]}" "${M[@]}" -O check h1
before=$(grep -c 'Accepted publickey' "$D/h1/sshd.log")
pids=()
for i in 1 2 3 4 5 6 7 8; do
  "${C[@]}" "${M[@]}" h1 "sleep 1; echo \$((6*$i))" >"$TMP/mux.$i" 2>&1 &
  pids+=($!)
done
t0=$(now_ms)
bad=0
for i in 1 2 3 4 5 6 7 8; do
  wait "${pids[$((i - 1))]}" || bad=$((bad + 1))
  [ "$(cat "$TMP/mux.$i")" = $((6 * i)) ] || bad=$((bad + 1))
done
t1=$(now_ms)
after=$(grep -c 'Accepted publickey' "$D/h1/sshd.log")
check "8 concurrent muxed sessions ok, all in parallel ($((t1 - t0)) ms for 8x sleep 1)" test "$bad" -eq 0 -a $((t1 - t0)) -lt 2500
check "8 muxed sessions opened no new connection" test "$before" -eq "$after"

# --- stop kills what sessions left behind ---------------------------------------------------------
bg1=$("${C[@]}" h1 'sleep 1000 >/dev/null 2>&1 & echo $!')
bg2=$("${C[@]}" h2 'setsid nohup sleep 1000 >/dev/null 2>&1 & echo $!')
bg3=$("${C[@]}" "${M[@]}" h1 'sleep 1000 >/dev/null 2>&1 & echo $!')
"${C[@]}" h1 'sleep 1000' &
fg=$!
sleep 0.3
check "remote sleeps running" kill -0 "$bg1" "$bg2" "$bg3"
master=$("${C[@]}" "${M[@]}" -O check h1 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
t0=$(now_ms)
"$S" stop "$D"
t1=$(now_ms)
echo "     stop: $((t1 - t0)) ms"
sleep 0.2
check "stop: detached remote sleep gone" dead "$bg1"
check "stop: setsid nohup remote sleep gone" dead "$bg2"
check "stop: muxed remote sleep gone" dead "$bg3"
rc=0
wait "$fg" || rc=$?
check "stop: foreground ssh returned ($rc)" test "$rc" -ne 0
check "stop: client ControlMaster ($master) exited" dead "${master:-999999999}"
check "stop: no process of DIR left" none_left "$D"
check "stop: again is fine" "$S" stop "$D"
check "stop: of a DIR that never existed is fine" "$S" stop "$TMP/never"

# --- owner death -----------------------------------------------------------------------------------
D2=$TMP/owner-exit
dirs+=("$D2")
bash -c "'$S' start '$D2' \$\$ >/dev/null; ssh -F '$D2/ssh_config' h1 'sleep 1000 >/dev/null 2>&1 &'; sleep 2"
t0=$(now_ms)
while ! none_left "$D2" && [ $(($(now_ms) - t0)) -lt 3000 ]; do sleep 0.05; done
t1=$(now_ms)
check "owner exit: all gone after $((t1 - t0)) ms (< 1000)" test $((t1 - t0)) -lt 1000 -a -z "$(procs_of "$D2")"

D3=$TMP/owner-sigkill
dirs+=("$D3")
bash -c "'$S' start '$D3' \$\$ >/dev/null; '$S' blackhole '$D3' \$\$ >/dev/null; ssh -F '$D3/ssh_config' h2 'sleep 1000 >/dev/null 2>&1 &'; exec sleep 100" &
owner=$!
for _ in $(seq 1 100); do [ -s "$D3/hosts.env" ] && grep -q BH1 "$D3/hosts.env" && break; sleep 0.05; done
sleep 0.5
n=$(procs_of "$D3" | wc -l)
kill -KILL "$owner"
wait "$owner" 2>/dev/null || true
t0=$(now_ms)
while ! none_left "$D3" && [ $(($(now_ms) - t0)) -lt 3000 ]; do sleep 0.05; done
t1=$(now_ms)
check "owner SIGKILL: $n processes all gone after $((t1 - t0)) ms (< 1000)" test $((t1 - t0)) -lt 1000 -a -z "$(procs_of "$D3")"

D4=$TMP/dir-removed
bash -c "'$S' start '$D4' $$ 1 >/dev/null"
rm -rf "$D4"
t0=$(now_ms)
while ! none_left "$D4" && [ $(($(now_ms) - t0)) -lt 3000 ]; do sleep 0.05; done
t1=$(now_ms)
check "DIR removed while owner alive: all gone after $((t1 - t0)) ms" test -z "$(procs_of "$D4")"

# --- kill / revive -----------------------------------------------------------------------------------
D5=$TMP/kill
dirs+=("$D5")
"$S" start "$D5" $$ 3 >/dev/null
C5=(ssh -F "$D5/ssh_config")
"${C5[@]}" h1 'sleep 100' &
sp=$!
bgk=$("${C5[@]}" h1 'sleep 1000 >/dev/null 2>&1 & echo $!')
sleep 0.3
t0=$(now_ms)
"$S" kill "$D5" h1
rc=0
wait "$sp" || rc=$?
t1=$(now_ms)
check "kill: running 'ssh h1 sleep 100' returned rc=$rc after $((t1 - t0)) ms" test "$rc" -eq 255 -a $((t1 - t0)) -lt 1000
check "kill: remote sleep of h1 gone" dead "$bgk"
rc=0
"${C5[@]}" -o ConnectTimeout=2 h1 true 2>/dev/null || rc=$?
check "kill: new ssh h1 fails (rc=$rc)" test "$rc" -eq 255
check "kill: h2 unaffected" "${C5[@]}" h2 true
check "kill: h3 unaffected" "${C5[@]}" h3 true
check "revive h1" "$S" revive "$D5" h1
check "revived h1 answers (same port, same host key)" "${C5[@]}" -o StrictHostKeyChecking=yes h1 true

# --- blackhole -----------------------------------------------------------------------------------------
out=$("$S" blackhole "$D5" $$)
check "blackhole prints 'bh1 PORT'" grep -qE '^bh1 [0-9]+$' <<<"$out"
bport=${out#bh1 }
t0=$(now_ms)
rc=0
"${C5[@]}" -o ConnectTimeout=2 bh1 true 2>"$TMP/bh.err" || rc=$?
t1=$(now_ms)
check "blackhole: ssh -o ConnectTimeout=2 fails (rc=$rc) after $((t1 - t0)) ms ($(tr -d '\n' <"$TMP/bh.err"))" test "$rc" -eq 255 -a $((t1 - t0)) -ge 1900 -a $((t1 - t0)) -lt 4000
rc=0
t0=$(now_ms)
ssh -o ConnectTimeout=2 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p "$bport" root@127.0.0.1 true 2>/dev/null || rc=$?
t1=$(now_ms)
check "blackhole by port: fails after $((t1 - t0)) ms" test "$rc" -eq 255 -a $((t1 - t0)) -ge 1900
"$S" stop "$D5"
check "stop: blackhole gone too" none_left "$D5"
rc=0
timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$bport" 2>/dev/null || rc=$?
check "stop: blackhole port closed" test "$rc" -ne 0

# --- independence of two DIRs, failed start -------------------------------------------------------------
D6=$TMP/i1
D7=$TMP/i2
dirs+=("$D6" "$D7")
"$S" start "$D6" $$ 1 >/dev/null
"$S" start "$D7" $$ 1 >/dev/null
check "second start in same DIR refused" bash -c "! '$S' start '$D6' $$ 2>/dev/null"
"$S" stop "$D6"
check "two DIRs independent: D7 h1 alive after stop D6" ssh -F "$D7/ssh_config" h1 true
check "two DIRs independent: D6 gone" none_left "$D6"
"$S" stop "$D7"
D8=$TMP/failed
dirs+=("$D8")
check "start with a broken sshd fails" bash -c "! GRIDRUN_SSHD=/bin/false '$S' start '$D8' $$ 2>/dev/null"
check "failed start left nothing behind" none_left "$D8"
check "stop after failed start" "$S" stop "$D8"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
