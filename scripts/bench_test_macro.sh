#!/usr/bin/env bash
# `#[jetbase::test]` against `#[sqlx::test]`: the wall time of a test binary of 50 tests over the
# same 300 migrations, on PostgreSQL and SQLite (BENCHMARKS.md, "A migrated database per test").
#
# Usage: JETBASE_BENCH_POSTGRES_URL=postgres://user@127.0.0.1:5432/postgres bash scripts/bench_test_macro.sh
# (any PostgreSQL server the user may create databases on; `bash scripts/bench.sh` starts one).
# Knobs: JETBASE_BENCH_TESTS (50), JETBASE_BENCH_MIGRATIONS (300), JETBASE_BENCH_ROUNDS (3).
#
# Two crates are generated under target/bench-test-macro, built first (not timed), then each
# test binary is run alternately, ROUNDS times; the first jetbase run of a round after a change
# of migrations builds the template, so the cold run (template built) is reported beside the
# warm ones.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tests="${JETBASE_BENCH_TESTS:-50}"
migrations="${JETBASE_BENCH_MIGRATIONS:-300}"
rounds="${JETBASE_BENCH_ROUNDS:-3}"
postgres_url="${JETBASE_BENCH_POSTGRES_URL:?set JETBASE_BENCH_POSTGRES_URL to a PostgreSQL server URL}"
work="$root/target/bench-test-macro"
rm -rf "$work"
mkdir -p "$work/jetbase-side/jetbase/migrations" "$work/jetbase-side/tests" \
    "$work/sqlx-side/migrations" "$work/sqlx-side/tests"

# The same migrations for both: a table and an index each, a rollback for jetbase.
for i in $(seq 1 "$migrations"); do
    body="CREATE TABLE t$i (id INTEGER PRIMARY KEY, name VARCHAR(50));
CREATE INDEX ix_t$i ON t$i (name);"
    printf -- '-- upgrade\n%s\n\n-- rollback\nDROP TABLE t%s;\n' "$body" "$i" \
        > "$work/jetbase-side/jetbase/migrations/V${i}__t$i.sql"
    printf '%s\n' "$body" > "$work/sqlx-side/migrations/${i}_t$i.sql"
done

cat > "$work/jetbase-side/Cargo.toml" <<EOF
[package]
name = "bench-jetbase-test"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dev-dependencies]
jetbase = { path = "$root/jetbase", features = ["testing", "postgres", "sqlite"] }
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "postgres", "sqlite"] }
EOF
cat > "$work/sqlx-side/Cargo.toml" <<EOF
[package]
name = "bench-sqlx-test"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dev-dependencies]
sqlx = { version = "0.9", default-features = false, features = ["runtime-tokio", "postgres", "sqlite", "macros", "migrate"] }
EOF

# Each side: a test binary per database, $tests tests each reading a migrated table.
for database in postgres sqlite; do
    case "$database" in
        postgres) pool="sqlx::PgPool" ;;
        sqlite) pool="sqlx::SqlitePool" ;;
    esac
    {
        for n in $(seq 1 "$tests"); do
            cat <<EOF
#[jetbase::test]
async fn test_$n(pool: $pool) {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t$migrations").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0);
}
EOF
        done
    } > "$work/jetbase-side/tests/$database.rs"
    {
        for n in $(seq 1 "$tests"); do
            cat <<EOF
#[sqlx::test]
async fn test_$n(pool: $pool) {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t$migrations").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 0);
}
EOF
        done
    } > "$work/sqlx-side/tests/$database.rs"
done

# Build (not timed), with the workspace's lock file so that the same versions are used.
for side in jetbase-side sqlx-side; do
    cp "$root/Cargo.lock" "$work/$side/Cargo.lock"
    (cd "$work/$side" && cargo test --offline --no-run --quiet 2>/dev/null \
        || cargo test --no-run --quiet)
done

binary() { # side, test name: the test binary's path
    (cd "$work/$1" && cargo test --offline --no-run --message-format=json --test "$2" 2>/dev/null) \
        | python3 -c 'import json,sys
for line in sys.stdin:
    m=json.loads(line)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["kind"]==["test"]:
        print(m["executable"])' | tail -1
}

seconds() { # command...: wall time in seconds
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}

run_side() { # side, database[, threads]
    local executable
    executable="$(binary "$1" "$2")"
    (cd "$work/$1" && DATABASE_URL="$postgres_url" seconds "$executable" --test-threads="${3:-2}")
}

echo "== $tests tests x $migrations migrations, wall time of the test binary (2 threads), $(date -u +%F)"
for database in ${JETBASE_BENCH_DATABASES:-postgres sqlite}; do
    # jetbase's first run builds the template: the cold figure.
    cold=$(run_side jetbase-side "$database")
    jetbase_times=()
    sqlx_times=()
    for _ in $(seq 1 "$rounds"); do
        jetbase_times+=("$(run_side jetbase-side "$database")")
        sqlx_times+=("$(run_side sqlx-side "$database")")
    done
    python3 - "$database" "$cold" "${jetbase_times[*]}" "${sqlx_times[*]}" "$tests" <<'EOF'
import statistics, sys
database, cold, jetbase, sqlx, tests = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
jetbase = [float(x) for x in jetbase.split()]
sqlx = [float(x) for x in sqlx.split()]
j, s = statistics.median(jetbase), statistics.median(sqlx)
print(f"{database:9} #[jetbase::test] {j:7.3f} s (cold, template built: {cold:.3f} s)   "
      f"#[sqlx::test] {s:7.3f} s   ratio {j / s:.3f}x   "
      f"per test {1000 * j / tests:.1f} ms (jetbase), {1000 * s / tests:.1f} ms (sqlx)")
EOF
done

# One test at a time: a test's whole cost (its database made from the template, a pool, its
# query, the database dropped), with the template warm.
serial=$(run_side jetbase-side postgres 1)
python3 -c "print(f'postgres  one thread: #[jetbase::test] {$serial:.3f} s for $tests tests = {1000 * $serial / $tests:.1f} ms a test (set-up, query, drop)')"
