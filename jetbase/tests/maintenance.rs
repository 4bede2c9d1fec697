//! The lock taken by hand, the repair of the history and the progress callback, on SQLite,
//! PostgreSQL and MySQL/MariaDB (see `common::database_test!`).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{Files, Query, TestDb, unique_name, with_database};
use jetbase::{CheckStep, Dialect, Error, PlanError, State};

fn two_versions() -> Files {
    Files::new(&[
        (
            "V1__create_items.sql",
            "CREATE TABLE items (id INTEGER NOT NULL);\n-- rollback\nDROP TABLE items;",
        ),
        (
            "V2__first_item.sql",
            "INSERT INTO items (id) VALUES (1);\n-- rollback\nDELETE FROM items WHERE id = 1;",
        ),
    ])
}

async fn a_manual_lock_holds_until_unlocked<P: Query>(db: &TestDb<P>) {
    let files = two_versions();
    let migrator = files
        .migrator()
        .with_lock_timeout(Duration::from_millis(300));
    // Read-only on an empty database: unlocked, nothing created; unlock creates nothing either.
    assert!(!migrator.lock_status(&db.pool).await.unwrap().locked);
    assert!(!migrator.unlock(&db.pool).await.unwrap());
    assert!(!db.table_exists("jetbase_lock").await);

    let process_id = migrator.lock(&db.pool).await.unwrap();
    assert!(process_id.starts_with("jb1:manual:"), "{process_id}");
    let status = migrator.lock_status(&db.pool).await.unwrap();
    assert!(status.locked && status.manual, "{status:?}");
    assert_eq!(status.process_id.as_deref(), Some(process_id.as_str()));
    assert!(status.locked_at.is_some());

    // The lock outlives the pool that took it: an upgrade on a new pool waits, then fails.
    let other = db.another_pool().await;
    let error = migrator.run(&other).await.unwrap_err();
    assert!(
        matches!(&error, Error::LockTimeout { holder, .. } if holder == &process_id),
        "{error}"
    );
    assert!(!db.table_exists("items").await);
    // A second manual lock waits as well.
    assert!(matches!(
        migrator.lock(&other).await,
        Err(Error::LockTimeout { .. })
    ));

    assert!(migrator.unlock(&other).await.unwrap());
    assert!(!migrator.lock_status(&db.pool).await.unwrap().locked);
    assert!(
        !migrator.unlock(&other).await.unwrap(),
        "nothing left to free"
    );
    migrator.run(&other).await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    a_manual_lock_holds_until_unlocked,
    a_manual_lock_holds_until_unlocked,
    also_on_databricks
);

/// A migration that takes a few seconds on `dialect`; on SQLite one that writes, so that the
/// run holds the database's write lock and a reader of the lock row waits (the lock row then
/// read as unlocked once the run was over: `lock-status` said UNLOCKED during every upgrade).
fn slow_migration(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT pg_sleep(3);",
        Dialect::MySql => "SELECT SLEEP(3);",
        Dialect::ClickHouse => "SELECT sleep(1.5);\nSELECT sleep(1.5);",
        Dialect::Sqlite => {
            "CREATE TABLE t (id INTEGER, pad TEXT);\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL \
             SELECT x + 1 FROM c WHERE x < 4000000) INSERT INTO t SELECT x, hex(randomblob(40)) FROM c;"
        }
        Dialect::Snowflake | Dialect::Databricks => unreachable!("not run there"),
    }
}

async fn lock_status_sees_a_running_upgrade<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[("V1__slow.sql", slow_migration(db.dialect))]);
    let migrator = files.migrator();
    let run = tokio::spawn({
        let migrator = migrator.clone();
        let pool = db.pool.clone();
        async move { migrator.run(&pool).await }
    });
    let other = db.another_pool().await;
    let mut seen = None;
    while !run.is_finished() {
        let status = migrator.lock_status(&other).await.unwrap();
        if status.locked {
            seen = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    run.await.unwrap().unwrap();
    let seen = seen.expect("lock_status said unlocked for the whole upgrade");
    assert!(!seen.manual, "{seen:?}");
    assert!(!migrator.lock_status(&other).await.unwrap().locked);
}
database_test!(
    lock_status_sees_a_running_upgrade,
    lock_status_sees_a_running_upgrade,
    not_on_snowflake = "fakesnow (DuckDB) has no function that waits"
);

async fn repair_accepts_edits_and_forgets_missing_files<P: Query>(db: &TestDb<P>) {
    let files = two_versions();
    files.write("RA__refresh.sql", "SELECT 1;");
    files.migrator().run(&db.pool).await.unwrap();
    files.write(
        "V1__create_items.sql",
        "CREATE TABLE items (id INTEGER NOT NULL); -- edited\n-- rollback\nDROP TABLE items;",
    );
    files.remove("V2__first_item.sql");
    files.remove("RA__refresh.sql");
    let migrator = files.migrator();
    let problems = migrator.validate(&db.pool).await.unwrap();
    assert_eq!(problems.len(), 3, "{problems:?}");

    // A dry run reports and writes nothing.
    let planned = migrator.repair(&db.pool).dry_run(true).await.unwrap();
    assert!(planned.dry_run);
    assert_eq!(planned.checksums_updated.len(), 1);
    assert_eq!(planned.rows_removed.len(), 2);
    assert_eq!(migrator.validate(&db.pool).await.unwrap().len(), 3);

    // Only the checksums.
    let report = migrator.repair(&db.pool).files(false).await.unwrap();
    assert_eq!(report.checksums_updated.len(), 1);
    assert!(report.rows_removed.is_empty());
    let fixed = &report.checksums_updated[0];
    assert_eq!(fixed.filename, "V1__create_items.sql");
    assert_eq!(
        fixed.new_checksum.as_deref(),
        Some(migrator.migrations()[0].checksum())
    );
    assert_ne!(fixed.old_checksum, fixed.new_checksum);
    let problems = migrator.validate(&db.pool).await.unwrap();
    // The highest version's file gone reads as a newer release's row; the repair of files
    // forgets both.
    assert!(
        problems.iter().all(|p| matches!(
            p,
            PlanError::MissingFile { .. } | PlanError::NewerDatabase { .. }
        )),
        "{problems:?}"
    );

    // Then the files: rows go, the schema stays.
    let report = migrator.repair(&db.pool).checksums(false).await.unwrap();
    let removed: Vec<&str> = report
        .rows_removed
        .iter()
        .map(|r| r.filename.as_str())
        .collect();
    assert_eq!(removed, ["V2__first_item.sql", "RA__refresh.sql"]);
    assert!(migrator.validate(&db.pool).await.unwrap().is_empty());
    assert_eq!(db.applied_versions().await, ["1"]);
    assert_eq!(db.pool.count("SELECT id FROM items").await, 1);
    assert!(db.lock_is_free().await);
    let states: Vec<State> = migrator
        .status(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(states, [State::Applied]);
    // Nothing left: a repair is a no-op, and the fast path still sees an up-to-date database.
    assert!(migrator.repair(&db.pool).await.unwrap().is_empty());
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
}
database_test!(
    repair_accepts_edits_and_forgets_missing_files,
    repair_accepts_edits_and_forgets_missing_files,
    also_on_databricks
);

async fn progress_is_reported_before_each_migration<P: Query>(db: &TestDb<P>) {
    let files = two_versions();
    let migrator = files.migrator();
    let seen = Mutex::new(Vec::new());
    migrator
        .upgrade(&db.pool)
        .on_progress(|p| {
            seen.lock()
                .unwrap()
                .push((p.done, p.total, p.filename.to_owned()));
        })
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (0, 2, "V1__create_items.sql".to_owned()),
            (1, 2, "V2__first_item.sql".to_owned())
        ]
    );
    seen.lock().unwrap().clear();
    migrator
        .rollback(&db.pool)
        .count(2)
        .on_progress(|p| {
            seen.lock()
                .unwrap()
                .push((p.done, p.total, p.filename.to_owned()))
        })
        .await
        .unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (0, 2, "V2__first_item.sql".to_owned()),
            (1, 2, "V1__create_items.sql".to_owned())
        ]
    );
}
database_test!(
    progress_is_reported_before_each_migration,
    progress_is_reported_before_each_migration
);

async fn baseline_records_without_running<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INTEGER);"),
        ("V2__b.sql", "CREATE TABLE b (id INTEGER);"),
        ("V3__c.sql", "CREATE TABLE c (id INTEGER);"),
        ("RA__r.sql", "SELECT 1;"),
    ]);
    let migrator = files.migrator();
    let refused = |error: Error| match error {
        Error::BaselineRefused { message } => message,
        other => panic!("not a refusal: {other}"),
    };
    let message = refused(migrator.baseline(&db.pool, "9").await.unwrap_err());
    assert!(
        message.contains("no migration file has version 9"),
        "{message}"
    );
    assert!(matches!(
        migrator.baseline(&db.pool, "x").await,
        Err(Error::InvalidVersion { .. })
    ));

    let report = migrator.baseline(&db.pool, "2").await.unwrap();
    let recorded: Vec<&str> = report
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(recorded, ["V1__a.sql", "V2__b.sql"]);
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    assert!(!db.table_exists("a").await, "recorded, not run");
    assert!(db.lock_is_free().await);
    // The rows carry the files' checksums: validation passes, and the upgrade runs the rest.
    assert!(migrator.validate(&db.pool).await.unwrap().is_empty());
    let applied = migrator.run(&db.pool).await.unwrap();
    let ran: Vec<&str> = applied
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(ran, ["V3__c.sql", "RA__r.sql"]);
    assert!(db.table_exists("c").await && !db.table_exists("b").await);

    // Below what the database has, or over what it recorded: refused, nothing written.
    let message = refused(migrator.baseline(&db.pool, "1").await.unwrap_err());
    assert!(
        message.contains("already has version 3, later than 1"),
        "{message}"
    );
    let message = refused(migrator.baseline(&db.pool, "3").await.unwrap_err());
    assert!(
        message.contains("already recorded in the history (V1__a.sql, V2__b.sql, V3__c.sql)"),
        "{message}"
    );
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
    assert!(db.lock_is_free().await);
}
database_test!(
    baseline_records_without_running,
    baseline_records_without_running
);

async fn wait_until_current_returns_once_migrated<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INTEGER);"),
        ("V2__b.sql", "CREATE TABLE b (id INTEGER);"),
    ]);
    let migrator = files.migrator();
    // Nothing applied: it times out, naming what is pending, and writes nothing.
    let error = migrator
        .wait_until_current(&db.pool, Duration::from_millis(300))
        .poll_every(Duration::from_millis(100))
        .await
        .unwrap_err();
    let Error::NotCurrent { pending, waited } = &error else {
        panic!("{error}");
    };
    assert_eq!(pending, &["V1__a.sql", "V2__b.sql"]);
    assert!(*waited >= Duration::from_millis(300));
    assert!(
        error
            .to_string()
            .contains("2 migrations pending (V1__a.sql, V2__b.sql)"),
        "{error}"
    );
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "a wait writes nothing"
    );

    // A replica waits while the migration job runs, and goes on when it is done.
    let replica = async {
        migrator
            .wait_until_current(&db.pool, Duration::from_secs(60))
            .poll_every(Duration::from_millis(100))
            .await
    };
    let job = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        migrator.upgrade(&db.pool).count(1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        migrator.run(&db.pool).await.unwrap();
    };
    let (waited, ()) = tokio::join!(replica, job);
    let waited = waited.unwrap();
    assert!(waited >= Duration::from_millis(1200), "{waited:?}");
    assert_eq!(db.applied_versions().await, ["1", "2"]);
    // Current: at once.
    let waited = migrator
        .wait_until_current(&db.pool, Duration::ZERO)
        .await
        .unwrap();
    assert!(waited < Duration::from_secs(5));
}
database_test!(
    wait_until_current_returns_once_migrated,
    wait_until_current_returns_once_migrated
);

/// What a rehearsal must leave as it found it: the history, the lock row and the schema.
async fn snapshot<P: Query>(db: &TestDb<P>, migrator: &jetbase::Migrator) -> String {
    let status = migrator.status(&db.pool).await.unwrap();
    let lock = migrator.lock_status(&db.pool).await.unwrap();
    let schema = if db.pool.capabilities().transactional_ddl || db.dialect == Dialect::MySql {
        format!("{:?}", jetbase::schema::introspect(&db.pool).await.unwrap())
    } else {
        String::new()
    };
    format!("{status:?}\n{lock:?}\n{schema}")
}

async fn rehearse_runs_the_migrations_and_leaves_nothing<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        (
            "V1__create_items.sql",
            "CREATE TABLE items (id INTEGER NOT NULL);\n-- rollback\nDROP TABLE items;",
        ),
        (
            "V2__add_note.sql",
            "ALTER TABLE items ADD COLUMN note VARCHAR(20);\n\
             CREATE INDEX ix_items_note ON items (note);\n\
             -- rollback\nDROP INDEX ix_items_note;\nALTER TABLE items DROP COLUMN note;",
        ),
        (
            "V3__first_item.sql",
            "INSERT INTO items (id, note) VALUES (1, 'one');\n-- rollback\nDELETE FROM items;",
        ),
        (
            "V4__broken.sql",
            "INSERT INTO items (id) VALUES (2);\n\nINSERT INTO no_such_table (id) VALUES (3);\n",
        ),
    ]);
    let migrator = files.migrator();
    migrator.upgrade(&db.pool).to_version("1").await.unwrap();
    let before = snapshot(db, &migrator).await;

    let result = migrator.upgrade(&db.pool).to_version("3").rehearse().await;
    if !db.pool.capabilities().transactional_ddl {
        let error = result.unwrap_err();
        assert!(matches!(error, Error::Refused { .. }), "{error}");
        assert!(error.to_string().contains("cannot undo"), "{error}");
        assert_eq!(snapshot(db, &migrator).await, before);
        return;
    }
    let rehearsal = result.unwrap();
    assert!(rehearsal.succeeded(), "{rehearsal:?}");
    let ran: Vec<&str> = rehearsal
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(ran, ["V2__add_note.sql", "V3__first_item.sql"]);
    assert_eq!(rehearsal.migrations[0].statements, 2);
    assert_eq!(rehearsal.on_copy, db.dialect == Dialect::Sqlite);
    let locks = |index: usize| -> Vec<String> {
        rehearsal.migrations[index]
            .locks
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    if db.dialect == Dialect::Postgres {
        // ADD COLUMN takes the table whole; CREATE INDEX a share lock; the INSERT, run while
        // those are held, still shows the mode it takes.
        assert_eq!(
            locks(0),
            [
                "AccessExclusiveLock on public.items",
                "ShareLock on public.items"
            ]
        );
        assert_eq!(locks(1), ["RowExclusiveLock on public.items"]);
    } else {
        assert!(locks(0).is_empty());
    }
    assert_eq!(snapshot(db, &migrator).await, before);

    // The first failure ends it, with its file and line; still nothing remains.
    let rehearsal = migrator.upgrade(&db.pool).rehearse().await.unwrap();
    assert!(!rehearsal.succeeded());
    assert_eq!(rehearsal.migrations.len(), 2);
    let failure = rehearsal.failure.as_ref().unwrap();
    assert_eq!(failure.filename, "V4__broken.sql");
    assert_eq!(failure.line, 3);
    assert!(failure.statement.contains("no_such_table"), "{failure:?}");
    assert!(failure.message.contains("no_such_table"), "{failure:?}");
    assert_eq!(snapshot(db, &migrator).await, before);
    assert_eq!(db.applied_versions().await, ["1"]);

    // A no-transaction migration cannot be rehearsed in a transaction: refused up front.
    files.write(
        "V5__concurrent.sql",
        "-- jetbase: no-transaction\nINSERT INTO items (id) VALUES (5);\n",
    );
    let error = files
        .migrator()
        .upgrade(&db.pool)
        .rehearse()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Refused { .. }), "{error}");
    assert!(error.to_string().contains("V5__concurrent.sql"), "{error}");

    // The rehearsed migrations then run for real, as rehearsed.
    migrator.upgrade(&db.pool).to_version("3").await.unwrap();
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
}
database_test!(
    rehearse_runs_the_migrations_and_leaves_nothing,
    rehearse_runs_the_migrations_and_leaves_nothing
);

/// The rollback-check corpus: one rollback forgets an index, one a default, one file has no
/// rollback, one is right, one fails.
fn rollback_corpus() -> Files {
    Files::new(&[
        (
            "V1__create_users.sql",
            "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100), \
             legacy VARCHAR(20) DEFAULT 'x');\n-- rollback\nDROP TABLE users;",
        ),
        (
            "V2__drop_legacy.sql",
            "ALTER TABLE users DROP COLUMN legacy;\n\
             -- rollback\nALTER TABLE users ADD COLUMN legacy VARCHAR(20);",
        ),
        ("V3__create_tags.sql", "CREATE TABLE tags (id INTEGER);"),
        (
            "V4__create_notes.sql",
            "CREATE TABLE notes (id INTEGER NOT NULL);\n-- rollback\nDROP TABLE notes;",
        ),
        (
            "V5__create_labels.sql",
            "CREATE TABLE labels (id INTEGER);\n-- rollback\n\nDROP TABLE no_such_table;",
        ),
        (
            "V6__nickname_and_email_index.sql",
            "ALTER TABLE users ADD COLUMN nickname VARCHAR(50);\n\
             CREATE INDEX ix_users_email ON users (email);\n\
             -- rollback\nALTER TABLE users DROP COLUMN nickname;",
        ),
    ])
}

async fn check_rollbacks_finds_what_a_rollback_forgets<P: Query>(db: &TestDb<P>) {
    let files = rollback_corpus();
    let migrator = files.migrator();
    migrator.upgrade(&db.pool).to_version("1").await.unwrap();
    let before = snapshot(db, &migrator).await;
    let result = migrator.check_rollbacks(&db.pool).await;
    let mut scratch = None;
    let check = match db.dialect {
        Dialect::Postgres | Dialect::Sqlite => result.unwrap(),
        Dialect::MySql => {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::Refused { .. }), "{error}");
            assert!(error.to_string().contains("scratch database"), "{error}");
            let name = unique_name();
            db.pool.exec(&format!("CREATE DATABASE {name}")).await;
            let pool = db.pool.new_pool(&with_database(&db.url, &name)).await;
            let check = migrator
                .check_rollbacks(&db.pool)
                .on_scratch(&pool)
                .await
                .unwrap();
            scratch = Some((name, pool));
            check
        }
        _ => {
            let error = result.unwrap_err();
            assert!(
                error.to_string().starts_with("rollback check refused"),
                "{error}"
            );
            assert_eq!(snapshot(db, &migrator).await, before);
            return;
        }
    };
    assert!(!check.passed());
    // The default the rollback forgot.
    let default = &check.migrations[0];
    assert_eq!(default.filename, "V2__drop_legacy.sql");
    assert_eq!(default.differences.len(), 1, "{default:?}");
    let difference = &default.differences[0];
    assert!(
        difference.starts_with("column users.legacy is ")
            && difference.contains("no default, was ")
            && difference.contains("default "),
        "{difference}"
    );
    assert!(default.failure.is_none(), "{default:?}");
    let no_rollback = &check.migrations[1];
    assert_eq!(no_rollback.filename, "V3__create_tags.sql");
    assert!(!no_rollback.has_rollback_sql && !no_rollback.restored());
    let right = &check.migrations[2];
    assert_eq!(right.filename, "V4__create_notes.sql");
    assert!(right.restored(), "{right:?}");
    let failing = &check.migrations[3];
    assert_eq!(failing.filename, "V5__create_labels.sql");
    let broken = failing.failure.as_ref().unwrap();
    assert_eq!((broken.step, broken.line), (CheckStep::Rollback, 4));
    assert!(broken.message.contains("no_such_table"), "{broken:?}");
    if db.dialect == Dialect::MySql {
        // On a scratch database nothing undoes a failed step: the check ends there.
        assert_eq!(check.migrations.len(), 4, "{check:#?}");
        assert_eq!(check.not_reached, ["V6__nickname_and_email_index.sql"]);
    } else {
        assert_eq!(check.migrations.len(), 5, "{check:#?}");
        assert!(check.not_reached.is_empty());
        // The index the rollback forgot remains, and so the upgrade cannot run again.
        let index = &check.migrations[4];
        assert_eq!(
            index.differences,
            ["index ix_users_email on users (email) remains"]
        );
        let again = index.failure.as_ref().unwrap();
        assert_eq!((again.step, again.line), (CheckStep::UpgradeAgain, 2));
        assert!(again.message.contains("ix_users_email"), "{again:?}");
    }
    // The database itself is as it was.
    assert_eq!(snapshot(db, &migrator).await, before);
    assert_eq!(db.applied_versions().await, ["1"]);

    // A corrected corpus passes.
    files.write(
        "V6__nickname_and_email_index.sql",
        "ALTER TABLE users ADD COLUMN nickname VARCHAR(50);\n\
         CREATE INDEX ix_users_email ON users (email);\n\
         -- rollback\nDROP INDEX ix_users_email{on_users};\nALTER TABLE users DROP COLUMN nickname;"
            .replace(
                "{on_users}",
                if db.dialect == Dialect::MySql {
                    " ON users"
                } else {
                    ""
                },
            )
            .as_str(),
    );
    files.write(
        "V2__drop_legacy.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n\
         -- rollback\nALTER TABLE users ADD COLUMN legacy VARCHAR(20) DEFAULT 'x';",
    );
    files.write(
        "V3__create_tags.sql",
        "CREATE TABLE tags (id INTEGER);\n-- rollback\nDROP TABLE tags;",
    );
    files.remove("V5__create_labels.sql");
    let fixed = files.migrator();
    let check = match &scratch {
        Some((name, pool)) => {
            // A scratch database is left with what the check did: a new one.
            let _ = name;
            let again = unique_name();
            db.pool.exec(&format!("CREATE DATABASE {again}")).await;
            let fresh = pool.new_pool(&with_database(&db.url, &again)).await;
            let check = fixed
                .check_rollbacks(&db.pool)
                .on_scratch(&fresh)
                .await
                .unwrap();
            fresh.close_pool().await;
            db.pool.exec(&format!("DROP DATABASE {again}")).await;
            check
        }
        None => fixed.check_rollbacks(&db.pool).await.unwrap(),
    };
    assert!(check.passed(), "{check:#?}");
    assert_eq!(check.migrations.len(), 4);
    if let Some((name, pool)) = scratch {
        pool.close_pool().await;
        db.pool.exec(&format!("DROP DATABASE {name}")).await;
    }
}
database_test!(
    check_rollbacks_finds_what_a_rollback_forgets,
    check_rollbacks_finds_what_a_rollback_forgets
);

/// A migration that drops jetbase's lock table (by mistake, or a hostile one): every migration
/// ran and is recorded, and finishing the run (the digest, the release) fails. The error says
/// what was applied, not only what failed.
async fn a_failure_after_the_migrations_says_what_was_applied<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[
        ("V1__items.sql", "CREATE TABLE items (id INTEGER);"),
        ("V2__drop_the_lock.sql", "DROP TABLE jetbase_lock;"),
    ]);
    let error = files.migrator().run(&db.pool).await.unwrap_err();
    match &error {
        Error::AfterRun {
            direction, done, ..
        } => {
            assert_eq!(*direction, jetbase::Direction::Upgrade);
            assert_eq!(done, &["V1__items.sql", "V2__drop_the_lock.sql"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().starts_with(
            "2 migrations were applied (V1__items.sql, V2__drop_the_lock.sql), and the history \
             says so, but finishing the run failed"
        ),
        "{error}"
    );
    assert_eq!(db.applied_versions().await, ["1", "2"]);
}
database_test!(
    a_failure_after_the_migrations_says_what_was_applied,
    a_failure_after_the_migrations_says_what_was_applied,
    not_on_warehouses = "a lock table dropped under a lease is the lease's lost-lock case"
);
