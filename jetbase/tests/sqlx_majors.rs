//! A database migrated by the sqlx 0.8 build (history and lock rows written through sqlx 0.8's
//! pools, as the previous release wrote them) is taken over by the sqlx 0.9 build with no
//! change, then migrated further by it; and back. On SQLite, PostgreSQL and MySQL/MariaDB.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use common::{Files, Query, TestDb};
use jetbase::{Database, Migrator};

fn files() -> Files {
    Files::new(&[
        (
            "V1__create_events.sql",
            "CREATE TABLE events (id INTEGER PRIMARY KEY, label VARCHAR(20));\n-- rollback\nDROP TABLE events;",
        ),
        (
            "V2__first_event.sql",
            "INSERT INTO events (id, label) VALUES (1, 'one');\n-- rollback\nDELETE FROM events;",
        ),
        (
            "ROC__view.sql",
            "CREATE VIEW event_labels AS SELECT label FROM events;",
        ),
    ])
}

/// Everything a later run could depend on, as the history and the lock say it.
async fn state<D: Database>(migrator: &Migrator, pool: &D) -> String {
    let history = migrator.history(pool).await.unwrap();
    let lock = migrator.lock_status(pool).await.unwrap();
    format!("{history:?} {lock:?}")
}

/// `old` is a pool of the sqlx 0.8 build, `new` one of the sqlx 0.9 build, on one database.
async fn taken_over<Old: Query, New: Database>(db: &TestDb<Old>, new: &New) {
    let files = files();
    let migrator = files.migrator();
    let applied = migrator.run(&db.pool).await.unwrap();
    assert_eq!(applied.migrations.len(), 3);
    let before = state(&migrator, &db.pool).await;

    // The new build finds the database up to date and writes nothing.
    let report = migrator.run(new).await.unwrap();
    assert!(report.migrations.is_empty(), "{report:?}");
    assert_eq!(state(&migrator, new).await, before);
    assert!(migrator.validate(new).await.unwrap().is_empty());

    // It migrates further, and the old build reads what it wrote.
    files.write(
        "V3__second_event.sql",
        "INSERT INTO events (id, label) VALUES (2, 'two');\n-- rollback\nDELETE FROM events WHERE id = 2;",
    );
    let migrator = files.migrator();
    let report = migrator.run(new).await.unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(report.migrations[0].filename, "V3__second_event.sql");
    assert_eq!(
        state(&migrator, &db.pool).await,
        state(&migrator, new).await
    );
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
    assert_eq!(db.applied_versions().await, ["1", "2", "3"]);
    assert!(db.lock_is_free().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let db = common::sqlx_0_8::sqlite().await;
    let new = jetbase::sqlx::SqlitePool::connect(&db.url).await.unwrap();
    taken_over(&db, &new).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let db = common::sqlx_0_8::postgres().await;
    let new = jetbase::sqlx::PgPool::connect(&db.url).await.unwrap();
    taken_over(&db, &new).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql() {
    let db = common::sqlx_0_8::mysql().await;
    let new = jetbase::sqlx::MySqlPool::connect(&db.url).await.unwrap();
    taken_over(&db, &new).await;
}
