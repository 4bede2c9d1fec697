//! `#[jetbase::test]`: each test gets its own database, a copy of a template the migrations
//! were applied to once. SQLite's tests run here directly. The PostgreSQL and MySQL/MariaDB
//! tests need `DATABASE_URL`, which the tests' own servers are not named by: each server's
//! group runs in a child process of this binary with `DATABASE_URL` set to it (the groups are
//! `#[ignore]`d in a direct run), and the parent test asserts what they did.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use jetbase::{AnyPool, Migrator};
use sqlx::{MySqlPool, PgPool, SqlitePool};

static MIGRATOR: Migrator = jetbase::embed!("tests/fixtures/test_macro");
/// Migrations that make a view: on MySQL/MariaDB, applied to each test's database rather than
/// copied (a copy of the tables would leave the view out).
static WITH_VIEW: Migrator = jetbase::embed!("tests/fixtures/test_macro_views");

/// The users of a pool's database, by name (any of sqlx's pools).
macro_rules! user_names {
    ($pool:expr) => {
        sqlx::query_scalar::<_, String>("SELECT name FROM users ORDER BY id")
            .fetch_all($pool)
            .await
            .unwrap()
    };
}

// ---- SQLite: run directly ----

#[jetbase::test(migrator = MIGRATOR)]
async fn sqlite_gets_a_migrated_database(pool: SqlitePool) {
    assert_eq!(user_names!(&pool), ["admin"]);
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jetbase_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, 3);
    // Its own copy: the other tests never see this row, and it never sees theirs.
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'only here')")
        .execute(&pool)
        .await
        .unwrap();
}

#[jetbase::test(migrator = MIGRATOR)]
async fn sqlite_copies_are_independent(pool: SqlitePool) {
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'also here')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(user_names!(&pool), ["admin", "also here"]);
}

#[jetbase::test(migrator = MIGRATOR, to_version = "2")]
async fn sqlite_up_to_a_version(pool: SqlitePool) {
    assert!(user_names!(&pool).is_empty(), "V3 not applied");
    assert_eq!(MIGRATOR.status(&pool).await.unwrap().len(), 3);
    assert_eq!(
        MIGRATOR
            .current(&pool)
            .await
            .unwrap()
            .unwrap()
            .version
            .as_deref(),
        Some("2")
    );
}

#[jetbase::test(migrator = MIGRATOR, migrations = false)]
async fn sqlite_empty_database(pool: SqlitePool) {
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 0);
}

#[jetbase::test(migrator = MIGRATOR, fixtures("tests/fixtures/test_macro_data/customers.sql"))]
async fn sqlite_fixtures_run_after_the_migrations(pool: SqlitePool) -> Result<(), sqlx::Error> {
    assert_eq!(user_names!(&pool), ["admin", "ada", "grace"]);
    let total: i64 = sqlx::query_scalar("SELECT total FROM orders WHERE user_id = 2")
        .fetch_one(&pool)
        .await?;
    assert_eq!(total, 42);
    Ok(())
}

/// sqlx 0.8's pool, for applications still on it.
#[cfg(feature = "sqlx-0_8")]
#[jetbase::test(migrator = MIGRATOR)]
async fn sqlite_on_sqlx_0_8(pool: sqlx_0_8::SqlitePool) {
    let names: Vec<String> = sqlx_0_8::query_scalar("SELECT name FROM users ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["admin"]);
}

/// A negative test: its panic is its success.
#[jetbase::test(migrator = MIGRATOR)]
#[should_panic(expected = "no such table")]
async fn sqlite_should_panic(pool: SqlitePool) {
    sqlx::query("SELECT * FROM no_such_table")
        .fetch_all(&pool)
        .await
        .unwrap();
}

/// A test body's failure (a function: a block ending in `panic!` has no `()` to return).
fn fail_on_purpose() {
    panic!("on purpose");
}

/// The SQLite file behind a pool.
fn file_of(pool: &SqlitePool) -> std::path::PathBuf {
    pool.connect_options().get_filename().to_path_buf()
}

#[test]
fn an_expected_panic_drops_the_database_and_a_missing_one_keeps_it() {
    let file = std::sync::Mutex::new(None);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        jetbase::testing::TestDatabase::builder(&MIGRATOR)
            .expects_panic(true)
            .run(|pool: SqlitePool| {
                *file.lock().unwrap() = Some(file_of(&pool));
                async move {
                    drop(pool);
                    fail_on_purpose();
                }
            });
    }));
    assert!(panicked.is_err(), "the panic goes on, for #[should_panic]");
    let dropped = file.lock().unwrap().take().unwrap();
    assert!(!dropped.exists(), "{} is dropped", dropped.display());

    // A test expected to panic that returns has failed: its database stays, to look at.
    jetbase::testing::TestDatabase::builder(&MIGRATOR)
        .expects_panic(true)
        .run(|pool: SqlitePool| {
            *file.lock().unwrap() = Some(file_of(&pool));
            async move { drop(pool) }
        });
    let kept = file.lock().unwrap().take().unwrap();
    assert!(kept.exists(), "{} is kept", kept.display());
    std::fs::remove_file(&kept).unwrap();
}

#[jetbase::test(migrator = MIGRATOR)]
async fn sqlite_any_pool(pool: AnyPool) {
    assert!(
        MIGRATOR.run(&pool).await.unwrap().migrations.is_empty(),
        "already current"
    );
}

// ---- PostgreSQL and MySQL/MariaDB: run by the parent tests below ----

#[cfg(feature = "sqlx-0_8")]
#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by postgres_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn postgres_on_sqlx_0_8(pool: sqlx_0_8::PgPool) {
    let names: Vec<String> = sqlx_0_8::query_scalar("SELECT name FROM users ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["admin"]);
}

#[cfg(feature = "sqlx-0_8")]
#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by mysql_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn mysql_on_sqlx_0_8(pool: sqlx_0_8::MySqlPool) {
    let names: Vec<String> = sqlx_0_8::query_scalar("SELECT name FROM users ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(names, ["admin"]);
}

#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by postgres_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn postgres_gets_a_migrated_database(pool: PgPool) {
    assert_eq!(user_names!(&pool), ["admin"]);
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'only here')")
        .execute(&pool)
        .await
        .unwrap();
}

#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by postgres_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn postgres_copies_are_independent(pool: PgPool) {
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'also here')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(user_names!(&pool), ["admin", "also here"]);
}

#[jetbase::test(migrator = MIGRATOR, to_version = "2")]
#[ignore = "run by postgres_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn postgres_up_to_a_version(pool: PgPool) {
    assert!(user_names!(&pool).is_empty());
}

#[jetbase::test(migrator = MIGRATOR, fixtures("tests/fixtures/test_macro_data/customers.sql"))]
#[ignore = "run by postgres_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn postgres_fixtures(pool: AnyPool) -> Result<(), jetbase::Error> {
    assert_eq!(MIGRATOR.history(&pool).await?.len(), 3);
    Ok(())
}

#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by a_failing_test_keeps_its_database, with DATABASE_URL set"]
async fn failing_pg_test(pool: PgPool) {
    sqlx::query("INSERT INTO users (id, name) VALUES (7, 'evidence')")
        .execute(&pool)
        .await
        .unwrap();
    panic!("failing on purpose");
}

#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by mysql_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn mysql_gets_a_migrated_database(pool: MySqlPool) {
    assert_eq!(user_names!(&pool), ["admin"]);
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'only here')")
        .execute(&pool)
        .await
        .unwrap();
    // The foreign key came over with the table.
    let orphan = sqlx::query("INSERT INTO orders (id, user_id, total) VALUES (1, 12345, 1)")
        .execute(&pool)
        .await;
    assert!(orphan.is_err(), "the foreign key holds in the copy");
}

#[jetbase::test(migrator = MIGRATOR)]
#[ignore = "run by mysql_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn mysql_copies_are_independent(pool: MySqlPool) {
    sqlx::query("INSERT INTO users (id, name) VALUES (99, 'also here')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(user_names!(&pool), ["admin", "also here"]);
    assert!(
        MIGRATOR.run(&pool).await.unwrap().migrations.is_empty(),
        "history copied too"
    );
}

#[jetbase::test(migrator = WITH_VIEW)]
#[ignore = "run by mysql_tests_get_databases_of_their_own, with DATABASE_URL set"]
async fn mysql_keeps_the_views(pool: MySqlPool) {
    let expensive: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM expensive_items")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(expensive, 1);
}

#[jetbase::test(migrator = WITH_VIEW)]
async fn sqlite_keeps_the_views(pool: SqlitePool) {
    let expensive: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM expensive_items")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(expensive, 1);
}

/// Runs this binary's ignored tests whose names start with `prefix`, with `variables` set
/// (and `DATABASE_URL` removed unless set there); its exit status and output.
fn run_group(prefix: &str, variables: &[(&str, String)]) -> (bool, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([prefix, "--ignored", "--nocapture", "--test-threads=4"])
        .env_remove("DATABASE_URL");
    for (name, value) in variables {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn server(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: run the tests with `bash scripts/test.sh`, which starts the servers")
    })
}

#[test]
fn postgres_tests_get_databases_of_their_own() {
    let url = server("JETBASE_TEST_POSTGRES_URL");
    let (passed, output) = run_group("postgres_", &[("DATABASE_URL", url)]);
    assert!(passed, "{output}");
    let expected = if cfg!(feature = "sqlx-0_8") { 5 } else { 4 };
    assert!(output.contains(&format!("{expected} passed")), "{output}");
}

#[test]
fn mysql_tests_get_databases_of_their_own() {
    let url = server("JETBASE_TEST_MYSQL_URL");
    let (passed, output) = run_group("mysql_", &[("DATABASE_URL", url)]);
    assert!(passed, "{output}");
    let expected = if cfg!(feature = "sqlx-0_8") { 4 } else { 3 };
    assert!(output.contains(&format!("{expected} passed")), "{output}");
}

#[test]
fn a_failing_test_keeps_its_database() {
    let url = server("JETBASE_TEST_POSTGRES_URL");
    let (passed, output) = run_group("failing_pg_test", &[("DATABASE_URL", url.clone())]);
    assert!(!passed, "{output}");
    assert!(output.contains("failing on purpose"), "{output}");
    let kept = output
        .lines()
        .find_map(|line| line.split("its database ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("the kept database is named: {output}"));
    assert!(output.contains("failing_pg_test failed"), "{output}");
    assert!(
        !output.contains(&password_of(&url)),
        "no password: {output}"
    );
    // It is there, with what the test wrote; then it goes.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = PgPool::connect(&url).await.unwrap();
        let base = url.rsplit_once('/').unwrap().0;
        let kept_pool = PgPool::connect(&format!("{base}/{kept}")).await.unwrap();
        assert_eq!(user_names!(&kept_pool), ["admin", "evidence"]);
        kept_pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE \"{kept}\" WITH (FORCE)"
        )))
        .execute(&server)
        .await
        .unwrap();
    });
}

#[test]
fn without_database_url_a_postgres_test_fails_naming_it() {
    let (passed, output) = run_group("postgres_gets_a_migrated_database", &[]);
    assert!(!passed, "{output}");
    assert!(
        output.contains("invalid DATABASE_URL: is not set"),
        "{output}"
    );
    let (passed, output) = run_group(
        "postgres_gets_a_migrated_database",
        &[(
            "DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none".to_owned(),
        )],
    );
    assert!(!passed, "{output}");
    assert!(
        output.contains("connecting to DATABASE_URL's server"),
        "{output}"
    );
    let (passed, output) = run_group(
        "postgres_gets_a_migrated_database",
        &[("DATABASE_URL", server("JETBASE_TEST_MYSQL_URL"))],
    );
    assert!(!passed, "{output}");
    assert!(output.contains("names a mysql server"), "{output}");
}

fn password_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map_or_else(
            || "\u{0}no password".to_owned(),
            |(_, password)| password.to_owned(),
        )
}
