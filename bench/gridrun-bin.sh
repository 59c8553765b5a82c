# Sourced by the bench scripts (from the repository root): sets $bin to the gridrun measured.
# GRIDRUN_BIN measures another build; else this tree's, built in release (under
# CARGO_TARGET_DIR where that is set). GRIDRUN_BASE names an earlier build to compare with
# ($base): the scripts then also time it against $bin in interleaved rounds (bench/interleave.py),
# each build on a store of its own making.
if [ -n "${GRIDRUN_BIN:-}" ]; then
  bin=$(realpath "$GRIDRUN_BIN")
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/gridrun
fi
base=${GRIDRUN_BASE:+$(realpath "$GRIDRUN_BASE")}

# new_store DIR [BIN]: a state folder at DIR/state whose store is the one BIN ($bin by default)
# writes (its schema, by its own migrations), made by one `gridrun run` of a one-step matrix.
new_store() {
  cat > "$1/gridrun.toml" <<'TOML'
[project]
name = "tiny"
[[steps]]
name = "build"
run = "true"
TOML
  "${2:-$bin}" --state-dir "$1/state" run "$1/gridrun.toml" > /dev/null 2>&1
}
