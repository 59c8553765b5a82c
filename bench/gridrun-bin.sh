# Sourced by the bench scripts (from the repository root): sets $bin to the gridrun measured.
# GRIDRUN_BIN measures another build (an older commit's, to compare); else this tree's, built
# in release (under CARGO_TARGET_DIR where that is set).
if [ -n "${GRIDRUN_BIN:-}" ]; then
  bin=$(realpath "$GRIDRUN_BIN")
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/gridrun
fi
