use super::*;
use crate::dialect::Dialect;

fn row(order_executed: i64, version: &str) -> AppliedMigration {
    AppliedMigration {
        order_executed,
        version: Some(version.to_owned()),
        description: "x".to_owned(),
        filename: format!("V{version}__x.sql"),
        migration_type: "VERSIONED".to_owned(),
        applied_at: "2026-12-08 10:00:00".to_owned(),
        checksum: None,
        success: Some(true),
        execution_ms: Some(1),
    }
}

fn migration(name: &str, text: &str) -> Migration {
    parse_migration(name, text.as_bytes()).unwrap()
}

#[test]
fn newer_rows_are_the_versions_above_every_local_one_newest_first() {
    let local = [
        migration("V1__a.sql", "SELECT 1;"),
        migration("V3__c.sql", "SELECT 3;"),
    ];
    // 2 is a deleted file (below 3), not newer; 3.1 and 10 were applied by a newer release,
    // 10 before 3.1 (out of order); repeatables never count.
    let mut repeatable = row(6, "9");
    repeatable.version = None;
    repeatable.migration_type = "RUNS_ALWAYS".to_owned();
    let history = [
        row(1, "1"),
        row(2, "2"),
        row(3, "3"),
        row(4, "10"),
        row(5, "3.1"),
        repeatable,
    ];
    let newer: Vec<&str> = newer_rows(&local, &history)
        .iter()
        .map(|row| row.version.as_deref().unwrap())
        .collect();
    assert_eq!(newer, ["3.1", "10"]);
    // A binary without versioned migrations (an empty directory, files left out of an image)
    // is not an older release: nothing is newer, every row is a missing file.
    assert!(newer_rows(&[], &history).is_empty());
}

#[test]
fn the_stored_rollback_reads_back_as_the_same_rollback() {
    for text in [
        "CREATE TABLE t (id INT);\n-- rollback\nDROP TABLE t;\n",
        "-- jetbase: no-transaction\n-- jetbase: table-lock-timeout=1.5s\n-- jetbase: statement-timeout=0\n-- jetbase: retries=2\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n--rollback\n\nDROP INDEX CONCURRENTLY i;\n",
        "-- jetbase: delimiter=~\nCREATE PROCEDURE p() BEGIN SELECT 1; END~\n-- rollback\nDROP PROCEDURE p~\n",
        "CREATE TABLE t (id INT);\n",
        "CREATE TABLE ${prefix}_t (id INT);\n-- rollback\nDROP TABLE ${prefix}_t; -- ${x}\n",
    ] {
        let original = migration("V7__t.sql", text);
        let stored = stored_rollback(&original);
        let mut applied = row(7, "7");
        applied.filename = "V7__t.sql".to_owned();
        let rebuilt = migration_from_stored(&applied, &stored).unwrap();
        assert_eq!(rebuilt.version(), original.version(), "{stored}");
        assert_eq!(rebuilt.no_transaction(), original.no_transaction());
        assert_eq!(rebuilt.delimiter(), original.delimiter());
        assert_eq!(rebuilt.limits(), original.limits(), "{stored}");
        assert!(
            rebuilt
                .upgrade_statements(Dialect::Postgres)
                .unwrap()
                .is_empty()
        );
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let sql = |m: &Migration| -> Vec<String> {
                m.rollback_statements(dialect)
                    .unwrap()
                    .iter()
                    .map(|s| s.sql.to_owned())
                    .collect()
            };
            assert_eq!(sql(&rebuilt), sql(&original), "{stored}");
        }
        assert_eq!(rebuilt.has_rollback_sql(), original.has_rollback_sql());
    }
}

#[test]
fn the_policy_reads_as_the_setting_says() {
    for (text, policy) in [
        ("refuse", NewerDatabase::Refuse),
        ("Ignore", NewerDatabase::Ignore),
        ("roll-back", NewerDatabase::RollBack),
        (" rollback ", NewerDatabase::RollBack),
    ] {
        assert_eq!(text.parse(), Ok(policy));
    }
    let error = "undo".parse::<NewerDatabase>().unwrap_err();
    assert!(error.contains("refuse, ignore or roll-back"), "{error}");
    assert_eq!(NewerDatabase::default(), NewerDatabase::Refuse);
}
