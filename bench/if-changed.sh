#!/usr/bin/env bash
# `gridrun run --if-changed` on an unchanged git project (issue: build-server jobs). Target:
# <= 150 ms wall with the toolchain cache warm, the remote query included. The remote is a real
# `git daemon` on 127.0.0.1 serving a copy of examples/; the matrix is the example grid's (5
# compilers x 5 standards x 2 build types, templated steps that do nothing, so seeding the store
# with one finished run is quick). For scale, hyperfine measures in the same invocation the one
# thing gridrun cannot avoid doing: `git ls-remote` of the branch.
# Needs hyperfine and git (git-daemon ships with Debian's git).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
work=$(mktemp -d)
daemon=
cleanup() { [ -n "$daemon" ] && kill "$daemon" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/repos/up" "$work/project"
cp -r examples/. "$work/repos/up/"
git -C "$work/repos/up" init -q -b main
git -C "$work/repos/up" add -A
git -C "$work/repos/up" -c user.email=bench@example.com -c user.name=bench commit -qm bench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --listen=127.0.0.1 --port="$port" --base-path="$work/repos" --export-all --reuseaddr "$work/repos" &
daemon=$!
url="git://127.0.0.1:$port/up"
for _ in $(seq 50); do git ls-remote "$url" main >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$url" > "$work/project/gridrun.toml" <<'PY'
import re, sys
text = open("examples/gridrun.toml").read()
text = text.replace('source = { path = "." }', f'source = {{ git = "{sys.argv[1]}", rev = "main" }}')
# The steps keep their templates but do nothing: the store only needs one finished run.
text = re.sub(r'run = "(.*)"', r'run = "true \1"', text)
print(text)
PY
cd "$work/project"
"$bin" run --if-changed -j 2 >/dev/null 2>&1
echo "== seeded: $("$bin" status | head -1)"
"$bin" run --if-changed 2>&1 | tail -1
hyperfine --warmup 3 --runs 30 --style basic \
  -n "gridrun run --if-changed (unchanged)" "$bin run --if-changed 2>/dev/null" \
  -n "git ls-remote (the floor)" "git ls-remote $url main >/dev/null"
