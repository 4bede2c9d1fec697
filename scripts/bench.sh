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
log "jetbase schema on 300 PostgreSQL tables against pg_dump --schema-only (jetbase-cli)"
cargo bench --locked -p jetbase-cli --bench schema
log "the jetbase command against Python Jetbase on Snowflake (fakesnow) and ClickHouse (chdb)"
cargo bench --locked -p jetbase-cli --bench warehouses
# Lint: a real project's PostgreSQL history (Lemmy's, as published on crates.io in
# lemmy_db_schema) and the squawk command (PyPI's squawk-cli), both kept under target/.
lemmy="$PWD/target/lemmy-db-schema-migrations"
if [ ! -d "$lemmy" ]; then
  log "Lemmy's migrations (lemmy_db_schema 1.0.0-test-fix-publish-3 from crates.io) into $lemmy"
  probe=$(mktemp -d)
  (cd "$probe" && cargo init -q --name lemmy_probe \
    && cargo add -q lemmy_db_schema@=1.0.0-test-fix-publish-3 && cargo fetch -q)
  source_dir=$(cd "$probe" && cargo metadata --format-version 1 | python3 -c \
    'import json, sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "lemmy_db_schema").rsplit("/", 1)[0])')
  cp -r "$source_dir/migrations" "$lemmy"
  rm -rf "$probe"
fi
squawk_venv="$PWD/target/squawk-cli-2.70.0"
if [ ! -x "$squawk_venv/bin/squawk" ]; then
  log "squawk-cli 2.70.0 into $squawk_venv"
  python3 -m venv "$squawk_venv"
  "$squawk_venv/bin/pip" install --quiet --disable-pip-version-check squawk-cli==2.70.0
fi
export JETBASE_BENCH_LINT_CORPUS="$lemmy" JETBASE_BENCH_SQUAWK="$squawk_venv/bin/squawk"
log "jetbase lint on Lemmy's 336 migrations against the squawk command (jetbase-cli)"
cargo bench --locked -p jetbase-cli --bench lint

log "make-migrations on 200 models against pg_dump (jetbase-cli)"
export JETBASE_BENCH_PG_DUMP="$pg_bin/pg_dump"
cargo bench --locked -p jetbase-cli --bench make_migrations
