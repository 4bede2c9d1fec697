//! Take-over from Python Jetbase 0.18.1: Python applies the first migrations of a set, jetbase
//! applies the rest without any checksum or validation error, and afterwards Python Jetbase's
//! `validate-checksums` reports every checksum valid and its `upgrade` finds nothing to do.
//!
//! `scripts/test.sh` installs Python Jetbase in a virtual environment and exports
//! `JETBASE_TEST_PYTHON_JETBASE` (its `jetbase` executable).

// The test databases are written once and compiled per sqlx major (common/pools.rs).
#![allow(clippy::duplicate_mod)]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{Query, TestDb};
use jetbase::Migrator;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors");

fn python_jetbase() -> String {
    std::env::var("JETBASE_TEST_PYTHON_JETBASE").unwrap_or_else(|_| {
        panic!("JETBASE_TEST_PYTHON_JETBASE is not set: run the tests with `bash scripts/test.sh`, which installs Python Jetbase 0.18.1")
    })
}

/// Runs Python Jetbase in `project/jetbase`; returns its combined output.
fn python(project: &Path, url: &str, args: &[&str]) -> String {
    let output = Command::new(python_jetbase())
        .args(args)
        .current_dir(project.join("jetbase"))
        .env("JETBASE_SQLALCHEMY_URL", url)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "python jetbase {args:?} failed:\n{text}"
    );
    text
}

/// A project whose migrations are copies of shared vectors, so that Python's own checksum of
/// each file is known.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("jetbase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (target, vector) in files {
        std::fs::copy(Path::new(VECTORS).join(vector), migrations.join(target)).unwrap();
    }
    dir
}

async fn take_over<P: Query>(
    db: &TestDb<P>,
    python_url: &str,
    files: &[(&str, &str)],
    python_applies: usize,
) {
    let dir = project(files);
    let migrations = dir.path().join("jetbase/migrations");
    python(
        dir.path(),
        python_url,
        &["upgrade", "--count", &python_applies.to_string()],
    );
    assert_eq!(db.applied_versions().await.len(), python_applies);

    let migrator = Migrator::from_dir(&migrations).unwrap();
    assert!(
        migrator.validate(&db.pool).await.unwrap().is_empty(),
        "jetbase accepts Python's rows"
    );
    let report = migrator.run(&db.pool).await.unwrap();
    let versioned = report
        .migrations
        .iter()
        .filter(|m| m.is_versioned())
        .count();
    assert_eq!(
        versioned,
        files
            .iter()
            .filter(|(name, _)| name.starts_with('V'))
            .count()
            - python_applies
    );

    let audit = python(dir.path(), python_url, &["validate-checksums"]);
    assert!(
        audit.contains("All migration checksums are valid"),
        "{audit}"
    );
    let before = db
        .pool
        .count("SELECT order_executed FROM jetbase_migrations")
        .await;
    let upgrade = python(dir.path(), python_url, &["upgrade"]);
    assert!(upgrade.contains("Migrations are up to date"), "{upgrade}");
    assert_eq!(
        db.pool
            .count("SELECT order_executed FROM jetbase_migrations")
            .await,
        before
    );
    // And back: jetbase still finds nothing to do after Python's look.
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
}

#[tokio::test]
async fn sqlite_takeover() {
    let db = common::sqlite().await;
    let path = db.sqlite_path.clone().unwrap();
    let url = format!("sqlite:///{}", path.display());
    take_over(
        &db,
        &url,
        &[
            ("V1__create_users_table.sql", "V1__create_users_table.sql"),
            (
                "V2__single_line_statements.sql",
                "V6__single_line_statements.sql",
            ),
            ("V3__no_rollback_section.sql", "V9__no_rollback_section.sql"),
            // A trigger with Python's delimiter directive, applied by jetbase.
            ("V4__custom_delimiter.sql", "V8__custom_delimiter.sql"),
            ("V5__unicode.sql", "V10__unicode.sql"),
        ],
        2,
    )
    .await;
}

#[tokio::test]
async fn postgres_takeover() {
    let db = common::postgres().await;
    let url = db.url.replacen("postgres://", "postgresql+psycopg2://", 1);
    take_over(
        &db,
        &url,
        &[
            ("V1__create_users_table.sql", "V1__create_users_table.sql"),
            (
                "V2__single_line_statements.sql",
                "V6__single_line_statements.sql",
            ),
            // A PL/pgSQL function Python Jetbase could not execute (it splits it at every `;`):
            // jetbase applies it, and the stored checksum is still Python's.
            ("V3__plpgsql_function.sql", "V7__plpgsql_function.sql"),
            ("V4__unicode.sql", "V10__unicode.sql"),
            ("ROC__users_summary_view.sql", "ROC__users_summary_view.sql"),
        ],
        2,
    )
    .await;
}
