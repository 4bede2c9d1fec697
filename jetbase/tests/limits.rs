//! A migration's table-lock timeout, statement timeout and retries, against a real blocker: a
//! session that holds a lock on the table the migration changes (PostgreSQL: a transaction that
//! read it, the classic long transaction; MySQL/MariaDB: the same, which holds a metadata lock;
//! SQLite: a write transaction, which locks the whole file).
//!
//! On SQLite, PostgreSQL and MySQL/MariaDB (`common::database_test!`); the warehouses have no
//! table locks to wait for.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Dialect, Files, Query, TestDb};
use jetbase::{Error, Progress};

/// The table every body changes, with a row.
const SETUP: &str = "CREATE TABLE accounts (id INTEGER);\nINSERT INTO accounts (id) VALUES (1);";

/// A session of its own that takes a lock on `accounts` when told, and keeps it until
/// released.
struct Blocker<P> {
    session: P,
    dialect: Dialect,
}

impl<P: Query> Blocker<P> {
    async fn new(db: &TestDb<P>) -> Self {
        Self {
            session: db.pool.single_connection_pool(&db.url).await,
            dialect: db.dialect,
        }
    }

    /// Opens a transaction that holds a lock an `ALTER TABLE accounts` must wait for.
    async fn take(&self) {
        match self.dialect {
            // ACCESS SHARE (PostgreSQL) or a shared metadata lock (MySQL/MariaDB) until the
            // transaction ends: what a long-running read does to a migration.
            Dialect::Postgres | Dialect::MySql => {
                self.session.exec("BEGIN").await;
                self.session.exec("SELECT id FROM accounts").await;
            }
            // The database file's write lock.
            Dialect::Sqlite => {
                self.session.exec("BEGIN IMMEDIATE").await;
                self.session
                    .exec("INSERT INTO accounts (id) VALUES (2)")
                    .await;
            }
            other => panic!("no blocker for {other}"),
        }
    }

    /// Takes the lock from inside the run, just before its migration starts (after jetbase's
    /// own lock is taken, which on SQLite needs the file's write lock too).
    fn take_now(&self) {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(self.take());
        });
    }

    async fn release(&self) {
        self.session.exec("COMMIT").await;
    }
}

/// The migration that needs the lock: `table-lock-timeout=1s`, and `extra` directives.
fn files(extra: &str) -> Files {
    Files::new(&[
        ("V1__accounts.sql", SETUP),
        (
            "V2__add_balance.sql",
            &format!(
                "-- jetbase: table-lock-timeout=1s\n{extra}ALTER TABLE accounts ADD COLUMN balance INTEGER;\n"
            ),
        ),
    ])
}

/// Whether `accounts` has the column the migration adds.
async fn has_balance<P: Query>(db: &TestDb<P>) -> bool {
    db.pool
        .try_exec("SELECT balance FROM accounts")
        .await
        .is_ok()
}

async fn a_table_lock_timeout_fails_fast_and_lets_traffic_through<P: Query>(db: &TestDb<P>) {
    let files = files("");
    files.migrator().upgrade(&db.pool).count(1).await.unwrap();
    let blocker = Blocker::new(db).await;
    let reader = db.another_pool().await;
    let started = Instant::now();
    // A query that arrives while the migration waits for its lock; PostgreSQL and MySQL queue it
    // behind the migration (SQLite's readers do not wait for a writer).
    let taken = tokio::sync::Notify::new();
    let queued_read = async {
        taken.notified().await;
        if db.dialect == Dialect::Sqlite {
            // SQLite's readers do not queue; its whole file is locked, so the run's own lock
            // release waits for the blocker too: the blocker lets go at 1.5 s, after the
            // migration gave up at 1 s (without the timeout, the migration would wait for it
            // and succeed).
            tokio::time::sleep(Duration::from_millis(1500)).await;
            blocker.release().await;
            return Duration::ZERO;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        reader.count("SELECT id FROM accounts").await;
        asked.elapsed()
    };
    let migrator = files.migrator();
    let upgrade = migrator.upgrade(&db.pool).on_progress(|_: Progress<'_>| {
        blocker.take_now();
        taken.notify_one();
    });
    let upgrade = async {
        let result = tokio::time::timeout(Duration::from_secs(30), upgrade)
            .await
            .expect("the migration waited far longer than its table-lock timeout");
        (result, started.elapsed())
    };
    let ((result, failed_after), read_waited) = tokio::join!(upgrade, queued_read);
    let error = result.unwrap_err();
    if db.dialect != Dialect::Sqlite {
        blocker.release().await;
    }

    assert!(
        failed_after < Duration::from_secs(5),
        "failed after {failed_after:?}"
    );
    let Error::MigrationFailed {
        filename,
        lock_wait: Some(lock_wait),
        partially_applied,
        ..
    } = &error
    else {
        panic!("not a lock wait: {error}");
    };
    assert_eq!(filename, "V2__add_balance.sql");
    assert_eq!(lock_wait.table.as_deref(), Some("accounts"));
    assert_eq!(lock_wait.timeout, Some(Duration::from_secs(1)));
    assert_eq!(lock_wait.attempts, 1);
    assert!(!partially_applied);
    let message = error.to_string();
    assert!(
        message.contains(
            "could not get a lock on table `accounts` within its table-lock timeout of 1s"
        ),
        "{message}"
    );
    assert!(message.contains("retries=N"), "{message}");
    if db.dialect != Dialect::Sqlite {
        // Without the timeout, the read would wait for the blocker: until the end of this test.
        assert!(
            read_waited < Duration::from_millis(2500),
            "a read behind the migration waited {read_waited:?}"
        );
    }
    assert!(!has_balance(db).await, "nothing of V2 remains");
    assert_eq!(db.applied_versions().await, ["1"]);
    assert!(db.lock_is_free().await);
    // Once the blocker is gone, the same migration goes through, and the timeouts did not stay
    // on the connection for what runs after it.
    files.migrator().run(&db.pool).await.unwrap();
    assert!(has_balance(db).await);
}
database_test!(
    a_table_lock_timeout_fails_fast_and_lets_traffic_through,
    a_table_lock_timeout_fails_fast_and_lets_traffic_through,
    not_on_warehouses = "no table locks to wait for"
);

async fn retries_outlast_a_blocker<P: Query>(db: &TestDb<P>) {
    let files = files("-- jetbase: retries=3\n");
    files.migrator().upgrade(&db.pool).count(1).await.unwrap();
    let blocker = Blocker::new(db).await;
    let taken = tokio::sync::Notify::new();
    let retries = Mutex::new(Vec::new());
    let started = Instant::now();
    // The blocker lets go 2 s after it took the lock.
    let release_later = async {
        taken.notified().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        blocker.release().await;
    };
    let migrator = files.migrator();
    let upgrade = migrator
        .upgrade(&db.pool)
        .on_progress(|_: Progress<'_>| {
            blocker.take_now();
            taken.notify_one();
        })
        .on_retry(|retry: jetbase::Retry<'_>| {
            retries.lock().unwrap().push((
                retry.attempt,
                retry.attempts,
                retry.table.map(str::to_owned),
                retry.wait,
            ));
        });
    let recorder = common::recorder::Recorder::default();
    let upgrade = async {
        tokio::time::timeout(Duration::from_secs(60), recorder.record(upgrade))
            .await
            .expect("the retries did not end")
    };
    let (result, ()) = tokio::join!(upgrade, release_later);
    let report = result.unwrap();

    assert_eq!(report.migrations.len(), 1);
    assert!(has_balance(db).await);
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    let retries = retries.into_inner().unwrap();
    assert!(!retries.is_empty(), "it succeeded only on a retry");
    // The same retries, told to the logs: a WARN event each, with their fields.
    let events = recorder.take();
    let warned: Vec<_> = events
        .iter()
        .filter(|event| event.message == "lock timeout: trying the migration again")
        .collect();
    assert_eq!(warned.len(), retries.len(), "{events:#?}");
    for (event, (attempt, _, _, wait)) in warned.iter().zip(&retries) {
        assert_eq!(event.level, tracing::Level::WARN);
        assert_eq!(
            event.field("filename"),
            Some("V2__add_balance.sql"),
            "{event:?}"
        );
        assert_eq!(event.field("attempt"), Some(attempt.to_string().as_str()));
        assert_eq!(event.field("attempts"), Some("4"));
        assert_eq!(event.field("table"), Some("accounts"));
        assert_eq!(
            event.field("wait_ms"),
            Some(wait.as_millis().to_string().as_str())
        );
    }
    for (index, (attempt, attempts, table, wait)) in retries.iter().enumerate() {
        assert_eq!(*attempt, u32::try_from(index).unwrap() + 1);
        assert_eq!(*attempts, 4);
        assert_eq!(table.as_deref(), Some("accounts"));
        assert!(*wait <= Duration::from_secs(30));
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(db.lock_is_free().await);
}
database_test!(
    retries_outlast_a_blocker,
    retries_outlast_a_blocker,
    not_on_warehouses = "no table locks to wait for"
);

async fn other_errors_are_never_retried<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[(
        "V1__bad.sql",
        "-- jetbase: retries=5\nCREATE TABLE kept_out (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )]);
    let retried = Mutex::new(0);
    let started = Instant::now();
    let error = files
        .migrator()
        .upgrade(&db.pool)
        .on_retry(|_: jetbase::Retry<'_>| *retried.lock().unwrap() += 1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::MigrationFailed {
                lock_wait: None,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(*retried.lock().unwrap(), 0);
    assert!(started.elapsed() < Duration::from_secs(5));
}
database_test!(
    other_errors_are_never_retried,
    other_errors_are_never_retried,
    not_on_warehouses = "the bodies above are about lock waits"
);

async fn a_statement_timeout_stops_a_long_statement<P: Query>(db: &TestDb<P>) {
    let sleep = match db.dialect {
        Dialect::Postgres => "SELECT pg_sleep(10);",
        Dialect::MySql => "SELECT SLEEP(10);",
        // SQLite has no statement timeout: the directive is accepted and has no effect (the
        // README and `jetbase lint` say so).
        Dialect::Sqlite => "SELECT 1;",
        other => panic!("not for {other}"),
    };
    let files = Files::new(&[(
        "V1__slow.sql",
        &format!("-- jetbase: statement-timeout=1s\nCREATE TABLE slow (id INTEGER);\n{sleep}\n"),
    )]);
    let started = Instant::now();
    let result = files.migrator().run(&db.pool).await;
    let elapsed = started.elapsed();
    if db.dialect == Dialect::Sqlite {
        result.unwrap();
        assert_eq!(db.applied_versions().await, ["1"]);
        return;
    }
    let error = result.unwrap_err();
    assert!(
        elapsed < Duration::from_secs(8),
        "stopped after {elapsed:?}"
    );
    let Error::MigrationFailed {
        line, lock_wait, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(*line, 3);
    assert_eq!(*lock_wait, None, "a statement timeout is not a lock wait");
    assert!(db.applied_versions().await.is_empty());
    assert!(db.lock_is_free().await);
}
database_test!(
    a_statement_timeout_stops_a_long_statement,
    a_statement_timeout_stops_a_long_statement,
    not_on_warehouses = "no statement timeouts are set there"
);

async fn defaults_come_from_the_migrator<P: Query>(db: &TestDb<P>) {
    // The same lock wait as above, with the timeout from the migrator instead of the file.
    let files = Files::new(&[
        ("V1__accounts.sql", SETUP),
        (
            "V2__add_balance.sql",
            "ALTER TABLE accounts ADD COLUMN balance INTEGER;\n",
        ),
    ]);
    files.migrator().upgrade(&db.pool).count(1).await.unwrap();
    let blocker = Blocker::new(db).await;
    let migrator = files
        .migrator()
        .with_table_lock_timeout(Duration::from_millis(800));
    let upgrade = migrator
        .upgrade(&db.pool)
        .on_progress(|_: Progress<'_>| blocker.take_now());
    let error = tokio::time::timeout(Duration::from_secs(30), upgrade)
        .await
        .expect("the default table-lock timeout was not applied")
        .unwrap_err();
    blocker.release().await;
    let Error::MigrationFailed {
        lock_wait: Some(lock_wait),
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(lock_wait.timeout, Some(Duration::from_millis(800)));
}
database_test!(
    defaults_come_from_the_migrator,
    defaults_come_from_the_migrator,
    not_on_warehouses = "no table locks to wait for"
);
