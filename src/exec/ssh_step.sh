# gridrun's step wrapper on a build host, run by `sh -c`. Arguments: the run's folder, the
# folders to make (one per line), the step's folder, its memory cap in KiB (0: none), the grace in
# seconds, the command, then NAME=value words for its environment (the step's alone). The command's output (stdout
# and stderr) is this session's stdout; this wrapper's own stderr carries one line at the end:
#   gridrun-end EXIT CHILD_USER CHILD_SYS PEAK_KIB OVER_CAP
root=$1 dirs=$2 cwd=$3 mem=$4 grace=$5 cmd=$6
shift 6
# The session's stdin, kept: a background job's own stdin is /dev/null.
exec 3<&0
mkdir -p "$root/pgids" || exit 1
if [ -n "$dirs" ]; then
  printf '%s\n' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && mkdir -p "$d"; done
fi
if ! cd "$cwd" 2>/dev/null; then
  echo "gridrun: cannot enter $cwd on $(hostname)"
  echo "gridrun-end 127 0m0s 0m0s 0 0" >&2
  exit 0
fi
# The step leads a process group of its own (setsid in a background job, which leads none, so
# setsid needs no fork: the group's id is the step's pid); perl where setsid is missing (macOS).
if command -v setsid >/dev/null 2>&1; then
  setsid env "$@" sh -c "$cmd" </dev/null 3<&- 2>&1 &
else
  perl -e 'setpgrp(0, 0); exec @ARGV or exit 127' env "$@" sh -c "$cmd" </dev/null 3<&- 2>&1 &
fi
pid=$!
: > "$root/pgids/$pid"
# The lifeline: when this session's stdin closes, the step's whole group goes. (It reads with
# the shell's own `read`, so ending it at the step's end leaves no reader behind.)
( while IFS= read -r _; do :; done
  if [ -e "$root/pgids/$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null
    sleep "$grace"
    kill -KILL -- "-$pid" 2>/dev/null
  fi ) <&3 >/dev/null 2>&1 &
lifeline=$!
exec 3<&-
# Memory: the group's resident size every 200 ms, its peak kept, the cap enforced.
( peak=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    rss=$(ps -A -o pgid= -o rss= 2>/dev/null | awk -v g="$pid" '$1 == g { s += $2 } END { print s + 0 }')
    if [ "${rss:-0}" -gt "$peak" ]; then
      peak=$rss
      echo "$peak" > "$root/pgids/$pid.peak"
    fi
    if [ "$mem" -gt 0 ] && [ "${rss:-0}" -gt "$mem" ]; then
      : > "$root/pgids/$pid.over"
      kill -KILL -- "-$pid" 2>/dev/null
    fi
  done ) </dev/null >/dev/null 2>&1 &
sampler=$!
wait "$pid"
code=$?
# The children's user and system time: the step's, reaped; the helpers are not yet.
set -- $(times)
user=${3:-0m0s} sys=${4:-0m0s}
kill "$sampler" "$lifeline" 2>/dev/null
kill -KILL -- "-$pid" 2>/dev/null
peak=$(cat "$root/pgids/$pid.peak" 2>/dev/null || echo 0)
over=0
[ -e "$root/pgids/$pid.over" ] && over=1
rm -f "$root/pgids/$pid" "$root/pgids/$pid.peak" "$root/pgids/$pid.over"
echo "gridrun-end $code $user $sys $peak $over" >&2
