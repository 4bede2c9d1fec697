//! The `blocking` API: the same calls without an async runtime of the caller's.

#![allow(clippy::unwrap_used)]

use jetbase::{Migrator, State};

#[test]
fn blocking_calls_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("V1__a.sql"),
        "CREATE TABLE a (id INTEGER);\n-- rollback\nDROP TABLE a;",
    )
    .unwrap();
    std::fs::write(
        migrations.join("V2__b.sql"),
        "CREATE TABLE b (id INTEGER);\n-- rollback\nDROP TABLE b;",
    )
    .unwrap();
    let migrator = Migrator::from_dir(&migrations).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());

    let database = jetbase::blocking::connect(&url).unwrap();
    assert!(
        database
            .status(&migrator)
            .unwrap()
            .iter()
            .all(|s| s.state == State::Pending)
    );
    assert_eq!(database.run(&migrator).unwrap().migrations.len(), 2);
    assert_eq!(database.history(&migrator).unwrap().len(), 2);
    assert!(database.validate(&migrator).unwrap().is_empty());
    let report = database
        .block_on(migrator.rollback(database.pool()).count(1))
        .unwrap();
    assert_eq!(report.migrations[0].filename, "V2__b.sql");
    assert_eq!(database.history(&migrator).unwrap().len(), 1);
}

#[test]
fn unknown_schemes_are_refused_with_the_password_masked() {
    let error = jetbase::blocking::connect("oracle://scott:tiger@db/orcl").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("oracle://scott:***@db/orcl"), "{message}");
    assert!(!message.contains("tiger"), "{message}");
}
