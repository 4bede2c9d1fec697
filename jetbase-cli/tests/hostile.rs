//! Hostile values against the `jetbase` binary, where string literals are most fragile: on
//! PostgreSQL with `standard_conforming_strings = off` (a backslash escapes in `'…'`) and on
//! MariaDB under its default `sql_mode` (the same). Each value is one a hostile review broke
//! out of a `'…'` literal with: none of them may run SQL of its own.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{Query, TestDb};
use support::{Project, cli_url};

const CREATE_ITEMS: &str =
    "-- upgrade\nCREATE TABLE items (id INTEGER);\n\n-- rollback\nDROP TABLE items;\n";

/// A fresh PostgreSQL database where every new session reads `\` as an escape in `'…'`.
async fn postgres_with_backslash_escapes() -> TestDb<sqlx::PgPool> {
    let db = common::postgres().await;
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    db.pool
        .exec(&format!(
            "ALTER DATABASE {name} SET standard_conforming_strings = off"
        ))
        .await;
    // The setting holds for the sessions the command opens (the test would prove nothing
    // otherwise).
    let fresh = db.pool.new_pool(&db.url).await;
    assert_eq!(
        fresh.strings("SHOW standard_conforming_strings").await,
        ["off"]
    );
    fresh.close().await;
    db
}

/// How many tables named `table` the database has, in any schema.
async fn tables_named<P: Query>(db: &TestDb<P>, table: &str) -> i64 {
    let sql = match db.dialect {
        common::Dialect::Postgres => {
            format!("SELECT relname FROM pg_class WHERE relname = '{table}' AND relkind = 'r'")
        }
        _ => format!(
            "SELECT table_name FROM information_schema.tables WHERE table_name = '{table}' \
             AND table_schema = DATABASE()"
        ),
    };
    db.pool.count(&sql).await
}

#[tokio::test]
async fn schemas_like_pattern_runs_no_sql_of_its_own() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    let run = project.run(&[
        "status",
        "--schemas-like",
        "\\'; CREATE TABLE pwned(i int); --",
    ]);
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    assert_eq!(tables_named(&db, "pwned").await, 0, "{run:#?}");
    // A pattern that matches finds the schemas by name, backslash and quote included.
    db.pool
        .exec("CREATE SCHEMA \"tenant_\\'x\"; CREATE SCHEMA tenant_b")
        .await;
    let run = project
        .run(&["status", "--schemas-like", "tenant\\_\\\\'%", "--json"])
        .ok();
    let targets: Vec<String> = run.json()["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(targets, ["tenant_\\'x"], "{run:#?}");
}

#[tokio::test]
async fn postgres_schema_setting_runs_no_sql_of_its_own() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    let hostile = "\\'; CREATE TABLE pwned(i int); --";
    let env = [
        ("JETBASE_DATABASE_URL", project.url.as_str()),
        ("JETBASE_POSTGRES_SCHEMA", hostile),
    ];
    project.run_in(project.root(), &["upgrade"], &env).ok();
    project.run_in(project.root(), &["status"], &env).ok();
    assert_eq!(tables_named(&db, "pwned").await, 0);
    // Everything went into the schema of that exact name.
    let schema = db
        .pool
        .strings(
            "SELECT table_schema::text FROM information_schema.tables \
             WHERE table_name = 'items'",
        )
        .await;
    assert_eq!(schema, [hostile]);
}

/// A lock row left by a "dead holder" whose `process_id` is a payload: the take-over reads it
/// and looks for that holder's sessions, and must only ever compare it.
#[tokio::test]
async fn dead_holder_process_id_runs_no_sql_of_its_own_on_postgres() {
    let db = postgres_with_backslash_escapes().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    db.pool.exec("CREATE TABLE victim (i INT)").await;
    let holder = "jb1:\\';DROP TABLE victim;--";
    sqlx::query(
        "UPDATE jetbase_lock SET is_locked = TRUE, locked_at = CURRENT_TIMESTAMP, \
         process_id = $1 WHERE id = 1",
    )
    .bind(holder)
    .execute(&db.pool)
    .await
    .unwrap();
    project.write(
        "V2__more.sql",
        "-- upgrade\nCREATE TABLE more (id INTEGER);\n\n-- rollback\nDROP TABLE more;\n",
    );
    project.run(&["upgrade"]).ok();
    assert_eq!(tables_named(&db, "victim").await, 1, "victim was dropped");
    assert_eq!(
        tables_named(&db, "more").await,
        1,
        "the lock was taken over"
    );
}

#[tokio::test]
async fn dead_holder_process_id_runs_no_sql_of_its_own_on_mariadb() {
    let db = common::mysql().await;
    let project = Project::new(&cli_url(&db));
    project.write("V1__items.sql", CREATE_ITEMS);
    project.run(&["upgrade"]).ok();
    // Under MariaDB's default sql_mode a backslash escapes in '…': with only `'` doubled this
    // holder ended the lock name's literal and ran SLEEP (in a SELECT, all it could reach).
    let holder = "jb1:\\') AS SIGNED),SLEEP(60)#";
    sqlx::query(
        "UPDATE jetbase_lock SET is_locked = TRUE, locked_at = CURRENT_TIMESTAMP, \
         process_id = ? WHERE id = 1",
    )
    .bind(holder)
    .execute(&db.pool)
    .await
    .unwrap();
    project.write(
        "V2__more.sql",
        "-- upgrade\nCREATE TABLE more (id INTEGER);\n\n-- rollback\nDROP TABLE more;\n",
    );
    let started = Instant::now();
    project.run(&["upgrade"]).ok();
    // Not a timing measure: the injected SLEEP(60) would make the take-over take a minute.
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the holder's SLEEP ran: {:?}",
        started.elapsed()
    );
    assert_eq!(
        tables_named(&db, "more").await,
        1,
        "the lock was taken over"
    );
}
