//! Several migration sets in one database, each with its own history and lock tables
//! (`Migrator::with_table_names`): two services sharing a database, or a library crate's
//! migrations beside the application's. On every database (`common::database_test!`).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Files, Query, TestDb};
use jetbase::{Error, MigrationStatus};

fn app_files() -> Files {
    Files::new(&[
        (
            "V1__create_app_items.sql",
            "CREATE TABLE app_items (id INTEGER);\n-- rollback\nDROP TABLE app_items;",
        ),
        (
            "V2__first_app_item.sql",
            "INSERT INTO app_items (id) VALUES (1);\n-- rollback\nDELETE FROM app_items WHERE id = 1;",
        ),
    ])
}

fn billing_files() -> Files {
    Files::new(&[
        (
            "V1__create_invoices.sql",
            "CREATE TABLE invoices (id INTEGER);\n-- rollback\nDROP TABLE invoices;",
        ),
        (
            "V2__first_invoice.sql",
            "INSERT INTO invoices (id) VALUES (1);\n-- rollback\nDELETE FROM invoices WHERE id = 1;",
        ),
        (
            "V3__second_invoice.sql",
            "INSERT INTO invoices (id) VALUES (2);\n-- rollback\nDELETE FROM invoices WHERE id = 2;",
        ),
    ])
}

fn filenames(status: &[MigrationStatus]) -> Vec<(String, String)> {
    status
        .iter()
        .map(|entry| (entry.filename.clone(), format!("{:?}", entry.state)))
        .collect()
}

async fn two_migration_sets_share_a_database<P: Query>(db: &TestDb<P>) {
    let app_dir = app_files();
    let billing_dir = billing_files();
    let app = app_dir.migrator().with_pooler(db.pooler);
    let billing_migrator = |files: &Files| {
        files
            .migrator()
            .with_pooler(db.pooler)
            .with_table_names("billing_migrations", "billing_lock")
            .with_lock_timeout(Duration::from_secs(60))
    };
    let billing = billing_migrator(&billing_dir);

    // Each applies its own, into its own history.
    assert_eq!(app.run(&db.pool).await.unwrap().migrations.len(), 2);
    assert_eq!(billing.run(&db.pool).await.unwrap().migrations.len(), 3);
    assert!(db.table_exists("billing_migrations").await);
    assert!(db.table_exists("billing_lock").await);
    let app_history = app.history(&db.pool).await.unwrap();
    let billing_history = billing.history(&db.pool).await.unwrap();
    assert_eq!(app_history.len(), 2);
    assert_eq!(billing_history.len(), 3);
    assert!(
        billing_history
            .iter()
            .all(|row| row.filename.contains("invoice")),
        "{billing_history:?}"
    );
    assert_eq!(
        db.applied_versions().await,
        ["1", "2"],
        "the default tables: the app's"
    );

    // Up to date each, and neither sees the other's rows as missing files.
    assert!(app.run(&db.pool).await.unwrap().migrations.is_empty());
    assert!(billing.run(&db.pool).await.unwrap().migrations.is_empty());
    for (migrator, count) in [(&app, 2), (&billing, 3)] {
        let status = migrator.status(&db.pool).await.unwrap();
        assert_eq!(status.len(), count);
        assert!(
            status
                .iter()
                .all(|entry| entry.state == jetbase::State::Applied),
            "{:?}",
            filenames(&status)
        );
        assert!(migrator.validate(&db.pool).await.unwrap().is_empty());
    }

    // Independent locks: the app's lock held by hand does not stop billing.
    let holder = app.lock(&db.pool).await.unwrap();
    billing_dir.write(
        "V4__third_invoice.sql",
        "INSERT INTO invoices (id) VALUES (3);\n-- rollback\nDELETE FROM invoices WHERE id = 3;",
    );
    let billing = billing_migrator(&billing_dir);
    assert_eq!(billing.run(&db.pool).await.unwrap().migrations.len(), 1);
    assert!(!billing.lock_status(&db.pool).await.unwrap().locked);
    let app_lock = app.lock_status(&db.pool).await.unwrap();
    assert!(app_lock.locked);
    assert_eq!(app_lock.process_id.as_deref(), Some(holder.as_str()));
    // ... and the app's own run waits for it.
    let error = app
        .clone()
        .with_lock_timeout(Duration::from_millis(300))
        .rollback(&db.pool)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::LockTimeout { .. }), "{error}");
    assert!(app.unlock(&db.pool).await.unwrap());

    // ... and a live run of one set (holding its lock and, where the database has one, its
    // session lock) does not hold the other back: billing applies while the app's run is
    // stopped inside its first migration. Not on SQLite, where one writer at a time is the
    // database's own rule (the app's run transaction holds it).
    if db.dialect != common::Dialect::Sqlite {
        app_dir.write(
            "V3__second_app_item.sql",
            "INSERT INTO app_items (id) VALUES (2);\n-- rollback\nDELETE FROM app_items WHERE id = 2;",
        );
        billing_dir.write(
            "V5__fourth_invoice.sql",
            "INSERT INTO invoices (id) VALUES (4);\n-- rollback\nDELETE FROM invoices WHERE id = 4;",
        );
        let app = app_dir.migrator().with_pooler(db.pooler);
        let billing = billing_migrator(&billing_dir);
        let (done, billing_done) = std::sync::mpsc::channel::<usize>();
        let billing_done = std::sync::Mutex::new(billing_done);
        let pool = db.pool.clone();
        // Billing starts once the app's run holds its lock (inside its first migration).
        let app_inside = std::sync::Arc::new(tokio::sync::Notify::new());
        let inside = app_inside.clone();
        let billing_run = tokio::spawn(async move {
            inside.notified().await;
            billing.run(&pool).await.map(|r| r.migrations.len())
        });
        let forwarded = tokio::spawn(async move {
            let applied = billing_run.await.unwrap().unwrap();
            done.send(applied).unwrap();
        });
        let waited = std::sync::Mutex::new(None);
        app.upgrade(&db.pool)
            .on_progress(|_| {
                app_inside.notify_one();
                // Blocks this run, inside its lock, until billing finished (or 30 s).
                let applied = billing_done
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(30));
                *waited.lock().unwrap() = Some(applied);
            })
            .await
            .unwrap();
        forwarded.await.unwrap();
        assert_eq!(
            waited.into_inner().unwrap(),
            Some(Ok(1)),
            "billing applied while the app's run held its lock"
        );
    }

    // A rollback of one set touches only its own.
    let billing = billing_migrator(&billing_dir);
    let app = app_dir.migrator().with_pooler(db.pooler);
    let billing_rows = billing.history(&db.pool).await.unwrap().len();
    let app_rows = app.history(&db.pool).await.unwrap().len();
    let invoices = db.pool.count("SELECT id FROM invoices").await;
    let app_items = db.pool.count("SELECT id FROM app_items").await;
    billing.rollback(&db.pool).await.unwrap();
    assert_eq!(
        billing.history(&db.pool).await.unwrap().len(),
        billing_rows - 1
    );
    assert_eq!(app.history(&db.pool).await.unwrap().len(), app_rows);
    assert_eq!(db.pool.count("SELECT id FROM invoices").await, invoices - 1);
    assert_eq!(db.pool.count("SELECT id FROM app_items").await, app_items);
}
database_test!(
    two_migration_sets_share_a_database,
    two_migration_sets_share_a_database,
    also_on_databricks,
    also_on_clusters
);

async fn a_table_name_that_is_not_an_identifier_is_refused_before_any_sql<P: Query>(
    db: &TestDb<P>,
) {
    let files = app_files();
    for (history, lock, setting) in [
        ("billing migrations", "billing_lock", "history_table"),
        (
            "billing_migrations",
            "lock\"; DROP TABLE app_items; --",
            "lock_table",
        ),
        ("Billing", "billing_lock", "history_table"),
        ("same", "same", "lock_table"),
    ] {
        let migrator = files.migrator().with_table_names(history, lock);
        for error in [
            migrator.run(&db.pool).await.unwrap_err(),
            migrator.lock_status(&db.pool).await.unwrap_err(),
            migrator.history(&db.pool).await.unwrap_err(),
        ] {
            let Error::InvalidSetting { setting: named, .. } = &error else {
                panic!("{error}");
            };
            assert_eq!(named, setting, "{error}");
        }
    }
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing was created"
    );
    assert!(
        !db.table_exists("jetbase_lock").await,
        "nothing was created"
    );
}
database_test!(
    a_table_name_that_is_not_an_identifier_is_refused_before_any_sql,
    a_table_name_that_is_not_an_identifier_is_refused_before_any_sql
);

async fn a_set_of_its_own_is_checked_without_its_own_tables<P: Query>(db: &TestDb<P>) {
    // The rollback check compares schemas: a set's history and lock tables, whatever their
    // names, are jetbase's and never "remain" after a rollback. MySQL/MariaDB checks on a
    // scratch database, where the set's own upgrade makes those tables during the check.
    let files = billing_files();
    let billing = files
        .migrator()
        .with_pooler(db.pooler)
        .with_table_names("billing_migrations", "billing_lock");
    let check = if db.dialect == common::Dialect::MySql {
        let scratch = jetbase::ScratchDatabase::beside(&db.url, &common::unique_name())
            .await
            .unwrap();
        let live = jetbase::AnyPool::new(db.pool.clone());
        let check = billing
            .check_rollbacks(&live)
            .on_scratch(scratch.pool())
            .await;
        scratch.drop_database().await.unwrap();
        check.unwrap()
    } else {
        billing.check_rollbacks(&db.pool).await.unwrap()
    };
    assert!(check.passed(), "{check:#?}");
    assert_eq!(check.migrations.len(), 3, "{check:#?}");
}
database_test!(
    a_set_of_its_own_is_checked_without_its_own_tables,
    a_set_of_its_own_is_checked_without_its_own_tables,
    not_on_warehouses = "no schema introspection there"
);
