//! Upgrade, rollback, validation and locking against real databases: every test body runs on
//! SQLite, PostgreSQL and MySQL/MariaDB (see `common::database_test!`).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Files, Query, TestDb};
use jetbase::{Dialect, Error, PlanError, State};

/// Four versions whose order differs from their file names' order, each recording itself.
fn ordered_files() -> Files {
    Files::new(&[
        (
            "V10__ten.sql",
            "INSERT INTO events (id, label) VALUES (3, '10');\n-- rollback\nDELETE FROM events WHERE label = '10';",
        ),
        (
            "V2__two.sql",
            "INSERT INTO events (id, label) VALUES (2, '2');\n-- rollback\nDELETE FROM events WHERE label = '2';",
        ),
        (
            "V1__create_events.sql",
            "CREATE TABLE events (id INTEGER NOT NULL, label VARCHAR(20));\n\
             INSERT INTO events (id, label) VALUES (0, '1');\n-- rollback\nDROP TABLE events;",
        ),
        (
            "sub/V1_1__one_one.sql",
            "INSERT INTO events (id, label) VALUES (1, '1.1');\n-- rollback\nDELETE FROM events WHERE label = '1.1';",
        ),
    ])
}

async fn versions_apply_in_numeric_order<P: Query>(db: &TestDb<P>) {
    let migrator = ordered_files().migrator();
    let report = migrator.run(&db.pool).await.unwrap();
    let ran: Vec<&str> = report
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(
        ran,
        [
            "V1__create_events.sql",
            "V1_1__one_one.sql",
            "V2__two.sql",
            "V10__ten.sql"
        ]
    );
    assert_eq!(
        db.pool
            .strings("SELECT label FROM events ORDER BY id")
            .await,
        ["1", "1.1", "2", "10"]
    );
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2", "10"]);
    // The history holds Python Jetbase's values.
    let checksums = db
        .pool
        .strings("SELECT checksum FROM jetbase_migrations ORDER BY order_executed")
        .await;
    let expected: Vec<&str> = migrator.migrations().iter().map(|m| m.checksum()).collect();
    assert_eq!(checksums, expected);
    assert_eq!(
        db.pool
            .strings("SELECT description FROM jetbase_migrations WHERE version = '1'")
            .await,
        ["create events"]
    );
    assert!(db.lock_is_free().await);
    let untimed = db
        .pool
        .count(
            "SELECT version FROM jetbase_migrations WHERE execution_ms IS NULL OR execution_ms < 0",
        )
        .await;
    assert_eq!(untimed, 0, "every row has its execution time");
    // Nothing left to do.
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
}
database_test!(
    versions_apply_in_numeric_order,
    versions_apply_in_numeric_order,
    also_on_databricks
);

async fn runs_always_every_time_runs_on_change_when_changed<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__counter.sql", "CREATE TABLE runs (name VARCHAR(10));"),
        ("RA__always.sql", "INSERT INTO runs (name) VALUES ('ra');"),
        (
            "ROC__on_change.sql",
            "INSERT INTO runs (name) VALUES ('roc');",
        ),
    ]);
    for _ in 0..3 {
        files.migrator().run(&db.pool).await.unwrap();
    }
    let count = |name: &'static str| async move {
        db.pool
            .count(&format!("SELECT name FROM runs WHERE name = '{name}'"))
            .await
    };
    assert_eq!((count("ra").await, count("roc").await), (3, 1));
    files.write("ROC__on_change.sql", "INSERT INTO runs (name) VALUES ('roc');\n-- now changed\nINSERT INTO runs (name) VALUES ('roc');");
    files.migrator().run(&db.pool).await.unwrap();
    assert_eq!((count("ra").await, count("roc").await), (4, 3));
    // One history row per repeatable, with the latest checksum.
    assert_eq!(
        db.pool
            .count("SELECT filename FROM jetbase_migrations WHERE version IS NULL")
            .await,
        2
    );
    let migrator = files.migrator();
    let roc = migrator
        .migrations()
        .iter()
        .find(|m| m.filename() == "ROC__on_change.sql")
        .unwrap();
    assert_eq!(
        db.pool
            .strings(
                "SELECT checksum FROM jetbase_migrations WHERE filename = 'ROC__on_change.sql'"
            )
            .await,
        [roc.checksum()]
    );
}
database_test!(
    runs_always_every_time_runs_on_change_when_changed,
    runs_always_every_time_runs_on_change_when_changed,
    also_on_databricks
);

async fn upgrade_count_and_to_version<P: Query>(db: &TestDb<P>) {
    let migrator = ordered_files().migrator();
    migrator.upgrade(&db.pool).count(2).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "1.1"]);
    migrator.upgrade(&db.pool).to_version("2").await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2"]);
    let error = migrator
        .upgrade(&db.pool)
        .to_version("1.1")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("version 1.1 is already applied"),
        "{error}"
    );
    let error = migrator
        .upgrade(&db.pool)
        .to_version("nope")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidVersion { .. }), "{error}");
    migrator.upgrade(&db.pool).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2", "10"]);
}
database_test!(upgrade_count_and_to_version, upgrade_count_and_to_version);

async fn rollback_default_count_and_to_version<P: Query>(db: &TestDb<P>) {
    let migrator = ordered_files().migrator();
    migrator.run(&db.pool).await.unwrap();
    let report = migrator.rollback(&db.pool).await.unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2"]);
    assert_eq!(
        db.pool
            .strings("SELECT label FROM events ORDER BY id")
            .await,
        ["1", "1.1", "2"]
    );
    migrator.rollback(&db.pool).count(2).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1"]);
    migrator.run(&db.pool).await.unwrap();
    let report = migrator.rollback(&db.pool).to_version("1.1").await.unwrap();
    let undone: Vec<&str> = report
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(undone, ["V10__ten.sql", "V2__two.sql"], "newest first");
    assert_eq!(db.applied_versions().await, ["1", "1.1"]);
    migrator.rollback(&db.pool).count(5).await.unwrap();
    assert!(db.applied_versions().await.is_empty());
    assert!(!db.table_exists("events").await);
    assert!(db.lock_is_free().await);
}
database_test!(
    rollback_default_count_and_to_version,
    rollback_default_count_and_to_version,
    also_on_databricks
);

async fn repeatables_are_never_rolled_back<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        (
            "V1__t.sql",
            "CREATE TABLE t (id INTEGER);\n-- rollback\nDROP TABLE t;",
        ),
        ("RA__r.sql", "DELETE FROM t WHERE 1 = 1;"),
    ]);
    files.migrator().run(&db.pool).await.unwrap();
    let report = files.migrator().rollback(&db.pool).count(10).await.unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(
        db.pool
            .count("SELECT filename FROM jetbase_migrations")
            .await,
        1,
        "the RA row stays"
    );
}
database_test!(
    repeatables_are_never_rolled_back,
    repeatables_are_never_rolled_back
);

async fn failing_migration_leaves_no_trace<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__good.sql", "CREATE TABLE good (id INTEGER);"),
        (
            "V2__bad.sql",
            "CREATE TABLE half_done (id INTEGER);\nINSERT INTO half_done (id) VALUES (1);\n\nINSERT INTO no_such_table VALUES (1);",
        ),
    ]);
    let recorder = common::recorder::Recorder::default();
    let error = recorder
        .record(files.migrator().run(&db.pool))
        .await
        .unwrap_err();
    // The logs say what a partial failure left behind; the error itself is the caller's to
    // report, so no event repeats it.
    let events = recorder.take();
    let warned: Vec<_> = events
        .iter()
        .filter(|event| event.level <= tracing::Level::WARN)
        .collect();
    let Error::MigrationFailed {
        filename,
        line,
        statement,
        partially_applied,
        applied_before,
        ..
    } = &error
    else {
        panic!("unexpected error: {error}");
    };
    assert_eq!((filename.as_str(), *line), ("V2__bad.sql", 4));
    assert!(statement.contains("no_such_table"), "{statement}");
    assert_eq!(applied_before, &["V1__good.sql"]);
    let message = error.to_string();
    assert!(
        message.contains("V2__bad.sql") && message.contains("line 4"),
        "{message}"
    );
    let capabilities = db.pool.capabilities();
    if capabilities.transactions {
        assert_eq!(
            db.applied_versions().await,
            ["1"],
            "earlier migrations stay applied"
        );
    } else {
        // Without transactions (Snowflake) the failed migration's row stays, marked failed, and
        // the next upgrade stops at it until it is rolled back or repaired.
        assert_eq!(db.applied_versions().await, ["1", "2"]);
        let failed = db
            .pool
            .strings("SELECT filename FROM jetbase_migrations WHERE success = FALSE")
            .await;
        assert_eq!(failed, ["V2__bad.sql"]);
        let again = files.migrator().run(&db.pool).await.unwrap_err();
        assert!(again.to_string().contains("V2__bad.sql"), "{again}");
    }
    assert!(db.table_exists("good").await);
    if capabilities.implicit_commit_ddl {
        // DDL commits implicitly on MySQL and Snowflake: said, never hidden.
        assert!(*partially_applied);
        assert!(message.contains("PARTIALLY APPLIED"), "{message}");
        assert_eq!(warned.len(), 1, "{events:#?}");
        assert!(
            warned[0].message.contains("partially applied"),
            "{events:#?}"
        );
        assert_eq!(warned[0].field("filename"), Some("V2__bad.sql"));
        assert_eq!(warned[0].field("line"), Some("4"));
    } else {
        assert!(!*partially_applied);
        assert!(warned.is_empty(), "{events:#?}");
        assert!(!db.table_exists("half_done").await, "nothing of V2 remains");
    }
    assert!(
        db.lock_is_free().await,
        "the lock is released after a failure"
    );
}
database_test!(
    failing_migration_leaves_no_trace,
    failing_migration_leaves_no_trace,
    also_on_databricks
);

/// `Migrator::current` (and `jetbase current`): the highest version applied, compared as
/// numbers, whatever order the rows were applied in, and never a failed row; the row it returns
/// is the history's own, column for column.
async fn current_is_the_highest_applied_version<P: Query>(db: &TestDb<P>) {
    let migrator = |files: &Files| files.migrator().with_pooler(db.pooler);
    let files = Files::new(&[("RA__always.sql", "SELECT 1;")]);
    assert_eq!(
        migrator(&files).current(&db.pool).await.unwrap(),
        None,
        "no tables yet"
    );
    migrator(&files).run(&db.pool).await.unwrap();
    assert_eq!(
        migrator(&files).current(&db.pool).await.unwrap(),
        None,
        "a repeatable migration has no version"
    );
    files.write("V1_9__a.sql", "CREATE TABLE a (id INTEGER);");
    files.write("V1_10__b.sql", "CREATE TABLE b (id INTEGER);");
    migrator(&files).run(&db.pool).await.unwrap();
    let history_row = |history: &[jetbase::AppliedMigration], version: &str| {
        history
            .iter()
            .find(|row| row.version.as_deref() == Some(version))
            .cloned()
            .unwrap()
    };
    let history = migrator(&files).history(&db.pool).await.unwrap();
    let current = migrator(&files).current(&db.pool).await.unwrap().unwrap();
    assert_eq!(current, history_row(&history, "1.10"), "1.10 is above 1.9");
    assert_eq!(current.filename, "V1_10__b.sql");

    // Applied last, out of order: the latest row, not the current version.
    files.write("V1_2__late.sql", "CREATE TABLE late (id INTEGER);");
    files
        .migrator()
        .upgrade(&db.pool)
        .out_of_order(true)
        .await
        .unwrap();
    assert_eq!(
        db.applied_versions().await,
        ["1.9", "1.10", "1.2"],
        "1.2 was applied last"
    );
    let current = migrator(&files).current(&db.pool).await.unwrap().unwrap();
    assert_eq!(current.version.as_deref(), Some("1.10"));

    // A failed migration above it (on the warehouses its row stays, marked failed) is not
    // current either.
    files.write("V2__bad.sql", "INSERT INTO no_such_table VALUES (1);");
    migrator(&files).run(&db.pool).await.unwrap_err();
    let current = migrator(&files).current(&db.pool).await.unwrap().unwrap();
    assert_eq!(current.version.as_deref(), Some("1.10"));
}
database_test!(
    current_is_the_highest_applied_version,
    current_is_the_highest_applied_version,
    also_on_clusters
);

async fn validation_errors_and_their_skips<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INTEGER);"),
        ("V3__c.sql", "CREATE TABLE c (id INTEGER);"),
        ("RA__r.sql", "SELECT 1;"),
    ]);
    files.migrator().run(&db.pool).await.unwrap();
    // Edit an applied file, remove another, add one below the latest applied version.
    files.write("V1__a.sql", "CREATE TABLE a (id INTEGER, extra INTEGER);");
    files.remove("V3__c.sql");
    files.remove("RA__r.sql");
    files.write("V2__b.sql", "CREATE TABLE b (id INTEGER);");
    files.write("V4__d.sql", "CREATE TABLE d (id INTEGER);");
    let migrator = files.migrator();
    let error = migrator.run(&db.pool).await.unwrap_err();
    let Error::Validation { problems } = &error else {
        panic!("{error}")
    };
    let has = |f: fn(&PlanError) -> bool| problems.iter().filter(|p| f(p)).count();
    assert_eq!(
        has(|p| matches!(p, PlanError::ChecksumMismatch { .. })),
        1,
        "{error}"
    );
    assert_eq!(
        has(|p| matches!(p, PlanError::MissingFile { .. })),
        2,
        "{error}"
    );
    assert_eq!(
        has(|p| matches!(p, PlanError::OutOfOrder { .. })),
        1,
        "{error}"
    );
    assert!(!db.table_exists("d").await, "nothing ran");
    assert_eq!(migrator.validate(&db.pool).await.unwrap().len(), 4);

    // Each skip removes its own kind of problem only.
    let error = migrator
        .upgrade(&db.pool)
        .skip_checksum_validation(true)
        .await
        .unwrap_err();
    assert!(
        !error
            .to_string()
            .contains("was changed after it was applied"),
        "{error}"
    );
    let error = migrator
        .upgrade(&db.pool)
        .skip_file_validation(true)
        .await
        .unwrap_err();
    assert!(!error.to_string().contains("file is missing"), "{error}");
    let error = migrator
        .upgrade(&db.pool)
        .out_of_order(true)
        .await
        .unwrap_err();
    assert!(
        !error.to_string().contains("older than the latest"),
        "{error}"
    );
    migrator
        .upgrade(&db.pool)
        .skip_checksum_validation(true)
        .skip_file_validation(true)
        .out_of_order(true)
        .await
        .unwrap();
    assert!(db.table_exists("b").await && db.table_exists("d").await);
    assert_eq!(db.applied_versions().await, ["1", "3", "2", "4"]);
}
database_test!(
    validation_errors_and_their_skips,
    validation_errors_and_their_skips
);

async fn skip_validation_skips_everything<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[("V2__b.sql", "CREATE TABLE b (id INTEGER);")]);
    files.migrator().run(&db.pool).await.unwrap();
    files.write("V2__b.sql", "CREATE TABLE b (id INTEGER, changed INTEGER);");
    files.write("V1__a.sql", "CREATE TABLE a (id INTEGER);");
    assert!(files.migrator().run(&db.pool).await.is_err());
    files
        .migrator()
        .upgrade(&db.pool)
        .skip_validation(true)
        .await
        .unwrap();
    assert!(db.table_exists("a").await);
}
database_test!(
    skip_validation_skips_everything,
    skip_validation_skips_everything
);

async fn dry_run_writes_nothing<P: Query>(db: &TestDb<P>) {
    let migrator = ordered_files().migrator();
    let report = migrator.upgrade(&db.pool).dry_run(true).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.migrations.len(), 4);
    assert_eq!(
        report.migrations[0].sql[0],
        "CREATE TABLE events (id INTEGER NOT NULL, label VARCHAR(20))"
    );
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "not even the history table"
    );
    assert!(!db.table_exists("jetbase_lock").await);
    assert!(!db.table_exists("events").await);

    migrator.run(&db.pool).await.unwrap();
    let report = migrator
        .rollback(&db.pool)
        .count(2)
        .dry_run(true)
        .await
        .unwrap();
    assert_eq!(
        report.migrations[0].sql,
        ["DELETE FROM events WHERE label = '10'"]
    );
    assert_eq!(
        db.applied_versions().await.len(),
        4,
        "a dry rollback changes nothing"
    );
}
database_test!(dry_run_writes_nothing, dry_run_writes_nothing);

async fn read_only_calls_on_an_empty_database<P: Query>(db: &TestDb<P>) {
    let migrator = ordered_files().migrator();
    let status = migrator.status(&db.pool).await.unwrap();
    assert_eq!(status.len(), 4);
    assert!(status.iter().all(|s| s.state == State::Pending));
    assert!(migrator.history(&db.pool).await.unwrap().is_empty());
    assert!(migrator.validate(&db.pool).await.unwrap().is_empty());
    assert!(
        migrator
            .rollback(&db.pool)
            .await
            .unwrap()
            .migrations
            .is_empty()
    );
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "reading creates nothing"
    );
    migrator.run(&db.pool).await.unwrap();
    let status = migrator.status(&db.pool).await.unwrap();
    assert!(
        status
            .iter()
            .all(|s| s.state == State::Applied && s.applied_at.is_some())
    );
    assert!(status.iter().all(|s| s.has_rollback_sql));
}
database_test!(
    read_only_calls_on_an_empty_database,
    read_only_calls_on_an_empty_database,
    also_on_databricks
);

async fn no_transaction_migration_failure_leaves_a_failed_row<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__base.sql", "CREATE TABLE base (id INTEGER);"),
        (
            "V2__outside.sql",
            "-- jetbase: no-transaction\nCREATE TABLE outside (id INTEGER);\nINSERT INTO missing_table VALUES (1);\n-- rollback\nDROP TABLE outside;",
        ),
        ("V3__later.sql", "CREATE TABLE later (id INTEGER);"),
    ]);
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                line: 3,
                partially_applied: true,
                transactional: false,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("history row is marked failed"),
        "{error}"
    );
    // Statement by statement: the first one stays, and the row says the migration failed.
    assert!(db.table_exists("outside").await);
    let status = files.migrator().status(&db.pool).await.unwrap();
    assert_eq!(status[1].state, State::Failed);
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    assert!(error.to_string().contains("did not finish"), "{error}");
    assert!(
        !db.table_exists("later").await,
        "a failed row blocks later upgrades"
    );
    // Rolling it back resolves it; the fixed file then applies.
    files.migrator().rollback(&db.pool).await.unwrap();
    assert!(!db.table_exists("outside").await);
    files.write("V2__outside.sql", "-- jetbase: no-transaction\nCREATE TABLE outside (id INTEGER);\n-- rollback\nDROP TABLE outside;");
    files.migrator().run(&db.pool).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
    let successes = db
        .pool
        .count("SELECT version FROM jetbase_migrations WHERE success = TRUE")
        .await;
    assert_eq!(successes, 3);
}
database_test!(
    no_transaction_migration_failure_leaves_a_failed_row,
    no_transaction_migration_failure_leaves_a_failed_row,
    also_on_databricks
);

async fn concurrent_runs_apply_each_version_once<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__t.sql", "CREATE TABLE hits (version VARCHAR(10));"),
        ("V2__a.sql", "INSERT INTO hits VALUES ('2');"),
        ("V3__b.sql", "INSERT INTO hits VALUES ('3');"),
        ("V4__c.sql", "INSERT INTO hits VALUES ('4');"),
    ]);
    // Generous: on the Databricks stand-in the holder's writes take a second each, shared with
    // the tests running beside it.
    let migrator = files.migrator().with_lock_timeout(Duration::from_secs(300));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let pool = db.another_pool().await;
        let migrator = migrator.clone();
        tasks.push(tokio::spawn(async move {
            migrator.run(&pool).await.map(|r| r.migrations.len())
        }));
    }
    let mut applied = 0;
    for task in tasks {
        applied += task.await.unwrap().unwrap();
    }
    assert_eq!(applied, 4, "each version applied by exactly one runner");
    assert_eq!(db.pool.count("SELECT version FROM hits").await, 3);
    assert_eq!(db.applied_versions().await, ["1", "2", "3", "4"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    concurrent_runs_apply_each_version_once,
    concurrent_runs_apply_each_version_once,
    also_on_databricks
);

async fn a_cancelled_run_releases_the_lock<P: Query>(db: &TestDb<P>) {
    let slow = match db.dialect {
        Dialect::Postgres => "SELECT pg_sleep(3);".to_owned(),
        Dialect::MySql => "SELECT SLEEP(3);".to_owned(),
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT COUNT(*) FROM c;".to_owned()
        }
        // Many short statements: the server of a cancelled client would go on with one long one
        // (fakesnow's DuckDB takes minutes over a recursive query).
        Dialect::Snowflake => "SELECT 1;\n".repeat(100),
        Dialect::ClickHouse => "SELECT sleep(1);\n".repeat(3),
        // One long statement, which the dropped run cancels on the warehouse (at worst Spark
        // ends it by itself within seconds).
        Dialect::Databricks => "SELECT SUM(id) FROM range(20000000000);".to_owned(),
    };
    let files = Files::new(&[("V1__slow.sql", slow.as_str())]);
    let migrator = files.migrator().with_lock_timeout(Duration::from_secs(30));
    let run = migrator.run(&db.pool);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), run)
            .await
            .is_err(),
        "the run was cut short"
    );
    // The dropped future's guard releases the lock in the background.
    let started = std::time::Instant::now();
    while !db.lock_is_free().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the lock was not released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fast = Files::new(&[("V1__fast.sql", "SELECT 1;")]);
    let other = db.another_pool().await;
    let next = fast
        .migrator()
        .with_lock_timeout(Duration::from_secs(5))
        .run(&other)
        .await;
    let cut_inside = db.table_exists("jetbase_migrations").await
        && db
            .pool
            .count("SELECT filename FROM jetbase_migrations WHERE filename = 'V1__slow.sql'")
            .await
            > 0;
    if db.pool.capabilities().transactions || !cut_inside {
        // Rolled back with its transaction, or cut before it began.
        next.unwrap();
    } else {
        // Without transactions, a migration cut after its row was written stays unfinished, and
        // the next run names it (after taking the freed lock).
        let error = next.unwrap_err();
        assert!(
            error.to_string().contains("V1__slow.sql")
                && error.to_string().contains("did not finish"),
            "{error}"
        );
    }
}
database_test!(
    a_cancelled_run_releases_the_lock,
    a_cancelled_run_releases_the_lock,
    also_on_databricks
);

async fn a_held_lock_times_out_naming_the_holder<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[("V1__a.sql", "CREATE TABLE a (id INTEGER);")]);
    files.migrator().dry_run_free_prepare(&db.pool).await;
    // The lock row without the history table: the history table is the holder's to create.
    db.pool.exec("DROP TABLE jetbase_migrations").await;
    // A Python Jetbase holder (a UUID process_id): waited for, never taken over.
    db.hold_lock_as("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
        .await;
    let started = std::time::Instant::now();
    let error = files
        .migrator()
        .with_lock_timeout(Duration::from_millis(700))
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(matches!(error, Error::LockTimeout { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        "{error}"
    );
    assert!(!db.table_exists("a").await);
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "a waiter creates no history table: on a Galera cluster its DDL would abort the \
         holder's history writes"
    );

    // A lock taken by hand (`jetbase lock`) whose process is gone: never taken over either.
    db.hold_lock_as("jb1:manual:0123456789abcdef").await;
    let error = files
        .migrator()
        .with_lock_timeout(Duration::from_millis(500))
        .run(&db.pool)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("jb1:manual:"), "{error}");
    // A dead automatic holder is taken over: at once where its session lock tells it is gone;
    // where there are no session locks (Snowflake), once its lease expired.
    db.hold_lock_as("jb1:4242:0123456789abcdef").await;
    let lease =
        jetbase::LockLease::new(Duration::from_millis(500), Duration::from_secs(2)).unwrap();
    let started = std::time::Instant::now();
    let recorder = common::recorder::Recorder::default();
    let taking_over = files
        .migrator()
        .with_lock_timeout(Duration::from_secs(10))
        .with_lock_lease(lease);
    recorder.record(taking_over.run(&db.pool)).await.unwrap();
    // The take-over, told to the logs: a WARN naming the dead holder.
    let events = recorder.take();
    let taken_over: Vec<_> = events
        .iter()
        .filter(|event| event.message == "took the migration lock over from a dead holder")
        .collect();
    assert_eq!(taken_over.len(), 1, "{events:#?}");
    assert_eq!(taken_over[0].level, tracing::Level::WARN);
    assert_eq!(
        taken_over[0].field("holder"),
        Some("jb1:4242:0123456789abcdef")
    );
    assert_eq!(
        taken_over[0].field("reason"),
        Some(if db.lock_is_leased() {
            "lease expired"
        } else {
            "session ended"
        }),
        "{:?}",
        taken_over[0]
    );
    if db.pool.capabilities().session_locks {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    } else {
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    assert!(db.table_exists("a").await);
    assert_eq!(
        db.applied_versions().await,
        ["1"],
        "the holder made the history table"
    );
    assert!(db.lock_is_free().await);
}
database_test!(
    a_held_lock_times_out_naming_the_holder,
    a_held_lock_times_out_naming_the_holder,
    also_on_databricks
);

/// Creates the jetbase tables through the public API: a migration that does nothing, applied
/// and rolled back.
trait Prepare {
    async fn dry_run_free_prepare<P: Query>(&self, pool: &P);
}

impl Prepare for jetbase::Migrator {
    async fn dry_run_free_prepare<P: Query>(&self, pool: &P) {
        let files = Files::new(&[("V0__nothing.sql", "SELECT 1;")]);
        files.migrator().run(pool).await.unwrap();
        files.migrator().rollback(pool).await.unwrap();
        let _ = self;
    }
}

/// `postgres_schema`: both tables, and the migrations' unqualified names, in that schema.
#[tokio::test]
async fn postgres_schema_holds_tables_and_migrations() {
    let db = common::postgres().await;
    let files = Files::new(&[
        (
            "V1__create.sql",
            "CREATE TABLE things (id INTEGER);\n-- rollback\nDROP TABLE things;",
        ),
        (
            "V2__no_transaction.sql",
            "-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY ix_things ON things (id);\n-- rollback\nDROP INDEX ix_things;",
        ),
    ]);
    let migrator = files.migrator().with_postgres_schema("app \"schema\"");
    assert!(
        migrator
            .status(&db.pool)
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == State::Pending)
    );
    migrator.run(&db.pool).await.unwrap();
    let in_schema = |table: &'static str| {
        format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'app \"schema\"' AND table_name = '{table}'"
        )
    };
    for table in ["jetbase_migrations", "jetbase_lock", "things"] {
        assert_eq!(
            db.pool.count(&in_schema(table)).await,
            1,
            "{table} is in the schema"
        );
    }
    assert!(!db.table_exists("things").await, "nothing in public");
    assert!(!db.table_exists("jetbase_migrations").await);
    let indexes = db
        .pool
        .count("SELECT indexname FROM pg_indexes WHERE schemaname = 'app \"schema\"' AND indexname = 'ix_things'")
        .await;
    assert_eq!(indexes, 1, "the no-transaction migration ran in the schema");
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
    // The public schema's view of the same database: nothing applied there.
    assert_eq!(
        files.migrator().status(&db.pool).await.unwrap()[0].state,
        State::Pending
    );
    migrator.rollback(&db.pool).count(2).await.unwrap();
    assert_eq!(db.pool.count(&in_schema("things")).await, 0);
}

async fn any_pool_migrates_like_the_pool_it_holds<P: Query>(db: &TestDb<P>) {
    let any = jetbase::AnyPool::connect(&db.url).await.unwrap();
    assert_eq!(jetbase::Database::dialect(&any), db.dialect);
    let migrator = ordered_files().migrator();
    assert_eq!(migrator.run(&any).await.unwrap().migrations.len(), 4);
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2", "10"]);
    assert!(migrator.run(&any).await.unwrap().migrations.is_empty());
    migrator.rollback(&any).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "1.1", "2"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    any_pool_migrates_like_the_pool_it_holds,
    any_pool_migrates_like_the_pool_it_holds
);

async fn the_fast_path_never_hides_a_change<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__t.sql", "CREATE TABLE t (id INTEGER);"),
        ("V2__row.sql", "INSERT INTO t (id) VALUES (2);"),
    ]);
    files.migrator().run(&db.pool).await.unwrap();
    // Another tool rolls V2 back behind jetbase's back: its row and its effect go.
    db.pool
        .exec("DELETE FROM jetbase_migrations WHERE version = '2'")
        .await;
    db.pool.exec("DELETE FROM t WHERE 1 = 1").await;
    let report = files.migrator().run(&db.pool).await.unwrap();
    assert_eq!(report.migrations.len(), 1, "V2 is pending again");
    assert_eq!(db.pool.count("SELECT id FROM t").await, 1);
    // An edited applied file is still caught.
    files.write("V1__t.sql", "CREATE TABLE t (id BIGINT);");
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error}");
    // A new file is still applied.
    files.write("V1__t.sql", "CREATE TABLE t (id INTEGER);");
    files.write("V3__more.sql", "INSERT INTO t (id) VALUES (3);");
    assert_eq!(
        files
            .migrator()
            .run(&db.pool)
            .await
            .unwrap()
            .migrations
            .len(),
        1
    );
}
database_test!(
    the_fast_path_never_hides_a_change,
    the_fast_path_never_hides_a_change,
    also_on_databricks
);

async fn odd_file_names_are_stored_exactly<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        (
            "V1__it's_$jb$_a_\\_name.sql",
            "CREATE TABLE odd (id INTEGER);",
        ),
        (
            "ROC__view_$$.sql",
            // Not a view: the Databricks stand-in's Iceberg catalog has none.
            "INSERT INTO odd (id) VALUES (1);",
        ),
    ]);
    files.migrator().run(&db.pool).await.unwrap();
    assert_eq!(
        db.pool
            .strings("SELECT description FROM jetbase_migrations ORDER BY order_executed")
            .await,
        ["it's $jb$ a \\ name", "view $$"]
    );
    assert_eq!(
        db.pool
            .strings("SELECT filename FROM jetbase_migrations ORDER BY order_executed")
            .await,
        ["V1__it's_$jb$_a_\\_name.sql", "ROC__view_$$.sql"]
    );
    assert!(
        files
            .migrator()
            .validate(&db.pool)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        files
            .migrator()
            .run(&db.pool)
            .await
            .unwrap()
            .migrations
            .is_empty()
    );
}
database_test!(
    odd_file_names_are_stored_exactly,
    odd_file_names_are_stored_exactly,
    also_on_databricks
);

/// Reading needs no write permission: `status`, `history` and `validate` work for a user who can
/// only read; an upgrade by that user fails with the database's refusal, and no panic.
#[tokio::test]
async fn read_only_user_can_read_status() {
    let db = common::postgres().await;
    let files = Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INTEGER);"),
        ("V2__b.sql", "CREATE TABLE b (id INTEGER);"),
    ]);
    files.migrator().upgrade(&db.pool).count(1).await.unwrap();
    let role = format!("jb_reader_{}", std::process::id());
    db.pool
        .exec(&format!(
            "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role}; \
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; REVOKE CREATE ON SCHEMA public FROM PUBLIC"
        ))
        .await;
    let reader_url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let reader = sqlx::PgPool::connect(&reader_url).await.unwrap();
    let migrator = files.migrator();
    let status = migrator.status(&reader).await.unwrap();
    assert_eq!(
        status.iter().map(|s| s.state).collect::<Vec<_>>(),
        [State::Applied, State::Pending]
    );
    assert_eq!(migrator.history(&reader).await.unwrap().len(), 1);
    assert!(migrator.validate(&reader).await.unwrap().is_empty());
    let error = migrator.run(&reader).await.unwrap_err();
    assert!(error.to_string().contains("database error"), "{error}");
    assert!(!db.table_exists("b").await);
}

/// Python Jetbase finds the latest version with `ORDER BY applied_at DESC LIMIT 1`: the rows of
/// one run must not tie, however fast the run (SQLite applies a run in one transaction, and its
/// default timestamp has whole seconds).
async fn applied_at_orders_the_rows_of_one_run<P: Query>(db: &TestDb<P>) {
    let bodies: Vec<(String, String)> = (1..=6)
        .map(|v| (format!("V{v}__step.sql"), format!("SELECT {v};")))
        .collect();
    let pairs: Vec<(&str, &str)> = bodies
        .iter()
        .map(|(name, body)| (name.as_str(), body.as_str()))
        .collect();
    let files = Files::new(&pairs);
    files.migrator().run(&db.pool).await.unwrap();
    let newest_first = db
        .pool
        .strings(
            "SELECT version FROM jetbase_migrations WHERE migration_type = 'VERSIONED' \
             ORDER BY applied_at DESC, order_executed ASC",
        )
        .await;
    assert_eq!(newest_first, ["6", "5", "4", "3", "2", "1"]);
}
database_test!(
    applied_at_orders_the_rows_of_one_run,
    applied_at_orders_the_rows_of_one_run
);

/// MariaDB commits DDL by itself: when the history row cannot be written after the migration's
/// statements ran (here a description the database's character set cannot hold), the error
/// says the migration may be partially applied, not that nothing of it remains; its table
/// is indeed there.
#[tokio::test]
async fn a_failed_history_write_after_ddl_says_partially_applied() {
    let db = common::mysql().await;
    db.pool
        .exec("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci")
        .await;
    let files = Files::new(&[("V1__日本語_テーブル.sql", "CREATE TABLE t1 (i INT);")]);
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    match &error {
        Error::MigrationFailed {
            partially_applied, ..
        } => assert!(*partially_applied, "{error}"),
        other => panic!("{other}"),
    }
    assert!(error.to_string().contains("PARTIALLY APPLIED"), "{error}");
    assert!(db.table_exists("t1").await);
}
