#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) with libFuzzer and AddressSanitizer,
# starting from the checked-in corpus in fuzz/corpus/<target>; new inputs go to fuzz/corpus-work/.
# A crash stops the script with the input kept in fuzz/artifacts/<target>/; make it a test by
# adding it to fuzz/corpus/<target>/ (tests/fuzz_corpus.rs replays that folder).
#
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for target in matrix template diagnostics junit; do
  mkdir -p "corpus-work/$target"
  echo "fuzzing $target for ${seconds}s"
  cargo fuzz run "$target" "corpus-work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|thread .* panicked)' || true
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz target $target found a crash: $(ls "artifacts/$target")" >&2
    exit 1
  fi
done
