//! A database newer than the binary: release 12 applied V2 and V3, release 12 was bad, and
//! release 11 (V1 only) starts again on its database (`Migrator::on_newer_database`), and a
//! migration whose file is gone is rolled back with the SQL its history row keeps. On every
//! database (`common::database_test!`); the rows keep their rollback SQL on PostgreSQL,
//! MySQL/MariaDB and SQLite (`Capabilities::stored_rollbacks`), the others refuse what needs it.

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use common::recorder::Recorder;
use common::{Files, Query, TestDb};
use jetbase::{Direction, Error, NewerDatabase, PlanError, State};
use tracing::Level;

const RELEASE_12_V2: &str = "CREATE TABLE orders (id INTEGER);\n-- rollback\nDROP TABLE orders;";

const V1: (&str, &str) = (
    "V1__create_items.sql",
    "CREATE TABLE items (id INTEGER);\n-- rollback\nDROP TABLE items;",
);

fn release_12() -> Files {
    Files::new(&[
        V1,
        ("V2__create_orders.sql", RELEASE_12_V2),
        (
            "V3__first_order.sql",
            "INSERT INTO orders (id) VALUES (1);\n-- rollback\nDELETE FROM orders WHERE id = 1;",
        ),
    ])
}

fn release_11() -> Files {
    Files::new(&[V1])
}

async fn versions<P: Query>(db: &TestDb<P>, migrator: &jetbase::Migrator) -> Vec<String> {
    migrator
        .history(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.version.unwrap_or_default())
        .collect()
}

async fn release_11_starts_on_release_12_s_database<P: Query>(db: &TestDb<P>) {
    let new = release_12();
    let old = release_11();
    let twelve = new.migrator().with_pooler(db.pooler);
    assert_eq!(twelve.run(&db.pool).await.unwrap().migrations.len(), 3);
    let eleven = |policy| {
        old.migrator()
            .with_pooler(db.pooler)
            .on_newer_database(policy)
    };

    // refuse (the default): each unknown version named, with when it was applied.
    let error = old
        .migrator()
        .with_pooler(db.pooler)
        .run(&db.pool)
        .await
        .unwrap_err();
    let Error::Validation { problems } = &error else {
        panic!("{error}");
    };
    let labels: Vec<&str> = problems
        .iter()
        .map(|problem| match problem {
            PlanError::NewerDatabase { label, applied_at } => {
                assert!(!applied_at.is_empty());
                label.as_str()
            }
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        labels,
        [
            "version 2 (V2__create_orders.sql)",
            "version 3 (V3__first_order.sql)"
        ]
    );
    let message = error.to_string();
    for part in ["newer release", "ignore", "roll-back"] {
        assert!(message.contains(part), "{message}");
    }
    let status = eleven(NewerDatabase::Refuse)
        .status(&db.pool)
        .await
        .unwrap();
    let states: Vec<(&str, State)> = status
        .iter()
        .map(|entry| (entry.filename.as_str(), entry.state))
        .collect();
    assert_eq!(
        states,
        [
            ("V1__create_items.sql", State::Applied),
            ("V2__create_orders.sql", State::Newer),
            ("V3__first_order.sql", State::Newer),
        ]
    );

    // ignore: it starts, changes nothing, and says which versions it left.
    let ignoring = eleven(NewerDatabase::Ignore);
    assert!(ignoring.validate(&db.pool).await.unwrap().is_empty());
    let recorder = Recorder::default();
    let report = recorder.record(ignoring.run(&db.pool)).await.unwrap();
    assert!(report.migrations.is_empty());
    let events = recorder.take();
    let warned: Vec<_> = events
        .iter()
        .filter(|event| event.level == Level::WARN)
        .collect();
    assert_eq!(warned.len(), 1, "{events:#?}");
    assert_eq!(warned[0].field("versions"), Some("3, 2"));
    assert_eq!(versions(db, &twelve).await, ["1", "2", "3"]);

    // roll-back: undone with the SQL the rows keep, newest first; release 11's schema after.
    let rolling_back = eleven(NewerDatabase::RollBack);
    if !db.dialect.capabilities().stored_rollbacks {
        let error = rolling_back.run(&db.pool).await.unwrap_err();
        let Error::Refused { message, .. } = &error else {
            panic!("{error}");
        };
        assert!(message.contains("V3__first_order.sql"), "{message}");
        assert!(message.contains("nothing was run"), "{message}");
        assert!(db.table_exists("orders").await);
        assert_eq!(versions(db, &twelve).await, ["1", "2", "3"]);
        return;
    }
    let planned = rolling_back.upgrade(&db.pool).dry_run(true).await.unwrap();
    let planned: Vec<(&str, Direction, &[String])> = planned
        .migrations
        .iter()
        .map(|entry| {
            (
                entry.filename.as_str(),
                entry.direction,
                entry.sql.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            (
                "V3__first_order.sql",
                Direction::Rollback,
                &["DELETE FROM orders WHERE id = 1".to_owned()][..]
            ),
            (
                "V2__create_orders.sql",
                Direction::Rollback,
                &["DROP TABLE orders".to_owned()][..]
            ),
        ]
    );
    assert!(db.table_exists("orders").await, "a dry run changes nothing");

    // A row that keeps nothing (written by Python Jetbase, or an older jetbase) is refused.
    db.pool
        .exec("UPDATE jetbase_migrations SET rollback_sql = NULL WHERE version = '2'")
        .await;
    let error = rolling_back.run(&db.pool).await.unwrap_err();
    let Error::Refused { message, .. } = &error else {
        panic!("{error}");
    };
    assert!(
        message.contains("V2__create_orders.sql keeps no rollback SQL"),
        "{message}"
    );
    assert!(!message.contains("V3__"), "{message}");
    assert_eq!(
        db.pool.count("SELECT id FROM orders").await,
        1,
        "nothing was run"
    );

    // Applied again by release 12, the rows keep it again.
    twelve.rollback(&db.pool).count(2).await.unwrap();
    assert_eq!(twelve.run(&db.pool).await.unwrap().migrations.len(), 2);
    let report = rolling_back.run(&db.pool).await.unwrap();
    let done: Vec<(&str, Direction)> = report
        .migrations
        .iter()
        .map(|entry| (entry.filename.as_str(), entry.direction))
        .collect();
    assert_eq!(
        done,
        [
            ("V3__first_order.sql", Direction::Rollback),
            ("V2__create_orders.sql", Direction::Rollback),
        ]
    );
    assert!(!db.table_exists("orders").await);
    assert!(db.table_exists("items").await);
    assert_eq!(versions(db, &twelve).await, ["1"]);
    assert!(
        rolling_back
            .run(&db.pool)
            .await
            .unwrap()
            .migrations
            .is_empty()
    );
    // ... and release 12, deployed again after the fix, applies them again.
    assert_eq!(twelve.run(&db.pool).await.unwrap().migrations.len(), 2);
    assert_eq!(db.pool.count("SELECT id FROM orders").await, 1);
}
database_test!(
    release_11_starts_on_release_12_s_database,
    release_11_starts_on_release_12_s_database
);

async fn a_migration_whose_file_is_gone_is_rolled_back_with_what_its_row_keeps<P: Query>(
    db: &TestDb<P>,
) {
    let new = release_12();
    let twelve = new.migrator().with_pooler(db.pooler);
    twelve.run(&db.pool).await.unwrap();
    // V3's file is gone, V2's is here: V3 with what its row keeps, V2 with its file.
    let files = Files::new(&[V1, ("V2__create_orders.sql", RELEASE_12_V2)]);
    let eleven = files.migrator().with_pooler(db.pooler);
    let recorder = Recorder::default();
    let result = recorder.record(eleven.rollback(&db.pool).count(2)).await;
    if !db.dialect.capabilities().stored_rollbacks {
        let error = result.unwrap_err();
        let Error::Validation { problems } = &error else {
            panic!("{error}");
        };
        assert!(
            matches!(problems[..], [PlanError::RollbackWithoutFile { .. }]),
            "{error}"
        );
        assert_eq!(versions(db, &twelve).await, ["1", "2", "3"]);
        return;
    }
    let report = result.unwrap();
    let done: Vec<&str> = report
        .migrations
        .iter()
        .map(|entry| entry.filename.as_str())
        .collect();
    assert_eq!(done, ["V3__first_order.sql", "V2__create_orders.sql"]);
    assert!(!db.table_exists("orders").await);
    assert_eq!(versions(db, &twelve).await, ["1"]);
    let events = recorder.take();
    let said: Vec<_> = events
        .iter()
        .filter(|event| event.message.contains("its file is gone"))
        .collect();
    assert_eq!(said.len(), 1, "{events:#?}");
    assert_eq!(said[0].level, Level::INFO);
    assert_eq!(said[0].field("filename"), Some("V3__first_order.sql"));
    // A row that keeps nothing: refused, named.
    twelve.run(&db.pool).await.unwrap();
    let eleven = release_11().migrator().with_pooler(db.pooler);
    eleven.rollback(&db.pool).await.unwrap();
    db.pool
        .exec("UPDATE jetbase_migrations SET rollback_sql = NULL WHERE version = '2'")
        .await;
    let error = eleven.rollback(&db.pool).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("version 2 (V2__create_orders.sql)"),
        "{message}"
    );
    assert!(message.contains("keeps no rollback SQL"), "{message}");
    assert!(db.table_exists("orders").await);

    // An edit accepted by repair keeps the edited file's rollback instead.
    twelve.run(&db.pool).await.unwrap();
    new.write(
        "V3__first_order.sql",
        "INSERT INTO orders (id) SELECT 1;\n-- rollback\nDELETE FROM orders WHERE id >= 1;",
    );
    let edited = new.migrator().with_pooler(db.pooler);
    let repaired = edited.repair(&db.pool).await.unwrap();
    assert_eq!(repaired.checksums_updated.len(), 1);
    let planned = eleven.rollback(&db.pool).dry_run(true).await.unwrap();
    assert_eq!(
        planned.migrations[0].sql,
        ["DELETE FROM orders WHERE id >= 1"]
    );
}
database_test!(
    a_migration_whose_file_is_gone_is_rolled_back_with_what_its_row_keeps,
    a_migration_whose_file_is_gone_is_rolled_back_with_what_its_row_keeps
);

async fn roll_back_refuses_what_it_cannot_undo<P: Query>(db: &TestDb<P>) {
    // A newer release's migration without a rollback section would only lose its row.
    let new = Files::new(&[
        V1,
        ("V2__add_orders.sql", "CREATE TABLE orders (id INTEGER);"),
    ]);
    new.migrator()
        .with_pooler(db.pooler)
        .run(&db.pool)
        .await
        .unwrap();
    let eleven = release_11()
        .migrator()
        .with_pooler(db.pooler)
        .on_newer_database(NewerDatabase::RollBack);
    let error = eleven.run(&db.pool).await.unwrap_err();
    let Error::Refused { message, .. } = &error else {
        panic!("{error}");
    };
    if db.dialect.capabilities().stored_rollbacks {
        assert!(
            message.contains("V2__add_orders.sql has no rollback section"),
            "{message}"
        );
    }
    assert!(message.contains("nothing was run"), "{message}");
    assert!(db.table_exists("orders").await);

    // An empty migrations directory (files left out of an image) is not an older release:
    // nothing is "newer", nothing is rolled back, every row is a missing file.
    let empty = Files::new(&[]);
    let error = empty
        .migrator()
        .with_pooler(db.pooler)
        .on_newer_database(NewerDatabase::RollBack)
        .run(&db.pool)
        .await
        .unwrap_err();
    let Error::Validation { problems } = &error else {
        panic!("{error}");
    };
    assert!(
        problems
            .iter()
            .all(|problem| matches!(problem, PlanError::MissingFile { .. })),
        "{error}"
    );
    assert!(db.table_exists("orders").await);
    assert!(db.table_exists("items").await);

    // What the upgrade would then run is validated first: an edited file of its own stops it
    // before anything is rolled back.
    if db.dialect.capabilities().stored_rollbacks {
        let edited = Files::new(&[(
            "V1__create_items.sql",
            "CREATE TABLE items (id INTEGER, edited INTEGER);\n-- rollback\nDROP TABLE items;",
        )]);
        new.write(
            "V2__add_orders.sql",
            "CREATE TABLE orders (id INTEGER);\n-- rollback\nDROP TABLE orders;",
        );
        let twelve = new.migrator().with_pooler(db.pooler);
        twelve.rollback(&db.pool).await.unwrap();
        twelve.run(&db.pool).await.unwrap();
        let error = edited
            .migrator()
            .with_pooler(db.pooler)
            .on_newer_database(NewerDatabase::RollBack)
            .run(&db.pool)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Validation { problems } if matches!(problems[..], [PlanError::ChecksumMismatch { .. }])),
            "{error}"
        );
        assert!(db.table_exists("orders").await, "nothing was rolled back");
    }
}
database_test!(
    roll_back_refuses_what_it_cannot_undo,
    roll_back_refuses_what_it_cannot_undo
);

async fn the_kept_text_survives_any_character_set<P: Query>(db: &TestDb<P>) {
    if !db.dialect.capabilities().stored_rollbacks {
        return;
    }
    if db.dialect == common::Dialect::MySql {
        // A history table as Python Jetbase makes it on a latin1 server: jetbase adds its
        // column in utf8mb4 all the same.
        db.pool
            .exec(
                "CREATE TABLE jetbase_migrations (order_executed INT AUTO_INCREMENT PRIMARY KEY, \
                 version VARCHAR(255), description VARCHAR(500) NOT NULL, filename VARCHAR(512) \
                 NOT NULL, migration_type VARCHAR(32) NOT NULL, applied_at TIMESTAMP(6) DEFAULT \
                 CURRENT_TIMESTAMP(6) NOT NULL, checksum VARCHAR(64) NOT NULL) \
                 CHARACTER SET latin1",
            )
            .await;
    }
    let files = Files::new(&[
        V1,
        (
            "V2__notes.sql",
            "CREATE TABLE notes (id INTEGER);\n-- rollback\n-- откат, 撤销, 🙃\nDROP TABLE notes;",
        ),
    ]);
    files
        .migrator()
        .with_pooler(db.pooler)
        .run(&db.pool)
        .await
        .unwrap();
    let report = release_11()
        .migrator()
        .with_pooler(db.pooler)
        .on_newer_database(NewerDatabase::RollBack)
        .run(&db.pool)
        .await
        .unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert!(!db.table_exists("notes").await);
}
database_test!(
    the_kept_text_survives_any_character_set,
    the_kept_text_survives_any_character_set,
    not_on_warehouses = "no rollback SQL kept there"
);
