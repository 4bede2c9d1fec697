//! Connection loss: the database server restarted in the middle of an upgrade. The upgrade fails
//! with a clear error, the unfinished migration leaves no history row and nothing of itself, and
//! the next upgrade completes. Ignored in a plain `cargo test` (they restart the shared test
//! servers): `scripts/test.sh` runs them on their own, with the restart scripts of
//! `scripts/services.sh`.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Query, TestDb};
use jetbase::Dialect;
use support::Project;

async fn restart_during_an_upgrade<P: Query>(db: &TestDb<P>, restart_variable: &str) {
    let restart = std::env::var(restart_variable).unwrap_or_else(|_| {
        panic!("{restart_variable} is not set: run these tests through `bash scripts/test.sh`")
    });
    let sleep = match db.dialect {
        Dialect::Postgres => "SELECT pg_sleep(5);",
        _ => "SELECT SLEEP(5);",
    };
    let project = Project::new(&db.url);
    project.write(
        "V1__t.sql",
        "-- upgrade\nCREATE TABLE t (id INTEGER);\n-- rollback\nDROP TABLE t;\n",
    );
    project.write(
        "V2__slow.sql",
        &format!("-- upgrade\nINSERT INTO t (id) VALUES (2);\n{sleep}\n-- rollback\nDELETE FROM t WHERE id = 2;\n"),
    );
    project.write(
        "V3__quick.sql",
        "-- upgrade\nINSERT INTO t (id) VALUES (3);\n-- rollback\nDELETE FROM t WHERE id = 3;\n",
    );

    let child = Command::new(env!("CARGO_BIN_EXE_jetbase"))
        .arg("upgrade")
        .current_dir(project.root())
        .env("JETBASE_DATABASE_URL", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Inside V2: V1 is recorded and the lock is held.
    let started = Instant::now();
    while !db.table_exists("jetbase_migrations").await
        || db
            .pool
            .count("SELECT 1 FROM jetbase_migrations WHERE version = '1'")
            .await
            == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "V1 never applied"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = Command::new("bash").arg(&restart).status().unwrap();
    assert!(restarted.success(), "{restart} failed");

    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("V2__slow.sql"),
        "the error names the migration: {stderr}"
    );
    assert!(stderr.contains("caused by:"), "and says why: {stderr}");
    eprintln!("{}: the interrupted upgrade said:\n{stderr}", db.dialect);

    // No row for the unfinished migration, nothing of it in the table.
    assert_eq!(db.applied_versions().await, ["1"]);
    assert_eq!(db.pool.count("SELECT id FROM t").await, 0);

    // (V2 without its sleep, so that the time is the rerun's own.)
    project.write(
        "V2__slow.sql",
        "-- upgrade\nINSERT INTO t (id) VALUES (2);\n-- rollback\nDELETE FROM t WHERE id = 2;\n",
    );
    let rerun = Instant::now();
    let again = project.run(&["upgrade"]).ok();
    eprintln!(
        "{}: the next upgrade took {:?}",
        db.dialect,
        rerun.elapsed()
    );
    assert!(again.stdout.contains("V2__slow.sql") && again.stdout.contains("V3__quick.sql"));
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
    assert_eq!(db.pool.count("SELECT id FROM t").await, 2);
    assert!(db.lock_is_free().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the PostgreSQL test server: run by scripts/test.sh"]
async fn postgres_restarted_during_an_upgrade() {
    restart_during_an_upgrade(&common::postgres().await, "JETBASE_TEST_POSTGRES_RESTART").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the MariaDB test server: run by scripts/test.sh"]
async fn mariadb_restarted_during_an_upgrade() {
    restart_during_an_upgrade(&common::mysql().await, "JETBASE_TEST_MYSQL_RESTART").await;
}
