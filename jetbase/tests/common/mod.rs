//! Test support: a fresh database per test on SQLite, PostgreSQL and MySQL/MariaDB, and the
//! `database_test!` macro that runs one test body on all three.
//!
//! The servers come from `scripts/test.sh`, which exports `JETBASE_TEST_POSTGRES_URL` and
//! `JETBASE_TEST_MYSQL_URL`. A missing variable fails the test: it never passes silently.

#![allow(dead_code, clippy::unwrap_used)]

pub mod recorder;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

pub use jetbase::{Database, Dialect, Migrator};

/// One fresh database and its pool.
pub struct TestDb<P> {
    pub pool: P,
    pub dialect: Dialect,
    /// The URL of this database (for child processes).
    pub url: String,
    /// The SQLite file, for SQLite.
    pub sqlite_path: Option<PathBuf>,
    /// The pooler between the tests and the server (PgBouncer in transaction mode for
    /// `pgbouncer()`): a migrator run on `pool` must be told.
    pub pooler: jetbase::Pooler,
    /// The URLs of every node of a cluster (Galera: three), `url` first; empty for one server.
    pub nodes: Vec<String>,
    pub _dir: Option<tempfile::TempDir>,
}

pub fn server_url(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set: database tests need the servers that `bash scripts/test.sh` starts \
             (or set {variable} to an admin URL of your own server)"
        )
    })
}

pub fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "jb_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database part of a URL (`scheme://user@host:port/db?x` → `/name?x`).
pub fn with_database(url: &str, name: &str) -> String {
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

#[cfg(feature = "sqlx-0_8")]
#[path = "sqlx_0_8.rs"]
pub mod sqlx_0_8;
#[path = "sqlx_0_9.rs"]
pub mod sqlx_0_9;

#[cfg(feature = "clickhouse")]
#[path = "clickhouse.rs"]
pub mod clickhouse;
#[cfg(feature = "clickhouse")]
#[allow(unused_imports)]
pub use clickhouse::clickhouse;
#[cfg(feature = "databricks")]
#[path = "databricks.rs"]
pub mod databricks;
#[cfg(feature = "databricks")]
#[allow(unused_imports)]
pub use databricks::databricks;
#[cfg(feature = "snowflake")]
#[path = "snowflake.rs"]
pub mod snowflake;
#[cfg(feature = "snowflake")]
#[allow(unused_imports)]
pub use snowflake::snowflake;

/// The test databases through sqlx 0.9, the default.
#[allow(unused_imports)]
pub use sqlx_0_9::{galera, mysql, pgbouncer, postgres, postgres18, sqlite};

/// Plain queries for assertions, on any of the pools.
#[allow(async_fn_in_trait)]
pub trait Query: Database {
    async fn exec(&self, sql: &str);
    async fn try_exec(&self, sql: &str) -> Result<(), String>;
    async fn count(&self, sql: &str) -> i64;
    async fn strings(&self, sql: &str) -> Vec<String>;
    async fn new_pool(&self, url: &str) -> Self;
    async fn single_connection_pool(&self, url: &str) -> Self;
    /// Closes the pool's connections (through `AnyPool`, which closes the pool it holds).
    async fn close_pool(&self) {
        jetbase::AnyPool::new(self.clone()).close().await;
    }
}

pub fn int_type(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySql => "SIGNED",
        Dialect::Postgres | Dialect::Sqlite | Dialect::Snowflake | Dialect::Databricks => "BIGINT",
        Dialect::ClickHouse => "Int64",
    }
}

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
            Dialect::Snowflake => format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = CURRENT_SCHEMA() AND table_name = '{}'",
                table.to_uppercase()
            ),
            Dialect::Postgres => format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            Dialect::ClickHouse => format!(
                "SELECT name FROM system.tables WHERE database = currentDatabase() AND name = '{table}'"
            ),
            Dialect::Databricks => format!("SHOW TABLES LIKE '{table}'"),
        };
        self.pool.count(&sql).await > 0
    }

    /// The versions in the history, in applied order.
    pub async fn applied_versions(&self) -> Vec<String> {
        self.pool
            .strings("SELECT version FROM jetbase_migrations WHERE migration_type = 'VERSIONED' ORDER BY order_executed")
            .await
    }

    /// Whether the lock is free (as jetbase reads it: the lock row, or ClickHouse's claims).
    pub async fn lock_is_free(&self) -> bool {
        !Migrator::default()
            .lock_status(&self.pool)
            .await
            .unwrap()
            .locked
    }

    /// Makes the lock look held by `process_id` since now, as a process that then vanished
    /// would leave it: the lock row, or on ClickHouse a claim.
    pub async fn hold_lock_as(&self, process_id: &str) {
        let sql = match self.dialect {
            Dialect::ClickHouse => {
                // The claims before it are withdrawn, as the row would be overwritten.
                self.pool
                    .exec("INSERT INTO jetbase_lock (process_id, event) SELECT DISTINCT process_id, 'release' FROM jetbase_lock")
                    .await;
                format!(
                    "INSERT INTO jetbase_lock (process_id, event) VALUES ('{process_id}', 'claim')"
                )
            }
            Dialect::Postgres
            | Dialect::Sqlite
            | Dialect::MySql
            | Dialect::Snowflake
            | Dialect::Databricks => format!(
                "UPDATE jetbase_lock SET is_locked = TRUE, locked_at = CURRENT_TIMESTAMP, process_id = '{process_id}' WHERE id = 1"
            ),
        };
        self.pool.exec(&sql).await;
    }

    /// The URLs the processes of a test spread over: each node of a cluster, or `url`.
    pub fn process_urls(&self) -> Vec<String> {
        if self.nodes.is_empty() {
            vec![self.url.clone()]
        } else {
            self.nodes.clone()
        }
    }

    /// Whether a lock holder's liveness is a lease here (no session lock says it): the
    /// warehouses, a transaction pooler, a Galera cluster.
    pub fn lock_is_leased(&self) -> bool {
        !self.pool.capabilities().session_locks
            || self.pooler.is_transaction()
            || !self.nodes.is_empty()
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

/// Runs one async test body on SQLite, PostgreSQL, MySQL/MariaDB, Snowflake and ClickHouse:
/// `#[tokio::test]`s named `<name>::sqlite`, `<name>::postgres`, `<name>::mysql` (sqlx 0.9's
/// pools), `<name>::snowflake` and `<name>::clickhouse`, and with feature `sqlx-0_8` three more,
/// `<name>::sqlx_0_8::*`, with sqlx 0.8's. A body that does not apply to a warehouse says why:
/// `database_test!(name, body, not_on_snowflake = "why")`, `not_on_clickhouse = "why"`, or
/// `not_on_warehouses = "why"` for both.
///
/// Databricks' stand-in is a Spark SQL engine, a second or more per write: a body runs there too
/// with `database_test!(name, body, also_on_databricks)`, given to the bodies that exercise what
/// the database's backend does (the history and lock statements, row-first failures, the lock's
/// races and lease, the fast path, the CLI's life cycle). The other bodies test the logic above
/// the backend, which these already cover on the other five pools.
///
/// `also_on_clusters` runs a body through PgBouncer in transaction mode (`<name>::pgbouncer`)
/// and on a three-node MariaDB Galera cluster (`<name>::galera`, its processes spread over the
/// nodes with `TestDb::process_urls`): given to the bodies of the lock's processes and the CLI's
/// life cycle, what a pooler or a cluster changes.
#[macro_export]
macro_rules! database_test {
    ($name:ident, $body:ident) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@snowflake $body);
            $crate::database_test!(@clickhouse $body);
        });
    };
    ($name:ident, $body:ident, not_on_snowflake = $why:literal) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@clickhouse $body);
        });
    };
    ($name:ident, $body:ident, not_on_clickhouse = $why:literal) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@snowflake $body);
        });
    };
    ($name:ident, $body:ident, not_on_warehouses = $why:literal) => {
        $crate::database_test!(@sql $name, $body, {});
    };
    ($name:ident, $body:ident, also_on_databricks) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@snowflake $body);
            $crate::database_test!(@clickhouse $body);
            $crate::database_test!(@databricks $body);
        });
    };
    ($name:ident, $body:ident, also_on_clusters) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@snowflake $body);
            $crate::database_test!(@clickhouse $body);
            $crate::database_test!(@clusters $body);
        });
    };
    ($name:ident, $body:ident, also_on_databricks, also_on_clusters) => {
        $crate::database_test!(@sql $name, $body, {
            $crate::database_test!(@snowflake $body);
            $crate::database_test!(@clickhouse $body);
            $crate::database_test!(@databricks $body);
            $crate::database_test!(@clusters $body);
        });
    };
    (@clusters $body:ident) => {
        /// PostgreSQL 15 through PgBouncer in transaction mode.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn pgbouncer() {
            super::$body(&$crate::common::pgbouncer().await).await;
        }
        /// A MariaDB Galera cluster of three nodes.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn galera() {
            super::$body(&$crate::common::galera().await).await;
        }
    };
    (@databricks $body:ident) => {
        #[cfg(feature = "databricks")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn databricks() {
            super::$body(&$crate::common::databricks().await).await;
        }
    };
    (@snowflake $body:ident) => {
        #[cfg(feature = "snowflake")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn snowflake() {
            super::$body(&$crate::common::snowflake().await).await;
        }
    };
    (@clickhouse $body:ident) => {
        #[cfg(feature = "clickhouse")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn clickhouse() {
            super::$body(&$crate::common::clickhouse().await).await;
        }
    };
    (@sql $name:ident, $body:ident, { $($warehouses:tt)* }) => {
        mod $name {
            $($warehouses)*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(&$crate::common::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(&$crate::common::postgres().await).await;
            }
            /// PostgreSQL 18 (the test script's second PostgreSQL server).
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres18() {
                super::$body(&$crate::common::postgres18().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                super::$body(&$crate::common::mysql().await).await;
            }
            /// The same bodies with sqlx 0.8's pools.
            #[cfg(feature = "sqlx-0_8")]
            mod sqlx_0_8 {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::super::$body(&$crate::common::sqlx_0_8::sqlite().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::super::$body(&$crate::common::sqlx_0_8::postgres().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() {
                    super::super::$body(&$crate::common::sqlx_0_8::mysql().await).await;
                }
            }
        }
    };
}
