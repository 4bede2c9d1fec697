//! The shared checksum vectors: every file's checksum and statements, as Python Jetbase 0.18.1
//! computes them and as jetbase must, through `embed!()` and through `Migrator::from_dir`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use jetbase::{Migration, Migrator};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors");

static EMBEDDED: Migrator = jetbase::embed!("tests/fixtures/vectors");

#[derive(serde::Deserialize)]
struct Expected {
    file: String,
    checksum: String,
    upgrade_statements: Vec<String>,
    jetbase_checksum: String,
    jetbase_upgrade_statements_for_checksum: Option<Vec<String>>,
}

fn expected() -> Vec<Expected> {
    let json = std::fs::read_to_string(Path::new(VECTORS).join("expected.json")).unwrap();
    let expected: Vec<Expected> = serde_json::from_str(&json).unwrap();
    assert_eq!(expected.len(), 16, "the vector set has 16 files");
    expected
}

fn by_filename(migrations: &[Migration]) -> BTreeMap<&str, &Migration> {
    migrations.iter().map(|m| (m.filename(), m)).collect()
}

fn assert_checksums(migrations: &[Migration], how: &str) {
    let found = by_filename(migrations);
    let mut matched = 0;
    for vector in expected() {
        let migration = found
            .get(vector.file.as_str())
            .unwrap_or_else(|| panic!("{how}: {} was not read", vector.file));
        assert_eq!(
            migration.checksum(),
            vector.jetbase_checksum,
            "{how}: {}",
            vector.file
        );
        matched += 1;
    }
    assert_eq!(matched, 16);
    assert_eq!(
        migrations.len(),
        16,
        "{how}: expected.json is not a migration"
    );
}

#[test]
fn embedded_checksums_match_all_16_vectors() {
    assert_checksums(EMBEDDED.migrations(), "embed!");
}

#[test]
fn runtime_checksums_match_all_16_vectors() {
    let migrator = Migrator::from_dir(VECTORS).unwrap();
    assert_checksums(migrator.migrations(), "from_dir");
    assert_eq!(
        migrator.migrations(),
        EMBEDDED.migrations(),
        "embed! and from_dir agree"
    );
}

#[test]
fn checksum_input_statements_match_the_vectors() {
    for vector in expected() {
        let bytes = std::fs::read(Path::new(VECTORS).join(&vector.file)).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let delimiter = if vector.file.starts_with("V8__") {
            "~"
        } else {
            ";"
        };
        let expected_statements = vector
            .jetbase_upgrade_statements_for_checksum
            .as_ref()
            .unwrap_or(&vector.upgrade_statements);
        assert_eq!(
            &jetbase_core::checksum_statements(text, delimiter),
            expected_statements,
            "{}",
            vector.file
        );
    }
}

#[test]
fn deliberate_differences_from_python_are_exactly_two() {
    let differing: Vec<String> = expected()
        .into_iter()
        .filter(|v| v.checksum != v.jetbase_checksum)
        .map(|v| v.file)
        .collect();
    assert_eq!(
        differing,
        ["V13__unterminated_last_statement.sql", "V14__utf8_bom.sql"]
    );
    // The other 14 are Python's own values, reproduced.
    let found = by_filename(EMBEDDED.migrations());
    for vector in expected()
        .into_iter()
        .filter(|v| v.checksum == v.jetbase_checksum)
    {
        assert_eq!(
            found[vector.file.as_str()].checksum(),
            vector.checksum,
            "{}",
            vector.file
        );
    }
}

#[test]
fn layout_changes_do_not_change_the_checksum() {
    let found = by_filename(EMBEDDED.migrations());
    let v1 = found["V1__create_users_table.sql"].checksum();
    for file in [
        "V2__crlf_same_as_v1.sql",
        "V3__comments_and_indentation_same_as_v1.sql",
        "V4__rollback_edit_same_as_v1.sql",
    ] {
        assert_eq!(found[file].checksum(), v1, "{file}");
    }
    assert_ne!(found["V5__changed_column_differs.sql"].checksum(), v1);
}

#[test]
fn crlf_and_bom_bytes_survived_the_copy() {
    let v2 = std::fs::read(Path::new(VECTORS).join("V2__crlf_same_as_v1.sql")).unwrap();
    assert!(
        v2.windows(2).any(|w| w == b"\r\n"),
        "V2 must keep CRLF (.gitattributes -text)"
    );
    let v14 = std::fs::read(Path::new(VECTORS).join("V14__utf8_bom.sql")).unwrap();
    assert!(
        v14.starts_with(b"\xef\xbb\xbf"),
        "V14 must keep its byte order mark"
    );
}

#[test]
fn accessors_of_spec_section_6() {
    let found = by_filename(EMBEDDED.migrations());
    let v1 = found["V1__create_users_table.sql"];
    assert_eq!(v1.kind(), jetbase::MigrationKind::Versioned);
    assert_eq!(v1.version().map(|v| v.as_str()), Some("1"));
    assert_eq!(v1.description(), "create users table");
    assert!(v1.upgrade_sql().contains("CREATE TABLE users ("));
    assert_eq!(
        v1.rollback_sql(),
        Some("DROP TABLE items;\nDROP TABLE users;\n")
    );
    assert!(
        v1.checksum()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );

    let ra = found["RA__refresh_item_names_view.sql"];
    assert_eq!(
        (ra.kind(), ra.version()),
        (jetbase::MigrationKind::RunsAlways, None)
    );
    assert_eq!(ra.rollback_sql(), None);
    let roc = found["ROC__users_summary_view.sql"];
    assert_eq!(roc.kind(), jetbase::MigrationKind::RunsOnChange);

    let v8 = found["V8__custom_delimiter.sql"];
    assert_eq!(v8.delimiter(), Some("~"));
    let statements = v8.upgrade_statements(jetbase::Dialect::Sqlite).unwrap();
    assert_eq!(statements.len(), 2);
    assert!(statements[0].sql.ends_with("WHERE id = NEW.id;\nEND"));

    let v7 = found["V7__plpgsql_function.sql"];
    let statements = v7.upgrade_statements(jetbase::Dialect::Postgres).unwrap();
    assert_eq!(statements.len(), 1, "the function body is one statement");
    assert_eq!(statements[0].line, 2);
}

#[test]
fn apply_order_of_the_vectors() {
    let order: Vec<&str> = EMBEDDED.migrations().iter().map(|m| m.filename()).collect();
    assert_eq!(order[0], "V1__create_users_table.sql");
    assert_eq!(order[9], "V10__unicode.sql");
    assert_eq!(order[13], "V14__utf8_bom.sql");
    assert_eq!(
        &order[14..],
        [
            "RA__refresh_item_names_view.sql",
            "ROC__users_summary_view.sql"
        ]
    );
}

/// The limit directives (`table-lock-timeout=`, `statement-timeout=`, `retries=`) are comments
/// to Python Jetbase: a file with them has the checksum of the same file without them, as
/// Python Jetbase 0.18.1 computed it (`fixtures/limits/expected.json`), so a project can use
/// them and still move between the two tools.
#[test]
fn limit_directives_keep_python_jetbases_checksum() {
    const LIMITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/limits");
    static EMBEDDED_LIMITS: Migrator = jetbase::embed!("tests/fixtures/limits");
    #[derive(serde::Deserialize)]
    struct Vector {
        file: String,
        checksum: String,
    }
    let json = std::fs::read_to_string(Path::new(LIMITS).join("expected.json")).unwrap();
    let vectors: Vec<Vector> = serde_json::from_str(&json).unwrap();
    assert_eq!(vectors.len(), 2);
    let from_dir = Migrator::from_dir(LIMITS).unwrap();
    for migrations in [from_dir.migrations(), EMBEDDED_LIMITS.migrations()] {
        let found = by_filename(migrations);
        for vector in &vectors {
            assert_eq!(found[vector.file.as_str()].checksum(), vector.checksum);
        }
        let limits = found["V1__add_column_with_limits.sql"].limits();
        assert_eq!(
            limits.table_lock_timeout,
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!(
            limits.statement_timeout,
            Some(std::time::Duration::from_secs(600))
        );
        assert_eq!(limits.retries, Some(3));
        assert_eq!(
            found["V2__add_column_without_limits.sql"].limits(),
            jetbase::RunLimits::default()
        );
    }
}
