#!/usr/bin/env bash
# The project's test command: installs (when missing) and starts throw-away PostgreSQL and
# MariaDB servers on 127.0.0.1 and Python Jetbase 0.18.1 (scripts/services.sh), then runs
# formatting, lints and the whole test suite against the committed Cargo.lock.
#
#   bash scripts/test.sh
#
# Servers you already run can be used instead: set JETBASE_TEST_POSTGRES_URL and/or
# JETBASE_TEST_MYSQL_URL (an admin URL: the tests create databases) and the script starts
# nothing for them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_services

# A one-shot build keeps nothing for next time: no incremental caches (gigabytes of disk, and
# time to write them).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

log "cargo fmt --all --check"
cargo fmt --all --check

log "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

log "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude jetbase-cli --no-deps --all-features --locked --quiet

log "the public API against api/*.txt (scripts/public_api.sh)"
bash scripts/public_api.sh

log "cargo package --workspace --locked (each crate built from its package alone)"
# In a target directory of its own, new on every run: cargo unpacks the packaged crates once per
# path of its temporary registry (target/package/tmp-registry) and reuses that copy on the next
# run from the same path, so a checkout that is always cloned to one place would build the
# packages against the crates of an earlier commit.
package_target="$(mktemp -d "${TMPDIR:-/tmp}/jetbase-package.XXXXXX")"
CARGO_TARGET_DIR="$package_target" cargo package --workspace --locked --quiet
rm -rf "$package_target"

log "cargo test --workspace --all-features --locked"
cargo test --workspace --all-features --locked

# Connection loss: these restart the test servers, so they run on their own (ignored in a plain
# `cargo test`). With servers of your own, set JETBASE_TEST_POSTGRES_RESTART and
# JETBASE_TEST_MYSQL_RESTART to scripts that restart them, or they are skipped (never under CI).
if [ -n "${JETBASE_TEST_POSTGRES_RESTART:-}${JETBASE_TEST_MYSQL_RESTART:-}" ] || [ "${CI:-}" = true ]; then
  log "cargo test: the servers restarted in the middle of an upgrade"
  cargo test --all-features --locked -p jetbase-cli --test server_restart -- --ignored --test-threads=1
else
  log "skipping the server-restart tests: no restart scripts for servers of your own"
fi

# A short bounded fuzzing pass with a fixed seed, so that it is repeatable (exploring, with a
# random seed and longer: `bash scripts/fuzz.sh 600`).
log "fuzzing, ${JETBASE_FUZZ_SECONDS:-15}s per target"
JETBASE_FUZZ_SEED="${JETBASE_FUZZ_SEED:-1}" bash scripts/fuzz.sh "${JETBASE_FUZZ_SECONDS:-15}"
