//! Several processes at once, and a holder killed with SIGKILL, on all three databases, with
//! real child processes (this test binary started again in a child mode).
//!
//! - 8 processes starting at once apply each version exactly once, and all succeed.
//! - A holder killed while it holds the lock does not block the next run: its liveness lock
//!   (advisory lock, `GET_LOCK`, or file lock) dies with it, and the next process takes the
//!   lock row over; where there is no such lock (the warehouses, PgBouncer in transaction mode,
//!   a Galera cluster, whose next run comes from another node), once the holder's lease
//!   expired, never before.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Files, Query, TestDb};
use jetbase::Dialect;

const CHILD_ENV: &str = "JETBASE_TEST_KILL_CHILD";

/// The lease of the processes here (databases without session locks): renewed every 500 ms,
/// expired after 3 s, so that a killed holder is taken over within seconds.
fn lease() -> jetbase::LockLease {
    jetbase::LockLease::new(Duration::from_millis(500), Duration::from_secs(3)).unwrap()
}

/// How long each statement of the slow migration sleeps on ClickHouse.
const CLICKHOUSE_STATEMENT: Duration = Duration::from_millis(250);

fn slow_sql(dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => "SELECT pg_sleep(60);".to_owned(),
        Dialect::MySql => "SELECT SLEEP(60);".to_owned(),
        // In the child's own process: it dies with it.
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT COUNT(*) FROM c;".to_owned()
        }
        // The warehouses' servers would go on with one long statement after its client died (a
        // recursive query keeps fakesnow's DuckDB busy for minutes): many short statements
        // instead, each a request (about 50 ms on fakesnow; on ClickHouse a short sleep, since
        // its one-query-at-a-time test engine makes every other request, the holder's lease
        // renewals included, wait for the statement in progress).
        Dialect::Snowflake => "SELECT 1;\n".repeat(1200),
        Dialect::ClickHouse => {
            format!("SELECT sleep({});\n", CLICKHOUSE_STATEMENT.as_secs_f64()).repeat(240)
        }
        Dialect::Databricks => "SELECT 1;\n".repeat(1200),
    }
}

/// How a child connects: by its dialect, or through the PgBouncer of `db` (an `AnyPool`, which
/// recognises it).
fn connection_kind<P: Query>(db: &TestDb<P>) -> &'static str {
    if db.pooler.is_transaction() {
        "pgbouncer"
    } else {
        db.dialect.name()
    }
}

/// The database in the test's output: its dialect, or the pooler or cluster in front of it.
fn db_label<P: Query>(db: &TestDb<P>) -> &'static str {
    if db.nodes.is_empty() {
        connection_kind(db)
    } else {
        "galera"
    }
}

/// Starts this test binary again as a child that runs the migrations of `migrations`.
fn spawn_runner(kind: &str, url: &str, migrations: &std::path::Path, stdout: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "runner_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{kind}\n{url}\n{}", migrations.display()),
        )
        .stdout(stdout)
        .spawn()
        .unwrap()
}

/// The child: runs the migrations; exits 0 when they are applied (or were already).
#[tokio::test]
#[ignore = "started by the process tests as a child process"]
async fn runner_child() {
    let spec = std::env::var(CHILD_ENV).expect("started by a process test");
    let mut parts = spec.lines();
    let (dialect, url, dir) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let migrator = jetbase::Migrator::from_dir(dir)
        .unwrap()
        .with_lock_lease(lease());
    let report = match dialect {
        // A PgBouncer in transaction mode, found by its refusal of `extra_float_digits`.
        "pgbouncer" => {
            let pool = jetbase::AnyPool::connect(url).await.unwrap();
            assert_eq!(pool.pooler(), jetbase::Pooler::Transaction);
            migrator.run(&pool).await
        }
        "postgres" => {
            migrator
                .run(&sqlx::PgPool::connect(url).await.unwrap())
                .await
        }
        "mysql" => {
            migrator
                .run(&sqlx::MySqlPool::connect(url).await.unwrap())
                .await
        }
        "snowflake" => {
            migrator
                .run(&jetbase::SnowflakePool::connect(url).await.unwrap())
                .await
        }
        "clickhouse" => {
            migrator
                .run(&jetbase::ClickHousePool::connect(url).await.unwrap())
                .await
        }
        _ => {
            migrator
                .run(&sqlx::SqlitePool::connect(url).await.unwrap())
                .await
        }
    }
    .unwrap();
    println!("\njetbase-applied={}", report.migrations.len());
}

async fn eight_processes_apply_each_version_once<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__t.sql", "CREATE TABLE hits (version VARCHAR(10));"),
        ("V2__a.sql", "INSERT INTO hits VALUES ('2');"),
        ("V3__b.sql", "INSERT INTO hits VALUES ('3');"),
        ("V4__c.sql", "INSERT INTO hits VALUES ('4');"),
    ]);
    // Eight per server, spread over the nodes of a cluster (24 on Galera's three).
    let urls = db.process_urls();
    let children: Vec<Child> = (0..8 * urls.len())
        .map(|n| {
            let url = &urls[n % urls.len()];
            spawn_runner(connection_kind(db), url, files.dir.path(), Stdio::piped())
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "a process failed:\n{stdout}");
        applied += stdout
            .lines()
            .find_map(|line| line.strip_prefix("jetbase-applied="))
            .map_or(0, |n| n.trim().parse::<usize>().unwrap());
    }
    assert_eq!(applied, 4, "each version applied by exactly one process");
    assert_eq!(db.pool.count("SELECT version FROM hits").await, 3);
    assert_eq!(db.applied_versions().await, ["1", "2", "3", "4"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    eight_processes_apply_each_version_once,
    eight_processes_apply_each_version_once,
    also_on_clusters
);

/// Where the server keeps a session of its own (PostgreSQL, MySQL/MariaDB), the killed holder's
/// migration holds a lock on `held` while its statement runs on (the server does not notice its
/// client died until the statement ends); the next run's migration needs that table, and gets
/// it because taking the lock over ends the dead holder's session.
fn holds_a_table(dialect: Dialect) -> Option<(&'static str, &'static str)> {
    match dialect {
        Dialect::Postgres => Some((
            "LOCK TABLE held IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(60);",
            "ALTER TABLE held ADD COLUMN c INTEGER;",
        )),
        Dialect::MySql => Some((
            "SELECT SLEEP(60) FROM held;",
            "ALTER TABLE held ADD COLUMN c INTEGER;",
        )),
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => None,
    }
}

async fn killed_holder_does_not_block<P: Query>(db: &TestDb<P>) {
    let held = holds_a_table(db.dialect);
    if held.is_some() {
        db.pool.exec("CREATE TABLE held (id INTEGER)").await;
        db.pool.exec("INSERT INTO held (id) VALUES (1)").await;
    }
    let slow_sql = held.map_or_else(|| slow_sql(db.dialect), |(slow, _)| slow.to_owned());
    let slow_file = format!("{slow_sql}\n-- rollback\nSELECT 1;");
    let slow = Files::new(&[("V1__slow.sql", slow_file.as_str())]);
    let mut child = spawn_runner(
        connection_kind(db),
        &db.url,
        slow.dir.path(),
        Stdio::inherit(),
    );
    let started = Instant::now();
    while !db.table_exists("jetbase_lock").await || db.lock_is_free().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child never took the lock"
        );
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Without transactions, the row written first is what the next run must find: the child is
    // killed once it is there (on a loaded server, later than the lock; the history table itself
    // is created by the holder once it holds the lock).
    while !db.pool.capabilities().transactions
        && (!db.table_exists("jetbase_migrations").await
            || db
                .pool
                .count("SELECT filename FROM jetbase_migrations WHERE filename = 'V1__slow.sql'")
                .await
                == 0)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the child never wrote its row"
        );
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    child.wait().unwrap();
    assert!(
        !db.lock_is_free().await,
        "the dead holder's row is still there"
    );

    let quick_sql = match held {
        Some((_, needs_the_table)) => {
            format!("CREATE TABLE after_kill (id INTEGER);\n{needs_the_table}")
        }
        None => "CREATE TABLE after_kill (id INTEGER);".to_owned(),
    };
    let quick = Files::new(&[("V1__quick.sql", quick_sql.as_str())]);
    // On a cluster, from another node than the killed holder's.
    let next_pool = match db.process_urls().last() {
        Some(url) if *url != db.url => db.pool.new_pool(url).await,
        _ => db.pool.clone(),
    };
    let waited = Instant::now();
    if db.pool.capabilities().transactions {
        quick
            .migrator()
            .with_lock_timeout(Duration::from_secs(30))
            .with_lock_lease(lease())
            .with_pooler(db.pooler)
            .run(&next_pool)
            .await
            .unwrap();
    } else {
        // The killed migration's row was written first and never completed: the next upgrade
        // takes the dead holder's lock over once its lease expired, and then stops at the row,
        // naming it...
        let error = quick
            .migrator()
            .with_lock_timeout(Duration::from_secs(30))
            .with_lock_lease(lease())
            .run(&db.pool)
            .await
            .unwrap_err();
        assert!(
            matches!(error, jetbase::Error::Validation { .. })
                && error.to_string().contains("V1__slow.sql")
                && error.to_string().contains("did not finish"),
            "{error}"
        );
    }
    let waited = waited.elapsed();
    let since_kill = killed.elapsed();
    if !db.pool.capabilities().transactions {
        // ...until the operator, having checked it, rolls it back.
        slow.migrator()
            .with_lock_lease(lease())
            .rollback(&db.pool)
            .await
            .unwrap();
        quick
            .migrator()
            .with_lock_lease(lease())
            .run(&db.pool)
            .await
            .unwrap();
    }
    eprintln!(
        "{}: the next run waited {waited:?} for the killed holder's lock",
        db_label(db)
    );
    if !db.lock_is_leased() {
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    } else {
        // Until the lease, renewed every 500 ms up to the kill, expired: from 2.5 s after the
        // kill (a renewal was due) to the expiry plus a few polls.
        eprintln!("{}: taken over {since_kill:?} after the kill", db_label(db));
        // The lease runs from the holder's last renewal, not from the kill. On ClickHouse's
        // stand-in, which runs one query at a time, that renewal waits for the slow
        // migration's statement in progress, so the lease may end that much sooner after the
        // kill.
        let renewal_lag = if db.dialect == Dialect::ClickHouse {
            CLICKHOUSE_STATEMENT
        } else {
            Duration::ZERO
        };
        assert!(
            since_kill >= Duration::from_millis(2_400) - renewal_lag
                && since_kill < Duration::from_secs(6),
            "taken over {since_kill:?} after the kill, for a lease of 3 s"
        );
    }
    assert!(db.table_exists("after_kill").await);
    assert!(db.lock_is_free().await);
}
database_test!(
    killed_holder_does_not_block,
    killed_holder_does_not_block,
    also_on_clusters
);
