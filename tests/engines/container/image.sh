#!/usr/bin/env bash
# Builds the container image fixture for gridrun's container-engine tests,
# offline from Debian packages (no registry pull).
#
#   image.sh build NAME CACHE_DIR
#
# NAME       podman image name, e.g. localhost/gridrun-clang15:1
# CACHE_DIR  folder for the lock file and the cached rootfs tarball
#
# Prints the image ID (podman's .Id, sha256 hex) as the only line on stdout;
# progress goes to stderr. Exit codes: 0 ok, 2 usage, 3 missing prerequisite
# (tests may map that to "skip"), anything else: build failure.
#
# Idempotent and safe to run concurrently: if NAME already carries the label
# io.gridrun.fixture.recipe with the current recipe hash, nothing is built.
# Otherwise, under flock(CACHE_DIR/image.lock), the rootfs tarball
# CACHE_DIR/rootfs-<hash>.tar.zst is built with mmdebstrap (unless already
# cached) and `podman import`ed as NAME.
#
# Podman config: CONTAINERS_CONF defaults to containers.conf beside this
# script (runc, cgroupfs, default_ulimits = []); see README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/containers.conf}"

# ---- the recipe: anything here changes the hash, hence the image ----------
RECIPE_VERSION=1
SUITE=bookworm
VARIANT=essential              # Essential:yes set only: no apt inside the image
PACKAGES=(clang-15 libstdc++-12-dev cmake ninja-build make)
# Same apt sources as the host (deb822 file(s)); override with a
# space-separated list of files in GRIDRUN_IMAGE_APT_SOURCES.
read -r -a SOURCES <<<"${GRIDRUN_IMAGE_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
# Fixed timestamp: mmdebstrap output becomes reproducible for a given mirror
# state, and podman import takes the image's "created" from the file mtime,
# so the image ID is reproducible too.
EPOCH=1704067200               # 2024-01-01T00:00:00Z
DPKG_OPTS=(
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/locale/*'
  'path-include=/usr/share/locale/locale.alias'
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
)
CHANGES=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV LANG=C.UTF-8'
  'ENV CC=clang-15'
  'ENV CXX=clang++-15'
  'WORKDIR /'
  'CMD ["/bin/bash"]'
)
LABEL_KEY=io.gridrun.fixture.recipe
# ---------------------------------------------------------------------------

log() { printf 'image.sh: %s\n' "$*" >&2; }
die() { local rc=$1; shift; log "$*"; exit "$rc"; }

usage() {
  cat >&2 <<'EOF'
usage: image.sh build NAME CACHE_DIR
  Builds (once) a Debian bookworm image with clang-15, libstdc++-12-dev,
  cmake, ninja-build and make, imports it into podman as NAME, and prints
  its image ID. Exit 3 if podman/mmdebstrap/zstd/flock are missing.
EOF
  exit 2
}

if [ $# -ne 3 ] || [ "$1" != build ]; then usage; fi
NAME=$2
CACHE_DIR=$3
if [ -z "$NAME" ] || [ -z "$CACHE_DIR" ]; then usage; fi

for tool in podman mmdebstrap zstd flock sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die 3 "missing prerequisite: $tool (apt-get install podman runc mmdebstrap zstd)"
done
for f in "${SOURCES[@]}"; do
  [ -r "$f" ] || die 3 "apt sources file not readable: $f"
done

# ROOTFS_HASH names the cached tarball (what mmdebstrap builds); HASH, the
# image label, also covers the import-time config (ENV, CMD...).
rootfs_hash() {
  {
    printf 'version=%s\nsuite=%s\nvariant=%s\nepoch=%s\n' "$RECIPE_VERSION" "$SUITE" "$VARIANT" "$EPOCH"
    printf 'pkg=%s\n' "${PACKAGES[@]}"
    printf 'dpkg=%s\n' "${DPKG_OPTS[@]}"
    for f in "${SOURCES[@]}"; do printf 'sources=%s\n' "$f"; cat "$f"; done
  } | sha256sum | cut -c1-16
}
ROOTFS_HASH=$(rootfs_hash)
HASH=$( { printf '%s\n' "$ROOTFS_HASH"; printf 'change=%s\n' "${CHANGES[@]}"; } | sha256sum | cut -c1-16)

# Prints the image ID and succeeds iff NAME exists with the current recipe.
current_id() {
  local out
  out=$(podman image inspect --format "{{.Id}} {{index .Labels \"$LABEL_KEY\"}}" "$NAME" 2>/dev/null) || return 1
  [ "${out#* }" = "$HASH" ] || return 1
  printf '%s\n' "${out%% *}"
}

# Fast path, no lock: podman's own store locking makes inspect safe.
if current_id; then exit 0; fi

mkdir -p "$CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)
exec 9>"$CACHE_DIR/image.lock"
log "waiting for lock $CACHE_DIR/image.lock"
flock -w 1800 9 || die 1 "timed out waiting for $CACHE_DIR/image.lock"

# Someone else may have built it while we waited.
if current_id; then exit 0; fi

TARBALL="$CACHE_DIR/rootfs-$ROOTFS_HASH.tar.zst"
if [ ! -s "$TARBALL" ]; then
  rm -rf "$CACHE_DIR"/.build.*   # leftovers of a killed build (we hold the lock)
  TMP=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  args=(--variant="$VARIANT" --format=tar)
  args+=(--include="$(IFS=,; echo "${PACKAGES[*]}")")
  for o in "${DPKG_OPTS[@]}"; do args+=(--dpkgopt="$o"); done
  args+=(--aptopt='Acquire::Retries "3"')
  # Keep the host's resolv.conf/hostname out (podman mounts its own) so the
  # tarball is the same on every host.
  # shellcheck disable=SC2016 # $1 is expanded by mmdebstrap's hook shell
  args+=(--customize-hook='rm -f "$1"/etc/resolv.conf "$1"/etc/hostname')
  log "building rootfs with mmdebstrap (log: $CACHE_DIR/mmdebstrap.log)"
  start=$SECONDS
  if ! SOURCE_DATE_EPOCH=$EPOCH mmdebstrap "${args[@]}" "$SUITE" "$TMP/rootfs.tar" "${SOURCES[@]}" \
      >"$CACHE_DIR/mmdebstrap.log" 2>&1 9>&-; then
    tail -n 30 "$CACHE_DIR/mmdebstrap.log" >&2
    die 1 "mmdebstrap failed"
  fi
  zstd -q -T2 -3 --rm "$TMP/rootfs.tar" -o "$TMP/rootfs.tar.zst"
  touch -d "@$EPOCH" "$TMP/rootfs.tar.zst"
  # Drop tarballs of older recipes, then publish atomically.
  find "$CACHE_DIR" -maxdepth 1 -name 'rootfs-*.tar.zst' ! -name "rootfs-$ROOTFS_HASH.tar.zst" -delete
  mv "$TMP/rootfs.tar.zst" "$TARBALL"
  log "rootfs built in $((SECONDS - start))s: $TARBALL ($(du -h "$TARBALL" | cut -f1))"
fi

old_id=$(podman image inspect --format '{{.Id}}' "$NAME" 2>/dev/null || true)
change_args=(--change "LABEL $LABEL_KEY=$HASH")
for c in "${CHANGES[@]}"; do change_args+=(--change "$c"); done
log "importing $TARBALL as $NAME"
podman import --quiet "${change_args[@]}" "$TARBALL" "$NAME" >/dev/null 9>&-
# The previous image of this NAME (older recipe) is now untagged: drop it if
# no container uses it.
if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$NAME")" ]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi
current_id || die 1 "imported image $NAME does not carry $LABEL_KEY=$HASH"
