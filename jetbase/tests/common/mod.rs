//! Test support: a fresh database per test on SQLite, PostgreSQL and MySQL/MariaDB, and the
//! `database_test!` macro that runs one test body on all three.
//!
//! The servers come from `scripts/test.sh`, which exports `JETBASE_TEST_POSTGRES_URL` and
//! `JETBASE_TEST_MYSQL_URL`. A missing variable fails the test: it never passes silently.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use jetbase::{Database, Dialect, Migrator};
use sqlx::{MySqlPool, PgPool, SqlitePool};

/// One fresh database and its pool.
pub struct TestDb<P> {
    pub pool: P,
    pub dialect: Dialect,
    /// The URL of this database (for child processes).
    pub url: String,
    /// The SQLite file, for SQLite.
    pub sqlite_path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

fn server_url(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: database tests need the servers that `bash scripts/test.sh` starts \
             (or set {variable} to an admin URL of your own server)"
        )
    })
}

fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "jb_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database part of a URL (`scheme://user@host:port/db?x` → `/name?x`).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let slash = base.rfind('/').unwrap();
    let mut out = format!("{}/{name}", &base[..slash]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

pub async fn sqlite() -> TestDb<SqlitePool> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = SqlitePool::connect(&url).await.unwrap();
    TestDb {
        pool,
        dialect: Dialect::Sqlite,
        url,
        sqlite_path: Some(path),
        _dir: Some(dir),
    }
}

/// A fresh database on the server whose admin URL is in `variable`.
async fn server_database<DB: sqlx::Database>(
    variable: &str,
    dialect: Dialect,
) -> TestDb<sqlx::Pool<DB>>
where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
{
    let admin_url = server_url(variable);
    let name = unique_name();
    let admin = sqlx::Pool::<DB>::connect(&admin_url).await.unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let url = with_database(&admin_url, &name);
    let pool = sqlx::Pool::<DB>::connect(&url).await.unwrap();
    TestDb {
        pool,
        dialect,
        url,
        sqlite_path: None,
        _dir: None,
    }
}

pub async fn postgres() -> TestDb<PgPool> {
    server_database("JETBASE_TEST_POSTGRES_URL", Dialect::Postgres).await
}

pub async fn mysql() -> TestDb<MySqlPool> {
    server_database("JETBASE_TEST_MYSQL_URL", Dialect::MySql).await
}

/// Plain queries for assertions, on any of the three pools.
#[allow(async_fn_in_trait)]
pub trait Query: Database {
    async fn exec(&self, sql: &str);
    async fn try_exec(&self, sql: &str) -> Result<(), sqlx::Error>;
    async fn count(&self, sql: &str) -> i64;
    async fn strings(&self, sql: &str) -> Vec<String>;
    async fn new_pool(&self, url: &str) -> Self;
    async fn single_connection_pool(&self, url: &str) -> Self;
}

macro_rules! impl_query {
    ($pool:ty) => {
        impl Query for $pool {
            async fn exec(&self, sql: &str) {
                sqlx::raw_sql(sql)
                    .execute(self)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            async fn try_exec(&self, sql: &str) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(sql).execute(self).await.map(|_| ())
            }
            async fn count(&self, sql: &str) -> i64 {
                let count_sql = format!(
                    "SELECT CAST(COUNT(*) AS {}) FROM ({sql}) counted",
                    int_type(self.dialect())
                );
                sqlx::query_scalar(&count_sql)
                    .fetch_one(self)
                    .await
                    .unwrap_or_else(|e| panic!("{count_sql}: {e}"))
            }
            async fn strings(&self, sql: &str) -> Vec<String> {
                sqlx::query_scalar(sql)
                    .fetch_all(self)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            async fn new_pool(&self, url: &str) -> Self {
                <$pool>::connect(url).await.unwrap()
            }
            async fn single_connection_pool(&self, url: &str) -> Self {
                sqlx::pool::PoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .unwrap()
            }
        }
    };
}

fn int_type(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySql => "SIGNED",
        _ => "BIGINT",
    }
}

impl_query!(SqlitePool);
impl_query!(PgPool);
impl_query!(MySqlPool);

impl<P: Query> TestDb<P> {
    /// Whether a table exists in the test database.
    pub async fn table_exists(&self, table: &str) -> bool {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
            }
            Dialect::MySql => format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
            _ => format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
        };
        self.pool.count(&sql).await > 0
    }

    /// The versions in the history, in applied order.
    pub async fn applied_versions(&self) -> Vec<String> {
        self.pool
            .strings("SELECT version FROM jetbase_migrations WHERE migration_type = 'VERSIONED' ORDER BY order_executed")
            .await
    }

    /// Whether the lock row is free.
    pub async fn lock_is_free(&self) -> bool {
        self.pool
            .count("SELECT id FROM jetbase_lock WHERE id = 1 AND is_locked = TRUE")
            .await
            == 0
    }

    /// A fresh pool on the same database.
    pub async fn another_pool(&self) -> P {
        self.pool.new_pool(&self.url).await
    }
}

/// A migrations directory written from `(file name, body)` pairs, read with `from_dir`.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let written = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, body) in files.iter().copied() {
            written.write(name, body);
        }
        written
    }

    pub fn write(&self, name: &str, body: &str) {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    pub fn remove(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join(name)).unwrap();
    }

    pub fn migrator(&self) -> Migrator {
        Migrator::from_dir(self.dir.path()).unwrap()
    }
}

/// Runs one async test body on SQLite, PostgreSQL and MySQL/MariaDB: three `#[tokio::test]`s
/// named `<name>::sqlite`, `<name>::postgres` and `<name>::mysql`.
#[macro_export]
macro_rules! database_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(&$crate::common::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(&$crate::common::postgres().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                super::$body(&$crate::common::mysql().await).await;
            }
        }
    };
}
