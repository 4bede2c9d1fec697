//! `${name}` placeholders (`Migrator::with_placeholder`): put into the statements that run,
//! never into the checksum; an unknown one refused before anything runs; `$${name}` the text
//! itself; files run as written while none is configured. On every database
//! (`common::database_test!`).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use common::recorder::Recorder;
use common::{Files, Query, TestDb};
use jetbase::Error;
use tracing::Level;

fn files() -> Files {
    Files::new(&[
        (
            "V1__create_items.sql",
            "CREATE TABLE ${prefix}_items (id INTEGER, note VARCHAR(40));\n\
             -- rollback\n\
             DROP TABLE ${Prefix}_items;",
        ),
        (
            "V2__first_item.sql",
            // `$${prefix}` is the text `${prefix}`; a comment between statements is not sent.
            "-- ${not_sent}\n\
             INSERT INTO ${PREFIX}_items (id, note) VALUES (1, '$${prefix}');\n\
             INSERT INTO ${prefix}_items (id, note) VALUES (2, '${prefix}');\n\
             -- rollback\n\
             DELETE FROM ${prefix}_items WHERE id IN (1, 2);",
        ),
    ])
}

async fn placeholders_are_put_into_the_statements_that_run<P: Query>(db: &TestDb<P>) {
    let files = files();
    let migrator = |prefix: &str| {
        files
            .migrator()
            .with_pooler(db.pooler)
            .with_placeholder("Prefix", prefix)
            .with_placeholder("db_password", "hunter2")
    };
    let shop = migrator("shop");

    // A dry run shows the SQL that would run, values in.
    let dry_run = shop.upgrade(&db.pool).dry_run(true).await.unwrap();
    assert_eq!(
        dry_run.migrations[0].sql,
        ["CREATE TABLE shop_items (id INTEGER, note VARCHAR(40))"]
    );
    assert_eq!(
        dry_run.migrations[1].sql[0],
        "INSERT INTO shop_items (id, note) VALUES (1, '${prefix}')"
    );

    let recorder = Recorder::default();
    let report = recorder.record(shop.run(&db.pool)).await.unwrap();
    assert_eq!(report.migrations.len(), 2);
    assert!(db.table_exists("shop_items").await);
    assert_eq!(
        db.pool
            .strings("SELECT note FROM shop_items ORDER BY id")
            .await,
        ["${prefix}", "shop"]
    );
    // The values are named at DEBUG only, a secret's masked.
    let events = recorder.take();
    let shown: Vec<_> = events
        .iter()
        .filter(|event| event.message == "placeholders")
        .collect();
    assert_eq!(shown.len(), 1, "{events:#?}");
    assert_eq!(shown[0].level, Level::DEBUG);
    assert_eq!(
        shown[0].field("values"),
        Some("db_password=***, prefix=shop")
    );
    assert!(
        events
            .iter()
            .filter(|event| event.level < Level::TRACE)
            .all(|event| !format!("{event:?}").contains("hunter2")),
        "{events:#?}"
    );

    // The checksums are the files' as written: another value edits nothing applied.
    let history = shop.history(&db.pool).await.unwrap();
    for (row, migration) in history.iter().zip(shop.migrations()) {
        assert_eq!(
            row.checksum.as_deref(),
            Some(migration.checksum()),
            "{}",
            row.filename
        );
    }
    let other = migrator("other");
    assert!(other.validate(&db.pool).await.unwrap().is_empty());
    assert!(other.run(&db.pool).await.unwrap().migrations.is_empty());

    // Rolling back puts them in too.
    shop.rollback(&db.pool).count(2).await.unwrap();
    assert!(!db.table_exists("shop_items").await);
    assert!(shop.history(&db.pool).await.unwrap().is_empty());

    // A failing statement is shown as the file has it: a value may be a secret.
    files.write(
        "V3__grant.sql",
        "INSERT INTO no_such_table (note) VALUES ('${db_password}');",
    );
    let shop = migrator("shop");
    let error = shop.run(&db.pool).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::MigrationFailed { .. }), "{message}");
    assert!(message.contains("'${db_password}'"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{error:?}").contains("hunter2"));
}
database_test!(
    placeholders_are_put_into_the_statements_that_run,
    placeholders_are_put_into_the_statements_that_run
);

async fn an_unknown_placeholder_is_refused_before_anything_runs<P: Query>(db: &TestDb<P>) {
    let files = files();
    files.write(
        "V3__second_item.sql",
        "INSERT INTO ${prefix}_items (id, note)\n  VALUES (3, '${note}');",
    );
    let migrator = files
        .migrator()
        .with_pooler(db.pooler)
        .with_placeholder("prefix", "shop");
    for error in [
        migrator.run(&db.pool).await.unwrap_err(),
        migrator.upgrade(&db.pool).dry_run(true).await.unwrap_err(),
    ] {
        let Error::Placeholder {
            filename,
            line,
            name,
            configured,
        } = &error
        else {
            panic!("{error}");
        };
        assert_eq!(filename, "V3__second_item.sql");
        assert_eq!((*line, name.as_str()), (2, "note"));
        assert_eq!(configured, &["prefix"]);
        let message = error.to_string();
        for part in [
            "V3__second_item.sql",
            "line 2",
            "${note}",
            "$${note}",
            "nothing was run",
        ] {
            assert!(message.contains(part), "{message}");
        }
    }
    assert!(
        !db.table_exists("shop_items").await,
        "V1 did not run either"
    );
    assert!(migrator.history(&db.pool).await.unwrap().is_empty());

    // A name that is not one is refused before any SQL.
    let error = files
        .migrator()
        .with_placeholder("a-b", "x")
        .run(&db.pool)
        .await
        .unwrap_err();
    let Error::InvalidSetting { setting, message } = &error else {
        panic!("{error}");
    };
    assert_eq!(setting, "placeholders");
    assert!(message.contains("\"a-b\""), "{message}");
    assert!(
        !db.table_exists("jetbase_migrations").await,
        "nothing was created"
    );
}
database_test!(
    an_unknown_placeholder_is_refused_before_anything_runs,
    an_unknown_placeholder_is_refused_before_anything_runs
);

async fn files_run_as_written_while_no_placeholder_is_configured<P: Query>(db: &TestDb<P>) {
    let files = Files::new(&[(
        "V1__create_notes.sql",
        "CREATE TABLE notes (id INTEGER, note VARCHAR(40));\n\
         INSERT INTO notes (id, note) VALUES (1, '${prefix}');\n\
         INSERT INTO notes (id, note) VALUES (2, '$${prefix}');\n\
         -- rollback\n\
         DROP TABLE notes;",
    )]);
    let migrator = files.migrator().with_pooler(db.pooler);
    migrator.run(&db.pool).await.unwrap();
    assert_eq!(
        db.pool.strings("SELECT note FROM notes ORDER BY id").await,
        ["${prefix}", "$${prefix}"]
    );
}
database_test!(
    files_run_as_written_while_no_placeholder_is_configured,
    files_run_as_written_while_no_placeholder_is_configured
);
