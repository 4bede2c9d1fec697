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

/// A Python Jetbase 0.18.1 installation: its `jetbase` executable (from the environment
/// variable that names it) and the variables it runs with.
struct PythonJetbase {
    executable: String,
    environment: Vec<(&'static str, &'static str)>,
}

impl PythonJetbase {
    /// The PostgreSQL, SQLite and MySQL installation.
    fn plain() -> Self {
        Self::from_variable("JETBASE_TEST_PYTHON_JETBASE", Vec::new())
    }

    /// The installation with the `snowflake` extra (snowflake-sqlalchemy, whose URL parameters
    /// `account=` and `protocol=` need its legacy URL handling to reach a host of our own) and
    /// clickhouse-sqlalchemy.
    #[cfg(any(feature = "snowflake", feature = "clickhouse"))]
    fn warehouses() -> Self {
        Self::from_variable(
            "JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES",
            vec![("SNOWFLAKE_SQLALCHEMY_LEGACY_URL_PARAMS", "true")],
        )
    }

    fn from_variable(variable: &str, environment: Vec<(&'static str, &'static str)>) -> Self {
        let executable = std::env::var(variable).unwrap_or_else(|_| {
            panic!("{variable} is not set: run the tests with `bash scripts/test.sh`, which installs Python Jetbase 0.18.1")
        });
        Self {
            executable,
            environment,
        }
    }

    /// Runs Python Jetbase in `project/jetbase`; returns its combined output.
    fn run(&self, project: &Path, url: &str, args: &[&str]) -> String {
        let output = Command::new(&self.executable)
            .args(args)
            .current_dir(project.join("jetbase"))
            .env("JETBASE_SQLALCHEMY_URL", url)
            .env("NO_COLOR", "1")
            .envs(self.environment.iter().copied())
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

/// A project whose migrations are the texts given.
#[cfg(any(feature = "snowflake", feature = "clickhouse"))]
fn project_of_texts(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("jetbase/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for (name, text) in files {
        std::fs::write(migrations.join(name), text).unwrap();
    }
    dir
}

async fn take_over<P: Query>(
    db: &TestDb<P>,
    python: &PythonJetbase,
    python_url: &str,
    dir: tempfile::TempDir,
    python_applies: usize,
) {
    let migrations = dir.path().join("jetbase/migrations");
    let files: Vec<String> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    python.run(
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
    // On Python's table, which jetbase has not extended yet: the highest version Python
    // applied (in version order, so its newest versioned row), read as one row.
    let history = migrator.history(&db.pool).await.unwrap();
    let newest_versioned = history.iter().rev().find(|row| row.version.is_some());
    assert!(newest_versioned.is_some());
    assert_eq!(
        migrator.current(&db.pool).await.unwrap().as_ref(),
        newest_versioned
    );
    let report = migrator.run(&db.pool).await.unwrap();
    let versioned = report
        .migrations
        .iter()
        .filter(|m| m.is_versioned())
        .count();
    assert_eq!(
        versioned,
        files.iter().filter(|name| name.starts_with('V')).count() - python_applies
    );

    // A second migration set beside it, in tables of its own (a library's migrations): Python
    // Jetbase, on the default tables, neither sees it nor is disturbed by it.
    let library = common::Files::new(&[(
        "V1__library_items.sql",
        "CREATE TABLE library_items (id INTEGER);",
    )]);
    let library = library
        .migrator()
        .with_table_names("library_migrations", "library_lock");
    assert_eq!(library.run(&db.pool).await.unwrap().migrations.len(), 1);

    let audit = python.run(dir.path(), python_url, &["validate-checksums"]);
    assert!(
        audit.contains("All migration checksums are valid"),
        "{audit}"
    );
    let before = db
        .pool
        .count("SELECT order_executed FROM jetbase_migrations")
        .await;
    let upgrade = python.run(dir.path(), python_url, &["upgrade"]);
    assert!(upgrade.contains("Migrations are up to date"), "{upgrade}");
    assert_eq!(
        db.pool
            .count("SELECT order_executed FROM jetbase_migrations")
            .await,
        before
    );
    // And back: jetbase still finds nothing to do after Python's look, in either set.
    assert!(migrator.run(&db.pool).await.unwrap().migrations.is_empty());
    assert!(library.run(&db.pool).await.unwrap().migrations.is_empty());
    assert_eq!(library.history(&db.pool).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_takeover() {
    let db = common::sqlite().await;
    let path = db.sqlite_path.clone().unwrap();
    let url = format!("sqlite:///{}", path.display());
    take_over(
        &db,
        &PythonJetbase::plain(),
        &url,
        project(&[
            ("V1__create_users_table.sql", "V1__create_users_table.sql"),
            (
                "V2__single_line_statements.sql",
                "V6__single_line_statements.sql",
            ),
            ("V3__no_rollback_section.sql", "V9__no_rollback_section.sql"),
            // A trigger with Python's delimiter directive, applied by jetbase.
            ("V4__custom_delimiter.sql", "V8__custom_delimiter.sql"),
            ("V5__unicode.sql", "V10__unicode.sql"),
        ]),
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
        &PythonJetbase::plain(),
        &url,
        project(&[
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
        ]),
        2,
    )
    .await;
}

/// Snowflake (through fakesnow): Python Jetbase with its `snowflake` extra applies the first two
/// migrations, jetbase the rest (a `$$` procedure body and a Scripting block Python's splitter
/// would cut at every `;` among them), and Python then finds every checksum valid and nothing to
/// do.
#[cfg(feature = "snowflake")]
#[tokio::test]
async fn snowflake_takeover() {
    let db = common::snowflake().await;
    let dir = project_of_texts(&[
        (
            "V1__create_events.sql",
            "-- upgrade\nCREATE TABLE events (\n    id INTEGER,\n    name VARCHAR(100) NOT NULL\n);\n\n-- rollback\nDROP TABLE events;\n",
        ),
        (
            "V2__seed_events.sql",
            "-- upgrade\nINSERT INTO events (id, name) VALUES (1, 'created; with a semicolon');\nINSERT INTO events (id, name) VALUES (2, 'it''s quoted');\n\n-- rollback\nDELETE FROM events;\n",
        ),
        (
            "V3__more_events.sql",
            "-- upgrade\n// a Snowflake comment; with a semicolon\nINSERT INTO events (id, name) VALUES (3, 'three');\nCREATE TABLE audit (id INTEGER, note VARCHAR);\n\n-- rollback\nDROP TABLE audit;\nDELETE FROM events WHERE id = 3;\n",
        ),
        (
            "V4__unicode.sql",
            "-- upgrade\nINSERT INTO audit (id, note) VALUES (4, 'héllo — ✓');\n\n-- rollback\nDELETE FROM audit WHERE id = 4;\n",
        ),
        (
            "ROC__event_names.sql",
            "CREATE OR REPLACE VIEW event_names AS SELECT name FROM events;\n",
        ),
    ]);
    let python_url = db.url.clone();
    take_over(&db, &PythonJetbase::warehouses(), &python_url, dir, 2).await;
    assert_eq!(
        db.pool.count("SELECT id FROM events").await,
        3,
        "Python's and jetbase's inserts"
    );
}

/// ClickHouse (chdb's engine behind the HTTP front): Python Jetbase with clickhouse-sqlalchemy's
/// HTTP driver applies the first two migrations, jetbase the rest, and Python then finds every
/// checksum valid and nothing to do. Python takes no lock on ClickHouse; jetbase's claims table
/// is its own.
#[cfg(feature = "clickhouse")]
#[tokio::test]
async fn clickhouse_takeover() {
    let db = common::clickhouse().await;
    let dir = project_of_texts(&[
        (
            "V1__create_events.sql",
            "-- upgrade\nCREATE TABLE events (\n    id UInt64,\n    name String\n) ENGINE = MergeTree ORDER BY id;\n\n-- rollback\nDROP TABLE events;\n",
        ),
        (
            "V2__seed_events.sql",
            "-- upgrade\nINSERT INTO events (id, name) VALUES (1, 'created; with a semicolon');\nINSERT INTO events (id, name) VALUES (2, 'it\\'s escaped');\n\n-- rollback\nDELETE FROM events WHERE 1 = 1;\n",
        ),
        (
            "V3__more_events.sql",
            "-- upgrade\n# a hash comment; with a semicolon\nINSERT INTO events (id, name) VALUES (3, $tag$three; in a heredoc$tag$);\nCREATE TABLE audit (id UInt64, note String) ENGINE = MergeTree ORDER BY id;\n\n-- rollback\nDROP TABLE audit;\nDELETE FROM events WHERE id = 3;\n",
        ),
        (
            "V4__unicode.sql",
            "-- upgrade\nINSERT INTO audit (id, note) VALUES (4, 'héllo — ✓');\n\n-- rollback\nDELETE FROM audit WHERE id = 4;\n",
        ),
        (
            "ROC__event_names.sql",
            "CREATE OR REPLACE VIEW event_names AS SELECT name FROM events;\n",
        ),
    ]);
    let python_url = db.url.replacen("clickhouse://", "clickhouse+http://", 1);
    take_over(&db, &PythonJetbase::warehouses(), &python_url, dir, 2).await;
    assert_eq!(
        db.pool.count("SELECT id FROM events").await,
        3,
        "Python's and jetbase's inserts"
    );
}

/// Python Jetbase 0.18.1's statements for one database, as its installed package writes them
/// (`jetbase/database/queries/<database>.py`), by method name.
#[cfg(feature = "databricks")]
fn python_statements(database: &str, class: &str) -> std::collections::BTreeMap<String, String> {
    let jetbase = std::env::var("JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES").unwrap_or_else(|_| {
        panic!("JETBASE_TEST_PYTHON_JETBASE_WAREHOUSES is not set: run the tests with `bash scripts/test.sh`")
    });
    let python = Path::new(&jetbase).with_file_name("python");
    let script = format!(
        "import json\nfrom jetbase.database.queries.{database} import {class} as Q\n\
         print(json.dumps({{name: str(getattr(Q, name)()) for name in dir(Q) \
         if name.endswith(('_stmt', '_query')) and name in vars(Q)}}))"
    );
    let output = Command::new(python).args(["-c", &script]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The column list of `SHOW CREATE TABLE`, one column a line, without jetbase's own columns.
#[cfg(feature = "databricks")]
async fn python_columns_of(pool: &jetbase::DatabricksPool, table: &str) -> Vec<String> {
    let create = pool
        .fetch_all(&format!("SHOW CREATE TABLE {table}"))
        .await
        .unwrap()[0][0]
        .clone()
        .unwrap();
    let start = create.find('(').unwrap() + 1;
    let mut depth = 1;
    let end = start
        + create[start..]
            .find(|c| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .unwrap();
    create[start..end]
        .split(",\n")
        .map(|column| column.trim().to_owned())
        .filter(|column| {
            !["execution_ms", "success", "history_digest"]
                .iter()
                .any(|own| column.starts_with(own))
        })
        .collect()
}

/// Databricks: Python Jetbase's own Databricks path cannot run here (its Thrift connector does
/// not talk to a plain Spark Thrift server), so the comparison is of the statements, read from
/// Python Jetbase's installed package: Python's table definitions, run on the stand-in, make
/// the tables jetbase makes (but for jetbase's own nullable columns); a lock row taken and a
/// history row written by Python's statements are read by jetbase, which then applies only
/// what is left.
#[cfg(feature = "databricks")]
#[tokio::test]
async fn databricks_tables_and_history_are_python_jetbases() {
    let python = python_statements("databricks", "DatabricksQueries");
    let files = common::Files::new(&[
        ("V1__a.sql", "CREATE TABLE a (id INT);"),
        ("V2__b.sql", "CREATE TABLE b (id INT);"),
    ]);
    let migrator = files.migrator();

    // jetbase's tables, and Python's in another schema.
    let jetbase_made = common::databricks().await;
    migrator.run(&jetbase_made.pool).await.unwrap();
    let python_made = common::databricks().await;
    for statement in [
        "create_migrations_table_stmt",
        "create_lock_table_stmt",
        "initialize_lock_record_stmt",
    ] {
        python_made.pool.exec(&python[statement]).await;
    }
    for table in ["jetbase_migrations", "jetbase_lock"] {
        assert_eq!(
            python_columns_of(&jetbase_made.pool, table).await,
            python_columns_of(&python_made.pool, table).await,
            "{table}"
        );
    }

    // Python takes the lock: jetbase sees it held by Python's process.
    let acquire = python["acquire_lock_stmt"].replace(":process_id", "'python-process'");
    assert_eq!(python_made.pool.execute(&acquire).await.unwrap(), 1);
    let status = Migrator::default()
        .lock_status(&python_made.pool)
        .await
        .unwrap();
    assert!(status.locked);
    assert_eq!(status.process_id.as_deref(), Some("python-process"));
    python_made
        .pool
        .exec("UPDATE jetbase_lock SET is_locked = FALSE, process_id = NULL WHERE id = 1")
        .await;

    // Python records V1; jetbase applies only V2.
    let v1 = &migrator.migrations()[0];
    let insert = python["insert_version_stmt"]
        .replace(":version", "'1'")
        .replace(":description", "'a'")
        .replace(":filename", "'V1__a.sql'")
        .replace(":migration_type", "'VERSIONED'")
        .replace(":checksum", &format!("'{}'", v1.checksum()));
    python_made.pool.exec(&insert).await;
    let report = migrator.run(&python_made.pool).await.unwrap();
    let applied: Vec<&str> = report
        .migrations
        .iter()
        .map(|m| m.filename.as_str())
        .collect();
    assert_eq!(applied, ["V2__b.sql"]);
    assert!(python_made.table_exists("b").await);
    assert!(!python_made.table_exists("a").await, "V1 was Python's");
    assert_eq!(python_made.applied_versions().await, ["1", "2"]);
}
