#!/usr/bin/env bash
# Remote speed (issue: SSH build hosts and containers). Builds gridrun in release, starts two real
# sshd build hosts on loopback (tests/engines/ssh/sshd.sh) and builds the test image
# (tests/engines/container/image.sh), then measures, in one invocation:
#   1. 200 no-op jobs spread over the two hosts (two slots each), each recorded with its log,
#      against GNU parallel with a shared connection (`parallel -M --sshlogin 2/h1,2/h2`) running
#      the same 200 commands on the same hosts (target: gridrun >= 3x faster);
#   2. a job's container start: the same no-op job on this host and in the image, side by side
#      (target: <= 1.5 s more per job in the image).
# Needs root, hyperfine, GNU parallel, openssh-server, podman and mmdebstrap (.ci/install-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/gridrun-bin.sh
work=$(mktemp -d)
sleep infinity &
owner=$!
cleanup() {
  bash tests/engines/ssh/sshd.sh stop "$work/sshd" 2>/dev/null || true
  kill "$owner" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export NO_COLOR=1
export CONTAINERS_CONF=$PWD/tests/engines/container/containers.conf

bash tests/engines/ssh/sshd.sh start "$work/sshd" "$owner" 2 > /dev/null
# shellcheck disable=SC1091
. "$work/sshd/hosts.env"
table() { # NAME PORT
  cat <<TOML
[hosts.$1]
ssh = "root@127.0.0.1"
port = $2
identity = "$IDENTITY"
options = ["UserKnownHostsFile=$KNOWN_HOSTS"]
cpus = 2
jobs = 2
work_dir = "$work/$1"
TOML
}
{ echo "local = false"; table h1 "$H1_PORT"; table h2 "$H2_PORT"; } > "$work/hosts.toml"
# The project has a folder of its own: its files are what each host is sent.
mkdir -p "$work/proj"
cat > "$work/proj/noop-200.toml" <<'TOML'
[project]
name = "noop-200"
[matrix]
TOML
printf 'n = [%s]\n' "$(seq -s, 1 200)" >> "$work/proj/noop-200.toml"
cat >> "$work/proj/noop-200.toml" <<'TOML'
[[steps]]
name = "noop"
run = "true"
TOML

echo "== 1. 200 no-op jobs on two SSH hosts, two slots each =="
hyperfine --style basic --warmup 1 --runs 5 --export-json "$work/ssh.json" \
  -n gridrun "$bin --hosts $work/hosts.toml --state-dir $work/state run $work/proj/noop-200.toml > /dev/null 2>&1" \
  -n parallel "seq 200 | parallel -M --ssh 'ssh -F $SSH_CONFIG' --sshlogin 2/h1,2/h2 true" | grep -E "Benchmark|Time" || true
python3 - "$work/ssh.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"median: gridrun {r['gridrun']:.2f} s, parallel -M {r['parallel']:.2f} s: "
      f"gridrun {r['parallel'] / r['gridrun']:.1f}x faster (target >= 3x)")
PY
"$bin" --state-dir "$work/state" status -n 1 2>/dev/null | tail -1 || true

echo "== 2. one job's container start =="
image=$(bash tests/engines/container/image.sh build localhost/gridrun-test-clang15:1 "${TMPDIR:-/tmp}/gridrun-test-images" >/dev/null && echo localhost/gridrun-test-clang15:1)
for where in host image; do
  {
    echo '[project]'
    echo "name = \"start-$where\""
    [ "$where" = image ] && printf '[container]\nimage = "%s"\n' "$image"
    printf '[[steps]]\nname = "noop"\nrun = "true"\n'
  } > "$work/$where.toml"
done
hyperfine --style basic --warmup 2 --runs 10 --export-json "$work/container.json" \
  -n host "$bin --state-dir $work/cstate run $work/host.toml > /dev/null 2>&1" \
  -n image "$bin --state-dir $work/cstate run $work/image.toml > /dev/null 2>&1" | grep -E "Benchmark|Time" || true
python3 - "$work/container.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"median: on the host {r['host']:.3f} s, in the image {r['image']:.3f} s: "
      f"{r['image'] - r['host']:.3f} s more per job (target <= 1.5 s)")
PY
