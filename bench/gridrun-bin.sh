# Sourced by the bench scripts (from the repository root): sets $bin to the gridrun measured.
# GRIDRUN_BIN measures another build (an older commit's, to compare); else this tree's, built
# in release (under CARGO_TARGET_DIR where that is set).
if [ -n "${GRIDRUN_BIN:-}" ]; then
  bin=$(realpath "$GRIDRUN_BIN")
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/gridrun
fi

# new_store DIR: a state folder at DIR/state whose store is the one $bin writes (its schema, by
# its own migrations), made by one `gridrun run` of a one-step matrix.
new_store() {
  cat > "$1/gridrun.toml" <<'TOML'
[project]
name = "tiny"
[[steps]]
name = "build"
run = "true"
TOML
  "$bin" --state-dir "$1/state" run "$1/gridrun.toml" > /dev/null 2>&1
}
