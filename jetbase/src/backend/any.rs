//! [`AnyPool`]: any database jetbase migrates, chosen at run time from a URL (for the CLI, the
//! `blocking` API, and applications that support several databases): an `Arc<dyn Backend>`,
//! since the boundary is usable as an object.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jetbase_core::Dialect;

#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
use super::DatabaseError;
use super::private::{Key, SEAL};
use super::{Backend, BoxFuture, Database};
use crate::Error;

/// A pool of any database jetbase migrates (sqlx 0.9's `PgPool`, `SqlitePool` or
/// `MySqlPool`), chosen from a URL's scheme. Migrates like the pool it holds.
///
/// ```no_run
/// # async fn start() -> Result<(), jetbase::Error> {
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let pool = jetbase::AnyPool::connect("sqlite://app.db?mode=rwc").await?;
/// MIGRATOR.run(&pool).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AnyPool {
    inner: Arc<dyn Backend>,
    pooler: crate::Pooler,
}

impl std::fmt::Debug for AnyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyPool")
            .field("dialect", &self.inner.dialect())
            .field("pooler", &self.pooler)
            .finish_non_exhaustive()
    }
}

/// How [`AnyPool::connect_sqlite`] opens a SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SqliteAccess {
    /// Read and write; the file is created if missing.
    #[default]
    Create,
    /// Read and write an existing file.
    ReadWrite,
    /// Read only.
    ReadOnly,
}

impl AnyPool {
    /// Wraps a pool of any database. An `AnyPool` given here is taken as it is (with its
    /// pooler), not wrapped twice.
    ///
    /// ```
    /// # async fn wrap() -> Result<(), Box<dyn std::error::Error>> {
    /// let sqlite = jetbase::sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = jetbase::AnyPool::new(sqlite);
    /// assert_eq!(pool.dialect(), jetbase::Dialect::Sqlite);
    /// # Ok(()) }
    /// ```
    pub fn new<D: Database>(pool: D) -> Self {
        let pooler = pool.pooler(SEAL);
        Self {
            inner: pool.into_backend(SEAL),
            pooler,
        }
    }

    /// The same pool, known to be reached through `pooler` (see [`crate::Pooler`]): every
    /// migrator run on it works as [`Migrator::with_pooler`](crate::Migrator::with_pooler) says.
    ///
    /// ```
    /// # async fn wrap() -> Result<(), Box<dyn std::error::Error>> {
    /// let sqlite = jetbase::sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = jetbase::AnyPool::new(sqlite).with_pooler(jetbase::Pooler::Transaction);
    /// assert_eq!(pool.pooler(), jetbase::Pooler::Transaction);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_pooler(mut self, pooler: crate::Pooler) -> Self {
        self.pooler = pooler;
        self
    }

    /// The pooler the pool is reached through: as [`AnyPool::with_pooler`] set it (on this pool,
    /// or on the `AnyPool` [`AnyPool::new`] was given), as the URL's
    /// `pooler` parameter said, or [`Pooler::Transaction`](crate::Pooler::Transaction) where
    /// [`AnyPool::connect`] found a PgBouncer (it refused a startup parameter only a pooler
    /// refuses).
    pub fn pooler(&self) -> crate::Pooler {
        self.pooler
    }

    /// The pool inside, if it is a `P`.
    pub fn downcast_ref<P: Database>(&self) -> Option<&P> {
        self.inner.as_any().downcast_ref::<P>()
    }

    /// Connects to `url`: `postgres://`, `postgresql://`, `sqlite:`, `mysql://`, `mariadb://`,
    /// `snowflake://`, `clickhouse://` or `databricks://`, with or without a SQLAlchemy driver (`postgresql+psycopg2://`); each
    /// needs its feature. A SQLite URL is sqlx's (`sqlite://app.db?mode=rwc`).
    ///
    /// Through PgBouncer in transaction mode, add `pooler=transaction` to a PostgreSQL URL (see
    /// [`crate::Pooler`]): the connections then send no `extra_float_digits` (which a stock
    /// PgBouncer refuses) and cache no statement. A PgBouncer that refuses the connection for
    /// that parameter is recognised without it: the connection is made again without it, and
    /// the pool is taken to be behind a transaction pooler.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedUrl`] for another scheme or a disabled feature (the password
    /// masked), [`Error::Database`] when the connection fails.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with_timeout(url, Duration::from_secs(30)).await
    }

    /// Like [`AnyPool::connect`], giving up after `timeout` when the server cannot be reached.
    ///
    /// # Errors
    ///
    /// As for [`AnyPool::connect`].
    pub async fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        let unsupported = || Error::UnsupportedUrl {
            url: crate::url::mask_secrets(url),
        };
        let dialect = crate::url::dialect_of(url).ok_or_else(unsupported)?;
        let driver = DRIVERS
            .iter()
            .find(|driver| driver.dialect == dialect)
            .ok_or_else(unsupported)?;
        (driver.connect)(url, timeout).await
    }

    /// Connects to Snowflake (feature `snowflake`; see [`SnowflakePool::connect`]), with the
    /// private key for key-pair login when the URL has no password (else the
    /// `JETBASE_SNOWFLAKE_PRIVATE_KEY` and `JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD` variables).
    ///
    /// [`SnowflakePool::connect`]: crate::SnowflakePool::connect
    ///
    /// # Errors
    ///
    /// As for [`SnowflakePool::connect`](crate::SnowflakePool::connect).
    #[cfg(feature = "snowflake")]
    pub async fn connect_snowflake(
        url: &str,
        private_key_pem: Option<&str>,
        passphrase: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let key = private_key_pem
            .map(str::to_owned)
            .or_else(|| from_env("JETBASE_SNOWFLAKE_PRIVATE_KEY"));
        let passphrase = passphrase
            .map(str::to_owned)
            .or_else(|| from_env("JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD"));
        let pool = crate::SnowflakePool::connect_with_timeout(
            url,
            key.as_deref(),
            passphrase.as_deref(),
            timeout,
        )
        .await?;
        Ok(Self::new(pool))
    }

    /// Opens a SQLite file (`None`: a new in-memory database), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedUrl`] without the `sqlite` feature, [`Error::Database`] when the
    /// file cannot be opened.
    pub async fn connect_sqlite(
        path: Option<&Path>,
        access: SqliteAccess,
        timeout: Duration,
    ) -> Result<Self, Error> {
        #[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
        {
            use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
            let options = match path {
                Some(path) => SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(access == SqliteAccess::Create)
                    .read_only(access == SqliteAccess::ReadOnly),
                None => SqliteConnectOptions::new().in_memory(true),
            };
            let pool = SqlitePoolOptions::new()
                .acquire_timeout(timeout)
                .connect_with(options)
                .await
                .map_err(|source| connect_error(Dialect::Sqlite, source))?;
            Ok(Self::new(pool))
        }
        #[cfg(not(all(feature = "sqlx-0_9", feature = "sqlite")))]
        {
            let _ = (access, timeout);
            Err(Error::UnsupportedUrl {
                url: format!(
                    "sqlite://{}",
                    path.map(|p| p.display().to_string()).unwrap_or_default()
                ),
            })
        }
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    /// Closes the pool's connections.
    pub async fn close(&self) {
        self.inner.close().await;
    }
}

/// How this build connects to one database from its URL (`AnyPool::connect`).
struct Driver {
    dialect: Dialect,
    connect: for<'a> fn(&'a str, Duration) -> BoxFuture<'a, Result<AnyPool, Error>>,
}

/// The one table of drivers: an entry per database this build connects to, under its feature.
/// A database whose feature is off has none, and its URLs are [`Error::UnsupportedUrl`].
const DRIVERS: &[Driver] = &[
    #[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
    Driver {
        dialect: Dialect::Postgres,
        connect: connect_postgres,
    },
    #[cfg(all(feature = "sqlx-0_9", feature = "sqlite"))]
    Driver {
        dialect: Dialect::Sqlite,
        connect: |url, timeout| {
            Box::pin(connect_pool::<sqlx::Sqlite>(url, timeout, Dialect::Sqlite))
        },
    },
    #[cfg(all(feature = "sqlx-0_9", feature = "mysql"))]
    Driver {
        dialect: Dialect::MySql,
        connect: |url, timeout| Box::pin(connect_pool::<sqlx::MySql>(url, timeout, Dialect::MySql)),
    },
    #[cfg(feature = "snowflake")]
    Driver {
        dialect: Dialect::Snowflake,
        connect: |url, timeout| Box::pin(AnyPool::connect_snowflake(url, None, None, timeout)),
    },
    #[cfg(feature = "clickhouse")]
    Driver {
        dialect: Dialect::ClickHouse,
        connect: |url, timeout| {
            Box::pin(async move {
                let pool = crate::ClickHousePool::connect_with_timeout(url, timeout).await?;
                Ok(AnyPool::new(pool))
            })
        },
    },
    #[cfg(feature = "databricks")]
    Driver {
        dialect: Dialect::Databricks,
        connect: |url, timeout| {
            Box::pin(async move {
                let pool = crate::DatabricksPool::connect_with_timeout(url, timeout).await?;
                Ok(AnyPool::new(pool))
            })
        },
    },
];

/// A URL as sqlx takes it, and the pooler its `pooler` parameter names (a sqlx URL keeps no
/// parameter sqlx does not know).
#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
fn sqlx_parts(url: &str) -> Result<(String, crate::Pooler), Error> {
    let (url_without_pooler, pooler) = crate::url::take_pooler(url);
    let pooler: crate::Pooler = pooler.as_deref().unwrap_or("none").parse()?;
    let sqlx_url =
        crate::url::sqlx_url(&url_without_pooler).ok_or_else(|| Error::UnsupportedUrl {
            url: crate::url::mask_secrets(url),
        })?;
    Ok((sqlx_url, pooler))
}

/// The error of a failed connection, classified by the database's own rules.
#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
fn connect_error(dialect: Dialect, source: sqlx::Error) -> Error {
    let kind = match &source {
        sqlx::Error::Database(database) => {
            super::engine_sql(dialect).classify(database.code().as_deref(), database.message())
        }
        _ => super::DatabaseErrorKind::Connection,
    };
    let server_message = match &source {
        sqlx::Error::Database(database) => Some(database.message().to_owned()),
        _ => None,
    };
    Error::Database {
        action: "connecting to the database",
        source: DatabaseError::from_driver(kind, source, server_message.as_deref()),
    }
}

/// A PostgreSQL pool at `url`: as a pool behind `pooler` says, or found to be behind one.
#[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
fn connect_postgres(url: &str, timeout: Duration) -> BoxFuture<'_, Result<AnyPool, Error>> {
    Box::pin(async move {
        let (url, pooler) = sqlx_parts(url)?;
        connect_postgres_pool(&url, timeout, pooler).await
    })
}

/// A PostgreSQL pool at a sqlx `url`.
#[cfg(all(feature = "sqlx-0_9", feature = "postgres"))]
async fn connect_postgres_pool(
    url: &str,
    timeout: Duration,
    pooler: crate::Pooler,
) -> Result<AnyPool, Error> {
    use std::str::FromStr as _;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)
        .map_err(|source| connect_error(Dialect::Postgres, source))?;
    let pooled = |options: sqlx::postgres::PgConnectOptions| {
        options.extra_float_digits(None).statement_cache_capacity(0)
    };
    let connect = |options: sqlx::postgres::PgConnectOptions| {
        sqlx::pool::PoolOptions::<sqlx::Postgres>::new()
            .acquire_timeout(timeout)
            .connect_with(options)
    };
    if pooler.is_transaction() {
        let pool = connect(pooled(options))
            .await
            .map_err(|source| connect_error(Dialect::Postgres, source))?;
        return Ok(AnyPool::new(pool).with_pooler(pooler));
    }
    match connect(options.clone()).await {
        Ok(pool) => Ok(AnyPool::new(pool)),
        // PgBouncer's answer to a startup parameter it does not pass on: the server is behind
        // it (in whichever mode, and transaction mode is the one that keeps least).
        Err(sqlx::Error::Database(refused))
            if refused.message().contains("unsupported startup parameter") =>
        {
            let pool = connect(pooled(options))
                .await
                .map_err(|source| connect_error(Dialect::Postgres, source))?;
            Ok(AnyPool::new(pool).with_pooler(crate::Pooler::Transaction))
        }
        Err(source) => Err(connect_error(Dialect::Postgres, source)),
    }
}

/// A pool of sqlx's `DB` at `url`, wrapped.
#[cfg(all(feature = "sqlx-0_9", any(feature = "sqlite", feature = "mysql")))]
async fn connect_pool<DB: sqlx::Database>(
    url: &str,
    timeout: Duration,
    dialect: Dialect,
) -> Result<AnyPool, Error>
where
    sqlx::Pool<DB>: Database,
{
    let (url, _) = sqlx_parts(url)?;
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .acquire_timeout(timeout)
        .connect(&url)
        .await
        .map_err(|source| connect_error(dialect, source))?;
    Ok(AnyPool::new(pool))
}

impl super::private::Sealed for AnyPool {
    fn backend(&self, _key: Key) -> &dyn Backend {
        &*self.inner
    }

    fn into_backend(self, _key: Key) -> Arc<dyn Backend> {
        self.inner
    }

    fn pooler(&self, _key: Key) -> crate::Pooler {
        self.pooler
    }
}
