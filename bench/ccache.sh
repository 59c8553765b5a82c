#!/usr/bin/env bash
# `[cache] ccache = true` (issue: ccache, built in). Target: a real C++ grid (the example library
# or larger) rerun with a warm ccache at least 4x faster than the cold run, both measured here.
# The grid is examples/ with `[cache] ccache = true` added, filtered to two compilers (gcc-12,
# clang-19: 2 x 5 standards x 2 build types = 20 cells; BENCH_FILTER changes it). The example
# library is six small files, so configure, link and ctest (which no cache shortens) weigh as much
# as its compiles; BENCH_EXTRA (default 8) adds that many sources using the standard library
# (<regex>, <map>, <sstream>…) to the library, as a real one has. BENCH_EXTRA=0: the example alone. The cold run starts from an empty state folder,
# so an empty cache; the warm run is the same grid run again in the same state folder: new build
# folders (work/<run>/), the cache the cold run filled. Every step runs (configure, build, test);
# only compiles can be answered from the cache.
# Needs cmake, ninja, ccache and the compilers the filter names.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
filter=${BENCH_FILTER:-compiler=gcc-12,clang-19}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -r examples/. "$work/project"
printf '\n[cache]\nccache = true\nmax_size = "1GiB"\n' >> "$work/project/gridrun.toml"
extra=${BENCH_EXTRA:-8}
if [ "$extra" -gt 0 ]; then
  mkdir -p "$work/project/extra"
  for i in $(seq "$extra"); do
    cat > "$work/project/extra/extra$i.cpp" <<CPP
#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
int gridlib_extra$i(const std::string& text) {
  std::map<std::string, int> counts;
  std::regex word("[a-z]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), word); it != std::sregex_iterator(); ++it) {
    ++counts[it->str()];
  }
  std::vector<std::pair<std::string, int>> sorted(counts.begin(), counts.end());
  typedef std::pair<std::string, int> Count;
  std::sort(sorted.begin(), sorted.end(), [](const Count& a, const Count& b) { return a.second > b.second; });
  std::ostringstream out;
  for (const Count& c : sorted) out << c.first << c.second;
  return static_cast<int>(out.str().size()) + $i;
}
CPP
  done
  printf '\nfile(GLOB GRIDLIB_EXTRA extra/*.cpp)\ntarget_sources(gridlib PRIVATE ${GRIDLIB_EXTRA})\n' >> "$work/project/CMakeLists.txt"
fi
cd "$work/project"

now() { date +%s.%N; }
timed() { # label, then the run's arguments
  local label=$1; shift
  local start end
  start=$(now)
  "$bin" run -f "$filter" "$@" >/dev/null 2>&1 || { echo "$label run failed:"; "$bin" show; exit 1; }
  end=$(now)
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$end"
}

cold=$(timed cold)
echo "== cold: ${cold}s  $("$bin" show | grep '^ccache' || true)"
warm=$(timed warm)
echo "== warm: ${warm}s  $("$bin" show | grep '^ccache' || true)"
python3 -c "import sys; c, w = map(float, sys.argv[1:]); print(f'== cold / warm = {c / w:.2f}x (target >= 4x)')" "$cold" "$warm"
du -sh .gridrun/cache/ccache/* | sed 's/^/   cache /'
