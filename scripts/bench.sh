#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md in one go, with the same throw-away servers as the tests.
#
#   bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
start_services

# sqlx-cli 0.8 (SQLite and PostgreSQL) for the CLI benchmark, kept under target/ between runs.
sqlx_root="$PWD/target/sqlx-cli-0.8.6-sqlite-postgres"
if [ ! -x "$sqlx_root/bin/sqlx" ]; then
  log "sqlx-cli 0.8.6 into $sqlx_root"
  CARGO_TARGET_DIR="$PWD/target/sqlx-cli-build" cargo install sqlx-cli --version 0.8.6 \
    --no-default-features --features sqlite,postgres --locked --root "$sqlx_root"
fi
export JETBASE_BENCH_SQLX_CLI="$sqlx_root/bin/sqlx"
# GNU time, for the peak memory of the commands.
if [ ! -x /usr/bin/time ]; then
  apt_install time
fi

log "scan and parse (jetbase-core)"
cargo bench --locked -p jetbase-core --bench scan
log "embed! build time (jetbase-tests)"
cargo bench --locked -p jetbase-tests --bench embed_build
log "up-to-date check and apply-all against sqlx and refinery (jetbase-tests)"
cargo bench --locked -p jetbase-tests --bench migrate
log "the jetbase command against Python Jetbase and sqlx-cli (jetbase-cli)"
cargo bench --locked -p jetbase-cli --bench cli
log "the jetbase command against Python Jetbase on Snowflake (fakesnow) and ClickHouse (chdb)"
cargo bench --locked -p jetbase-cli --bench warehouses
log "make-migrations on 200 models against pg_dump (jetbase-cli)"
export JETBASE_BENCH_PG_DUMP="$pg_bin/pg_dump"
cargo bench --locked -p jetbase-cli --bench make_migrations
