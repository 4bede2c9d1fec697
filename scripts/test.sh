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

log "cargo fmt --all --check"
cargo fmt --all --check

log "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

log "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude jetbase-cli --no-deps --all-features --locked --quiet

log "cargo test --workspace --all-features --locked"
cargo test --workspace --all-features --locked

# A short bounded fuzzing pass (longer: `bash scripts/fuzz.sh 600`).
log "fuzzing, ${JETBASE_FUZZ_SECONDS:-15}s per target"
bash scripts/fuzz.sh "${JETBASE_FUZZ_SECONDS:-15}"
