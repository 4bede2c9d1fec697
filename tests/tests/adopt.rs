//! `adopt` on histories the other tools wrote themselves: sqlx's `Migrator` (SQLite and
//! PostgreSQL) and refinery's `Runner` (PostgreSQL, through tokio-postgres). The diesel case,
//! whose rows the test writes by diesel's rules, is in the CLI's tests.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use jetbase::adopt::Tool;
use jetbase::{Database, Error, Migrator, State};
use sqlx::{PgPool, SqlitePool};

/// A fresh PostgreSQL database on the test server: its URL.
async fn postgres_database() -> String {
    let admin_url = std::env::var("JETBASE_TEST_POSTGRES_URL").expect(
        "JETBASE_TEST_POSTGRES_URL is not set: run `bash scripts/test.sh`, which starts the servers",
    );
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "jb_adopt_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let admin = PgPool::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url.as_str(), None), |(b, q)| (b, Some(q)));
    let slash = base.rfind('/').unwrap();
    let mut url = format!("{}/{name}", &base[..slash]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

fn write_all(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, body) in files {
        std::fs::write(dir.join(name), body).unwrap();
    }
}

const SQLX_APPLIED: &[(&str, &str)] = &[
    (
        "1_create_users.up.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n",
    ),
    ("1_create_users.down.sql", "DROP TABLE users;\n"),
    (
        "2_add_email.sql",
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n",
    ),
    (
        "3_name_index.up.sql",
        "-- no-transaction\nCREATE INDEX ix_users_name ON users (name);\n",
    ),
    ("3_name_index.down.sql", "DROP INDEX ix_users_name;\n"),
];

const SQLX_PENDING: &[(&str, &str)] = &[
    (
        "4_create_posts.up.sql",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
    ),
    ("4_create_posts.down.sql", "DROP TABLE posts;\n"),
];

/// After sqlx applied 1–3 and with 4 pending: refusals first (nothing written), then the
/// adoption, then jetbase runs the project.
async fn adopt_after_sqlx<D: Database>(pool: &D, sqlx_dir: &Path, mark_failed: impl AsyncFn(bool)) {
    let target = tempfile::tempdir().unwrap();
    let to = target.path().join("jetbase/migrations");
    let configuration = Migrator::default();
    let adopt = || configuration.adopt(Tool::Sqlx, sqlx_dir, &to, pool);

    // An applied file edited since: its checksum no longer matches.
    let email = sqlx_dir.join("2_add_email.sql");
    std::fs::write(&email, "ALTER TABLE users ADD COLUMN email VARCHAR(200);\n").unwrap();
    let error = adopt().await.unwrap_err();
    assert!(matches!(error, Error::Refused { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("`2_add_email.sql` was changed after sqlx applied it"),
        "{error}"
    );
    assert!(!to.exists(), "nothing written");
    std::fs::write(&email, SQLX_APPLIED[2].1).unwrap();
    // A migration sqlx marked failed.
    mark_failed(true).await;
    let error = adopt().await.unwrap_err();
    assert!(error.to_string().contains("as failed"), "{error}");
    assert!(!to.exists(), "nothing written");
    mark_failed(false).await;

    let adoption = adopt().await.unwrap();
    assert!(adoption.tool_table_found);
    let converted: Vec<&str> = adoption
        .converted
        .iter()
        .map(|file| file.filename.as_str())
        .collect();
    assert_eq!(
        converted,
        [
            "V1__create_users.sql",
            "V2__add_email.sql",
            "V3__name_index.sql",
            "V4__create_posts.sql"
        ]
    );
    let recorded: Vec<&str> = adoption
        .recorded
        .migrations
        .iter()
        .map(|entry| entry.filename.as_str())
        .collect();
    assert_eq!(recorded, &converted[..3]);
    let index = std::fs::read_to_string(to.join("V3__name_index.sql")).unwrap();
    assert_eq!(
        index,
        "-- jetbase: no-transaction\n-- upgrade\nCREATE INDEX ix_users_name ON users (name);\n\n\
         -- rollback\nDROP INDEX ix_users_name;\n"
    );

    let migrator = Migrator::from_dir(&to).unwrap();
    let states: Vec<State> = migrator
        .status(pool)
        .await
        .unwrap()
        .iter()
        .map(|status| status.state)
        .collect();
    assert_eq!(
        states,
        [
            State::Applied,
            State::Applied,
            State::Applied,
            State::Pending
        ]
    );
    let report = migrator.run(pool).await.unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(report.migrations[0].filename, "V4__create_posts.sql");
    assert!(migrator.run(pool).await.unwrap().migrations.is_empty());
    // The converted down SQL runs, the no-transaction one too.
    let report = migrator.rollback(pool).count(2).await.unwrap();
    assert_eq!(report.migrations.len(), 2);
    migrator.run(pool).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_what_sqlx_applied_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let sqlx_dir = dir.path().join("migrations");
    write_all(&sqlx_dir, SQLX_APPLIED);
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let pool = SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(sqlx_dir.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    write_all(&sqlx_dir, SQLX_PENDING);
    let mark_failed = async |failed: bool| {
        sqlx::query("UPDATE _sqlx_migrations SET success = ? WHERE version = 2")
            .bind(!failed)
            .execute(&pool)
            .await
            .unwrap();
    };
    adopt_after_sqlx(&pool, &sqlx_dir, mark_failed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_what_sqlx_applied_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let sqlx_dir = dir.path().join("migrations");
    write_all(&sqlx_dir, SQLX_APPLIED);
    let pool = PgPool::connect(&postgres_database().await).await.unwrap();
    sqlx::migrate::Migrator::new(sqlx_dir.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    write_all(&sqlx_dir, SQLX_PENDING);
    let mark_failed = async |failed: bool| {
        sqlx::query("UPDATE _sqlx_migrations SET success = $1 WHERE version = 2")
            .bind(!failed)
            .execute(&pool)
            .await
            .unwrap();
    };
    adopt_after_sqlx(&pool, &sqlx_dir, mark_failed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopts_what_refinery_applied_on_postgres() {
    let url = postgres_database().await;
    let files = [
        (
            "V1__create_users.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n",
        ),
        (
            "V2__add_email.sql",
            "ALTER TABLE users ADD COLUMN email VARCHAR(100);\n",
        ),
    ];
    let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let migrations: Vec<refinery::Migration> = files
        .iter()
        .map(|(name, sql)| {
            refinery::Migration::unapplied(name.trim_end_matches(".sql"), sql).unwrap()
        })
        .collect();
    refinery::Runner::new(&migrations)
        .run_async(&mut client)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let refinery_dir = dir.path().join("migrations");
    write_all(&refinery_dir, &files);
    write_all(
        &refinery_dir.join("later"),
        &[(
            "V3__create_posts.sql",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
        )],
    );
    let to = dir.path().join("jetbase/migrations");
    let pool = PgPool::connect(&url).await.unwrap();
    let adoption = Migrator::default()
        .adopt(Tool::Refinery, &refinery_dir, &to, &pool)
        .await
        .unwrap();
    assert_eq!(adoption.converted.len(), 3);
    assert_eq!(adoption.converted[2].source, "later/V3__create_posts.sql");
    assert_eq!(adoption.recorded.migrations.len(), 2);
    let migrator = Migrator::from_dir(&to).unwrap();
    let report = migrator.run(&pool).await.unwrap();
    assert_eq!(report.migrations.len(), 1);
    assert_eq!(report.migrations[0].filename, "V3__create_posts.sql");
    // refinery's table is left as it was.
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refinery_schema_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}
