#!/usr/bin/env bash
# Coverage-guided fuzzing of the file name grammar, the body parser and splitter, the checksum,
# what embed!() does with each file, #[derive(Model)] input, and the SQL literal of each dialect,
# each for a bounded time:
#
#   bash scripts/fuzz.sh            # 60 seconds per target
#   bash scripts/fuzz.sh 600        # 10 minutes per target
#
# cargo-fuzz is installed under target/ if missing; libFuzzer needs nightly flags, which
# RUSTC_BOOTSTRAP=1 allows on the stable toolchain. A finding stops the script with the crashing
# input under fuzz/artifacts/<target>/ and the command that replays it. JETBASE_FUZZ_SEED fixes
# libFuzzer's seed (the short pass of scripts/test.sh uses 1, so that it is repeatable); without
# it every run explores differently.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
log() { echo "== $*" >&2; }

fuzz_root="$PWD/target/cargo-fuzz"
if [ ! -x "$fuzz_root/bin/cargo-fuzz" ]; then
  log "cargo-fuzz 0.13 into $fuzz_root"
  CARGO_TARGET_DIR="$PWD/target/cargo-fuzz-build" cargo install cargo-fuzz --version '^0.13' \
    --locked --root "$fuzz_root" --quiet
fi
export RUSTC_BOOTSTRAP=1
cd fuzz
log "building the fuzz targets"
"$fuzz_root/bin/cargo-fuzz" build -O
for target in file_name body checksum embed_input models literal; do
  log "fuzzing $target for ${seconds}s"
  # The corpus grows in fuzz/corpus/<target>; the body-reading targets start from the shared
  # test vectors (real migration files) as well.
  mkdir -p "corpus/$target"
  seeds=()
  # The hostile inputs of the hardening review seed them too (NUL bytes, terminal escapes,
  # backslash-quote payloads), so that they stay covered.
  case "$target" in
    body | checksum | embed_input) seeds=(../jetbase/tests/fixtures/vectors seeds/hostile) ;;
    literal | file_name) seeds=(seeds/hostile) ;;
  esac
  options=(-max_total_time="$seconds")
  if [ -n "${JETBASE_FUZZ_SEED:-}" ]; then options+=(-seed="$JETBASE_FUZZ_SEED"); fi
  "$fuzz_root/bin/cargo-fuzz" run -O "$target" "corpus/$target" "${seeds[@]}" -- \
    "${options[@]}" 2>&1 \
    | grep -E '^Done [0-9]+ runs|panicked|SUMMARY|artifact|Test unit|^\s+cargo fuzz' || true
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    log "$target found a failing input: see fuzz/artifacts/$target/"
    exit 1
  fi
done
log "no findings"
