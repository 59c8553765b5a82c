# gridrun's toolchain probe, run by sh on a build host or inside a container image.
#   sh -s list            what is there: platform, CPUs, memory, compilers and LLVMs with the
#                         size and time of each file (the probe cache's key)
#   sh -s probe TASK…     answers, one line each, for tasks `v FAMILY PATH` (version),
#                         `s CXX FLAG` (does -std=FLAG compile an empty unit) and `l CONFIG` (LLVM)
# POSIX sh and the tools every Linux and macOS has; nothing is written but a temporary folder.
set -u
mode=${1:-list}
[ $# -gt 0 ] && shift

stat_of() {
  stat -L -c '%s %Y' "$1" 2>/dev/null || stat -L -f '%z %m' "$1" 2>/dev/null || echo "0 0"
}

case $mode in
list)
  printf 'platform\t%s\t%s\n' "$(uname -s)" "$(uname -m)"
  printf 'cpus\t%s\n' "$(getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)"
  mem=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
  if [ -z "$mem" ]; then
    mem=$(( $(sysctl -n hw.memsize 2>/dev/null || echo 0) / 1024 ))
  fi
  printf 'memory_kb\t%s\n' "$mem"
  seen=" "
  old_ifs=$IFS
  IFS=:
  for dir in $PATH; do
    IFS=$old_ifs
    [ -d "$dir" ] || continue
    for file in "$dir"/gcc* "$dir"/g++* "$dir"/clang* "$dir"/llvm-config-*; do
      [ -f "$file" ] && [ -x "$file" ] || continue
      name=${file##*/}
      case $seen in *" $name "*) continue ;; esac
      seen="$seen$name "
      set -- $(stat_of "$file")
      printf 'tool\t%s\t%s\t%s\t%s\n' "$name" "$1" "$2" "$file"
    done
  done
  IFS=$old_ifs
  for config in /usr/lib/llvm-*/bin/llvm-config; do
    [ -x "$config" ] || continue
    major=${config#/usr/lib/llvm-}
    major=${major%%/*}
    set -- $(stat_of "$config")
    printf 'llvm\t%s\t%s\t%s\t%s\n' "$major" "$1" "$2" "$config"
  done
  ;;
probe)
  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t gridrun)
  trap 'rm -rf "$tmp"' EXIT
  : > "$tmp/empty.cpp"
  n=0
  while [ $# -gt 0 ]; do
    n=$((n + 1))
    case $1 in
    v)
      family=$2 path=$3
      shift 3
      flag=-dumpversion
      [ "$family" = gcc ] && flag=-dumpfullversion
      ( v=$("$path" $flag 2>/dev/null) && printf 'v\t%s\t%s\n' "$path" "$v" ) > "$tmp/$n.out" &
      ;;
    s)
      cxx=$2 flag=$3
      shift 3
      ( if "$cxx" "-std=$flag" -fsyntax-only -x c++ "$tmp/empty.cpp" >/dev/null 2>&1; then ok=1; else ok=0; fi
        printf 's\t%s\t%s\t%s\n' "$cxx" "$flag" "$ok" ) > "$tmp/$n.out" &
      ;;
    l)
      config=$2
      shift 2
      ( v=$("$config" --version 2>/dev/null) && printf 'l\t%s\t%s\t%s\n' "$config" "$v" "$("$config" --cmakedir 2>/dev/null)" ) > "$tmp/$n.out" &
      ;;
    *)
      shift
      ;;
    esac
  done
  wait
  cat "$tmp"/*.out 2>/dev/null
  ;;
esac
