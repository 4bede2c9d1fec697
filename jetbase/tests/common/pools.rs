//! The test databases and `Query` through the sqlx of the module that includes this file
//! (`sqlx_0_9.rs`, `sqlx_0_8.rs`): one body, compiled against each sqlx major.

use super::{Database, Dialect, Query, TestDb, int_type, server_url, unique_name, with_database};
use super::{sqlx, text};
use sqlx::{MySqlPool, PgPool, SqlitePool};

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
        pooler: jetbase::Pooler::None,
        nodes: Vec::new(),
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
    sqlx::raw_sql(text(&format!("CREATE DATABASE {name}")))
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
        pooler: jetbase::Pooler::None,
        nodes: Vec::new(),
        _dir: None,
    }
}

pub async fn postgres() -> TestDb<PgPool> {
    server_database("JETBASE_TEST_POSTGRES_URL", Dialect::Postgres).await
}

/// A database on the PostgreSQL 18 server (the test script starts it beside PostgreSQL 15).
#[allow(dead_code)]
pub async fn postgres18() -> TestDb<PgPool> {
    server_database("JETBASE_TEST_POSTGRES18_URL", Dialect::Postgres).await
}

pub async fn mysql() -> TestDb<MySqlPool> {
    server_database("JETBASE_TEST_MYSQL_URL", Dialect::MySql).await
}

/// A fresh database on the test PostgreSQL 15, reached through the PgBouncer in front of it
/// (transaction mode, stock settings): the pool connects without `extra_float_digits`, and
/// `url` (for the CLI and child processes) is PgBouncer's, to be recognised by its refusal.
#[allow(dead_code)]
pub async fn pgbouncer() -> TestDb<PgPool> {
    use std::str::FromStr as _;
    let direct: TestDb<PgPool> = postgres().await;
    direct.pool.close().await;
    let name = direct.url.rsplit('/').next().unwrap().to_owned();
    let url = with_database(&server_url("JETBASE_TEST_PGBOUNCER_URL"), &name);
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        .extra_float_digits(None)
        .statement_cache_capacity(0);
    let pool = PgPool::connect_with(options).await.unwrap();
    TestDb {
        pool,
        dialect: Dialect::Postgres,
        url,
        sqlite_path: None,
        pooler: jetbase::Pooler::Transaction,
        nodes: Vec::new(),
        _dir: None,
    }
}

/// A fresh database on the test Galera cluster (created on its first node, and waited for on
/// the others), the pool on the first node.
#[allow(dead_code)]
pub async fn galera() -> TestDb<MySqlPool> {
    let admin_urls: Vec<String> = server_url("JETBASE_TEST_GALERA_URLS")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert!(
        admin_urls.len() >= 2,
        "JETBASE_TEST_GALERA_URLS: {admin_urls:?}"
    );
    let name = unique_name();
    let admin = MySqlPool::connect(&admin_urls[0]).await.unwrap();
    sqlx::raw_sql(text(&format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let nodes: Vec<String> = admin_urls
        .iter()
        .map(|url| with_database(url, &name))
        .collect();
    for node in &nodes {
        let started = std::time::Instant::now();
        while MySqlPool::connect(node).await.is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{node} never saw the database"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    TestDb {
        pool: MySqlPool::connect(&nodes[0]).await.unwrap(),
        dialect: Dialect::MySql,
        url: nodes[0].clone(),
        sqlite_path: None,
        pooler: jetbase::Pooler::None,
        nodes,
        _dir: None,
    }
}

/// `Query` for one pool type.
macro_rules! impl_query {
    ($pool:ty) => {
        impl Query for $pool {
            async fn exec(&self, sql: &str) {
                sqlx::raw_sql(text(sql))
                    .execute(self)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            async fn try_exec(&self, sql: &str) -> Result<(), String> {
                sqlx::raw_sql(text(sql))
                    .execute(self)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            async fn count(&self, sql: &str) -> i64 {
                let count_sql = format!(
                    "SELECT CAST(COUNT(*) AS {}) FROM ({sql}) counted",
                    int_type(self.dialect())
                );
                // As plain text (nothing prepared): the same through PgBouncer.
                let row = sqlx::raw_sql(text(&count_sql))
                    .fetch_one(self)
                    .await
                    .unwrap_or_else(|e| panic!("{count_sql}: {e}"));
                sqlx::Row::try_get(&row, 0).unwrap()
            }
            async fn strings(&self, sql: &str) -> Vec<String> {
                sqlx::raw_sql(text(sql))
                    .fetch_all(self)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|row| sqlx::Row::try_get(row, 0).unwrap())
                    .collect()
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

impl_query!(SqlitePool);
impl_query!(PgPool);
impl_query!(MySqlPool);
