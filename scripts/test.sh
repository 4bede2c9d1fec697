#!/usr/bin/env bash
# The project's test command: formatting, lints, and the whole test suite against the committed
# Cargo.lock. Run from anywhere: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --all --check"
cargo fmt --all --check

echo "== cargo clippy --workspace --all-targets --locked -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test --workspace --locked"
cargo test --workspace --locked
