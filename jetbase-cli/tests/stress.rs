//! Proof under stress, with real processes: 32 at once (the `jetbase` command and an
//! application running `MIGRATOR.run`) against PostgreSQL and MariaDB, 8 against one SQLite
//! file and 8 against Snowflake (fakesnow); and the process holding the lock killed with SIGKILL inside a transactional and inside a
//! no-transaction migration.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

#[path = "../../jetbase/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Query, TestDb};
use jetbase::Dialect;
use support::{Project, cli_url};

/// The stress migrations: `hits` created, then 19 inserts, one per version.
const STRESS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stress");
/// The same files, compiled into this test binary as an application would.
static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/stress/migrations");
const VERSIONS: usize = 20;

const APP_ENV: &str = "JETBASE_TEST_APP_URL";

/// The application: this test binary started again, running the embedded migrations on the URL
/// in `JETBASE_TEST_APP_URL`; prints how many it applied.
#[tokio::test]
#[ignore = "started by the stress tests as a child process"]
async fn application_child() {
    let url = std::env::var(APP_ENV).expect("started by a stress test");
    let pool = jetbase::AnyPool::connect(&url).await.unwrap();
    let report = MIGRATOR.run(&pool).await.unwrap();
    println!("\napplied={}", report.migrations.len());
}

fn spawn_application(url: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "application_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(APP_ENV, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn jetbase(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jetbase"));
    command
        .arg("--dir")
        .arg(dir)
        .args(["--database-url", url, "--lock-timeout", "120"])
        .args(args)
        .env_remove("JETBASE_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The URL the application child gets (sqlx's form: SQLite by absolute path, created if missing).
fn application_url<P>(db: &TestDb<P>) -> String {
    match &db.sqlite_path {
        Some(path) => format!("sqlite://{}?mode=rwc", path.display()),
        None => db.url.clone(),
    }
}

/// `count` processes started together, every other one the CLI, the rest the application:
/// every one exits 0, each version is applied by exactly one of them, and the lock is free.
async fn processes_at_once<P: Query>(db: &TestDb<P>, count: usize) {
    let cli_url = cli_url(db);
    let app_url = application_url(db);
    let started = Instant::now();
    let children: Vec<(bool, Child)> = (0..count)
        .map(|at| {
            let cli = at % 2 == 0;
            let child = if cli {
                jetbase(Path::new(STRESS_DIR), &cli_url, &["--json", "upgrade"])
                    .spawn()
                    .unwrap()
            } else {
                spawn_application(&app_url)
            };
            (cli, child)
        })
        .collect();
    let mut applied = 0;
    for (cli, child) in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "a process failed (cli: {cli}):\n{stdout}\n{stderr}"
        );
        applied += if cli {
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            report["migrations"].as_array().unwrap().len()
        } else {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix("applied="))
                .map(|n| n.trim().parse::<usize>().unwrap())
                .unwrap()
        };
    }
    eprintln!(
        "{}: {count} processes done in {:?}",
        db.dialect,
        started.elapsed()
    );
    assert_eq!(
        applied, VERSIONS,
        "each version applied by exactly one process"
    );
    let expected: Vec<String> = (1..=VERSIONS).map(|v| v.to_string()).collect();
    assert_eq!(db.applied_versions().await, expected);
    assert_eq!(
        db.pool.count("SELECT version FROM hits").await,
        VERSIONS as i64 - 1
    );
    assert!(db.lock_is_free().await);
}

async fn many_processes_at_once<P: Query>(db: &TestDb<P>) {
    // fakesnow, the Snowflake stand-in, is one Python process: 8 there too.
    let count = match db.dialect {
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse => 8,
        // The Databricks stand-in's Spark commits about one write a second.
        Dialect::Databricks => 4,
        Dialect::Postgres | Dialect::MySql => 32,
    };
    processes_at_once(db, count).await;
}
database_test!(many_processes_at_once, many_processes_at_once);

/// SQL that runs for a minute unless killed.
fn slow_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT pg_sleep(60);",
        Dialect::MySql => "SELECT SLEEP(60);",
        Dialect::Databricks => "SELECT SUM(id) FROM range(20000000000);",
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) \
             SELECT COUNT(*) FROM c;"
        }
    }
}

/// Starts `jetbase upgrade` in `project`, waits until `ready` says it is inside the migration,
/// then kills it with SIGKILL.
async fn kill_upgrade_when<P: Query>(db: &TestDb<P>, project: &Project, ready: &str) {
    let mut child = jetbase(&project.root().join("jetbase"), &project.url, &["upgrade"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // (`ready` may name a table the migration has not created yet: an error is "not yet".)
    while db.lock_is_free().await
        || db.pool.try_exec(ready).await.is_err()
        || db.pool.count(ready).await == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the upgrade never got there"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upgrade ended early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Inside the slow statement.
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!db.lock_is_free().await, "the dead holder's lock row stays");
}

fn timed(project: &Project, args: &[&str]) -> (Duration, support::Run) {
    let started = Instant::now();
    let run = project.run(args);
    (started.elapsed(), run)
}

/// SIGKILL (a) inside a transactional migration: nothing of it remains, the next upgrade takes
/// the dead holder's lock over at once and completes; (b) inside a no-transaction migration:
/// `status` shows it failed, `upgrade` refuses, `rollback` (taking the lock over) resolves it.
async fn killed_inside_a_migration<P: Query>(db: &TestDb<P>) {
    let project = Project::new(&cli_url(db));
    let slow = slow_sql(db.dialect);
    project.write(
        "V1__pre.sql",
        "-- upgrade\nCREATE TABLE pre (id INTEGER);\n-- rollback\nDROP TABLE pre;\n",
    );
    project.run(&["upgrade"]).ok();

    // (a) A transactional migration: its row is inserted, then it sleeps.
    project.write(
        "V2__slow.sql",
        &format!("-- upgrade\nINSERT INTO pre (id) VALUES (2);\n{slow}\n-- rollback\nDELETE FROM pre WHERE id = 2;\n"),
    );
    // Ready once the lock is held (the insert is invisible to others until commit).
    kill_upgrade_when(
        db,
        &project,
        "SELECT 1 FROM jetbase_lock WHERE is_locked = TRUE",
    )
    .await;
    assert_eq!(
        db.pool.count("SELECT id FROM pre WHERE id = 2").await,
        0,
        "nothing remains"
    );
    assert_eq!(db.applied_versions().await, ["1"]);
    project.write(
        "V2__slow.sql",
        "-- upgrade\nINSERT INTO pre (id) VALUES (2);\n-- rollback\nDELETE FROM pre WHERE id = 2;\n",
    );
    let (waited, _) = timed(&project, &["upgrade"]);
    eprintln!(
        "{}: upgrade after a holder killed in a transactional migration: {waited:?}",
        db.dialect
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    assert!(db.lock_is_free().await);

    // (b) A no-transaction migration: its history row is written first, then it runs. (On its
    // own table: on MariaDB the killed statement of (a) keeps running on the server until
    // MariaDB notices its client is gone — SLEEP checks every few seconds — and its
    // uncommitted row in `pre` would hold up a scan of `pre` until then.)
    project.write(
        "V3__no_tx.sql",
        &format!("-- jetbase: no-transaction\n-- upgrade\nCREATE TABLE pre_b (id INTEGER);\nINSERT INTO pre_b (id) VALUES (3);\n{slow}\n-- rollback\nDROP TABLE pre_b;\n"),
    );
    kill_upgrade_when(db, &project, "SELECT 1 FROM pre_b WHERE id = 3").await;
    let status = project.run(&["--json", "status"]).ok().json();
    let third = &status["migrations"][2];
    assert_eq!(
        (third["version"].as_str(), third["state"].as_str()),
        (Some("3"), Some("failed")),
        "{status}"
    );
    let refused = project.run(&["upgrade"]).fails_with(1);
    assert!(
        refused
            .stderr
            .contains("version 3 (V3__no_tx.sql) did not finish"),
        "{refused:#?}"
    );
    assert!(
        refused.stderr.contains("`jetbase rollback` it"),
        "{refused:#?}"
    );
    let (waited, _) = timed(&project, &["rollback"]);
    eprintln!(
        "{}: rollback after a holder killed in a no-transaction migration: {waited:?}",
        db.dialect
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(
        db.pool.count("SELECT id FROM pre WHERE id = 3").await,
        0,
        "rolled back"
    );
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    project.write(
        "V3__no_tx.sql",
        "-- jetbase: no-transaction\n-- upgrade\nCREATE TABLE pre_b (id INTEGER);\n-- rollback\nDROP TABLE pre_b;\n",
    );
    project.run(&["upgrade"]).ok();
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    killed_inside_a_migration,
    killed_inside_a_migration,
    not_on_warehouses = "part (a) needs a transaction the server undoes; the warehouses' kill test, \
                         with the lease and the unfinished row, is killed_holder_does_not_block in \
                         jetbase/tests/processes.rs"
);
