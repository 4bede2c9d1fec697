#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md in one go, with the same throw-away servers as the tests.
#
#   bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_services

log "scan and parse (jetbase-core)"
cargo bench --locked -p jetbase-core --bench scan
log "embed! build time (jetbase-tests)"
cargo bench --locked -p jetbase-tests --bench embed_build
log "up-to-date check and apply-all against sqlx and refinery (jetbase-tests)"
cargo bench --locked -p jetbase-tests --bench migrate
