//! What a run tells the application's logs through `tracing` (target `jetbase`): the span of
//! each run, an event per migration applied or rolled back, the fast path's one DEBUG event,
//! the lock's wait — on every database (`common::database_test!`). The retry's and the
//! take-over's events are checked where those are exercised (`limits.rs`, `migrate.rs`).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::recorder::{Recorded, Recorder};
use common::{Files, Query, TestDb};
use tracing::Level;

fn files() -> Files {
    Files::new(&[
        (
            "V1__create_items.sql",
            "CREATE TABLE items (id INTEGER);\n-- rollback\nDROP TABLE items;",
        ),
        (
            "V2__fill_items.sql",
            "-- jetbase: no-transaction\nINSERT INTO items (id) VALUES (1);\n-- rollback\nDELETE FROM items WHERE id = 1;",
        ),
    ])
}

/// The events at `level` whose message is `message`.
fn named<'e>(events: &'e [Recorded], level: Level, message: &str) -> Vec<&'e Recorded> {
    events
        .iter()
        .filter(|event| event.level == level && event.message == message)
        .collect()
}

/// Only TRACE events carry SQL text, and no event a password.
fn assert_no_sql_above_trace(events: &[Recorded], url: &str) {
    for event in events {
        let text = format!("{event:?}");
        if let Some(password) = url::password(url) {
            assert!(!text.contains(&password), "{text}");
        }
        if event.level == Level::TRACE {
            continue;
        }
        assert!(!text.contains("CREATE TABLE"), "{text}");
        assert!(!text.contains("INSERT INTO"), "{text}");
    }
}

mod url {
    /// The password of a URL of the form `scheme://user:password@host...`.
    pub fn password(url: &str) -> Option<String> {
        let rest = url.split_once("://")?.1;
        let credentials = rest.split_once('@')?.0;
        let password = credentials.split_once(':')?.1;
        (!password.is_empty()).then(|| password.to_owned())
    }
}

async fn what_a_run_tells_the_logs<P: Query>(db: &TestDb<P>) {
    let files = files();
    let migrator = files.migrator().with_pooler(db.pooler);
    let recorder = Recorder::default();
    let dialect = db.pool.dialect().to_string();

    // A fresh run: its span, and one INFO event per migration with its fields.
    recorder.record(migrator.run(&db.pool)).await.unwrap();
    let events = recorder.take();
    assert_no_sql_above_trace(&events, &db.url);
    let applied = named(&events, Level::INFO, "applied");
    assert_eq!(applied.len(), 2, "{events:#?}");
    for (event, (version, filename)) in applied
        .iter()
        .zip([("1", "V1__create_items.sql"), ("2", "V2__fill_items.sql")])
    {
        assert_eq!(event.target, "jetbase");
        assert_eq!(event.field("version"), Some(version), "{event:?}");
        assert_eq!(event.field("filename"), Some(filename), "{event:?}");
        assert_eq!(event.field("kind"), Some("VERSIONED"), "{event:?}");
        let duration: u64 = event.field("duration_ms").unwrap().parse().unwrap();
        assert!(duration < 60_000, "{event:?}");
        assert_eq!(event.span_name(), Some("upgrade"), "{event:?}");
        assert_eq!(event.span_field("database"), Some(dialect.as_str()));
        assert_eq!(event.span_field("planned"), Some("2"), "{event:?}");
    }
    let transactions = db.pool.capabilities().transactions;
    assert_eq!(
        applied[0].field("no_transaction"),
        (!transactions).then_some("true"),
        "a transactional migration says nothing of it: {:?}",
        applied[0]
    );
    assert_eq!(
        applied[1].field("no_transaction"),
        Some("true"),
        "{:?}",
        applied[1]
    );
    let taken = named(&events, Level::DEBUG, "took the migration lock");
    assert_eq!(taken.len(), 1, "the lock was free: DEBUG, {events:#?}");
    assert!(named(&events, Level::INFO, "waiting for the migration lock").is_empty());

    // Up to date: the fast path's one DEBUG event, and nothing else.
    recorder.record(migrator.run(&db.pool)).await.unwrap();
    let events = recorder.take();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].level, Level::DEBUG);
    assert_eq!(events[0].message, "the database is up to date");
    assert_eq!(events[0].field("migrations"), Some("2"));
    assert_eq!(events[0].span_name(), Some("upgrade"));

    // A rollback: its span, and one INFO event.
    recorder.record(migrator.rollback(&db.pool)).await.unwrap();
    let events = recorder.take();
    assert_no_sql_above_trace(&events, &db.url);
    let rolled_back = named(&events, Level::INFO, "rolled back");
    assert_eq!(rolled_back.len(), 1, "{events:#?}");
    assert_eq!(rolled_back[0].field("version"), Some("2"));
    assert_eq!(rolled_back[0].field("filename"), Some("V2__fill_items.sql"));
    assert_eq!(rolled_back[0].field("no_transaction"), Some("true"));
    assert_eq!(rolled_back[0].span_name(), Some("rollback"));
    assert_eq!(rolled_back[0].span_field("planned"), Some("1"));

    // A wait for the lock (taken by hand, freed 1.5 s later): INFO naming the holder, then
    // INFO when the run gets it, with how long it waited.
    let holder = migrator.lock(&db.pool).await.unwrap();
    let free_later = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        migrator.unlock(&db.pool).await.unwrap();
    };
    let waiting_run = migrator.clone().with_lock_timeout(Duration::from_secs(120));
    let (result, ()) = tokio::join!(recorder.record(waiting_run.run(&db.pool)), free_later);
    result.unwrap();
    let events = recorder.take();
    let waiting = named(&events, Level::INFO, "waiting for the migration lock");
    assert_eq!(waiting.len(), 1, "said once: {events:#?}");
    assert_eq!(waiting[0].field("holder"), Some(holder.as_str()));
    assert_ne!(
        waiting[0].field("since"),
        Some("unknown"),
        "{:?}",
        waiting[0]
    );
    let taken = named(&events, Level::INFO, "took the migration lock");
    assert_eq!(taken.len(), 1, "{events:#?}");
    let waited: u64 = taken[0].field("waited_ms").unwrap().parse().unwrap();
    assert!(waited >= 1000, "{:?}", taken[0]);
    assert_eq!(named(&events, Level::INFO, "applied").len(), 1);
}
database_test!(
    what_a_run_tells_the_logs,
    what_a_run_tells_the_logs,
    also_on_databricks,
    also_on_clusters
);
