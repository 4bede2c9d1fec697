//! [`AnyPool`]: any database jetbase migrates, chosen at run time from a URL (for the CLI, the
//! `blocking` API, and applications that support several databases), behind one type-erased
//! backend: each [`Database`] is wrapped as it is, so a new database needs nothing here.

use std::any::Any;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jetbase_core::{AppliedMigration, Dialect};

use super::tables::Tables;
use super::{
    Database, DatabaseError, Digest, Job, JobFailure, LivenessLock, LockRow, LockWrite,
    SandboxCopy, SandboxMark, TableLock, TextRow,
};
use crate::Error;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    inner: Arc<dyn ErasedDatabase>,
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
    /// Wraps a pool of any database.
    ///
    /// ```
    /// # async fn wrap() -> Result<(), Box<dyn std::error::Error>> {
    /// let sqlite = jetbase::sqlx::SqlitePool::connect("sqlite::memory:").await?;
    /// let pool = jetbase::AnyPool::new(sqlite);
    /// assert_eq!(pool.dialect(), jetbase::Dialect::Sqlite);
    /// # Ok(()) }
    /// ```
    pub fn new<D: Database>(pool: D) -> Self {
        Self {
            inner: Arc::new(pool),
            pooler: crate::Pooler::None,
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

    /// The pooler the pool is reached through: as [`AnyPool::with_pooler`] set it, as the URL's
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
        #[cfg(feature = "snowflake")]
        if dialect == Dialect::Snowflake {
            return Self::connect_snowflake(url, None, None, timeout).await;
        }
        #[cfg(feature = "clickhouse")]
        if dialect == Dialect::ClickHouse {
            return Ok(Self::new(
                crate::ClickHousePool::connect_with_timeout(url, timeout).await?,
            ));
        }
        #[cfg(feature = "databricks")]
        if dialect == Dialect::Databricks {
            return Ok(Self::new(
                crate::DatabricksPool::connect_with_timeout(url, timeout).await?,
            ));
        }
        let (url_without_pooler, pooler) = crate::url::take_pooler(url);
        let pooler: crate::Pooler = pooler.as_deref().unwrap_or("none").parse()?;
        let sqlx_url = crate::url::sqlx_url(&url_without_pooler).ok_or_else(unsupported)?;
        match dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => connect_postgres(&sqlx_url, timeout, pooler).await,
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => connect_pool::<sqlx::Sqlite>(&sqlx_url, timeout, dialect).await,
            #[cfg(feature = "mysql")]
            Dialect::MySql => connect_pool::<sqlx::MySql>(&sqlx_url, timeout, dialect).await,
            // A database whose feature is not enabled in this build.
            #[allow(unreachable_patterns)]
            _ => Err(unsupported()),
        }
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
        #[cfg(feature = "sqlite")]
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
        #[cfg(not(feature = "sqlite"))]
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
        self.inner.close_erased().await;
    }
}

/// The error of a failed connection, classified by the database's own rules.
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
#[cfg(feature = "postgres")]
async fn connect_postgres(
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
#[cfg(any(feature = "postgres", feature = "sqlite", feature = "mysql"))]
async fn connect_pool<DB: sqlx::Database>(
    url: &str,
    timeout: Duration,
    dialect: Dialect,
) -> Result<AnyPool, Error>
where
    sqlx::Pool<DB>: Database,
{
    let pool = sqlx::pool::PoolOptions::<DB>::new()
        .acquire_timeout(timeout)
        .connect(url)
        .await
        .map_err(|source| connect_error(dialect, source))?;
    Ok(AnyPool::new(pool))
}

/// A session of whichever database, as `Box<dyn Any>`: only the database that opened it reads
/// it back.
pub struct AnySession(Box<dyn Any + Send>);

impl AnySession {
    /// The session of `D` inside: the database that opened it.
    fn of<D: Database>(&mut self) -> Result<&mut D::Session, DatabaseError> {
        self.0
            .downcast_mut::<D::Session>()
            .ok_or_else(foreign_session)
    }
}

/// The liveness lock of whichever database.
pub struct AnyLiveness(Box<dyn ErasedLiveness>);

/// [`LivenessLock`], object-safe.
trait ErasedLiveness: Send {
    fn try_lock_erased(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>>;
    fn unlock_erased(self: Box<Self>) -> BoxFuture<'static, ()>;
}

impl<L: LivenessLock> ErasedLiveness for L {
    fn try_lock_erased(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(self.try_lock())
    }

    fn unlock_erased(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin((*self).unlock())
    }
}

impl LivenessLock for AnyLiveness {
    async fn try_lock(&mut self) -> Result<bool, DatabaseError> {
        self.0.try_lock_erased().await
    }

    async fn unlock(self) {
        self.0.unlock_erased().await;
    }
}

/// The session an [`AnySession`] holds is not the wrapped database's: cannot happen, since
/// only `AnyPool` opens and reads them.
fn foreign_session() -> DatabaseError {
    DatabaseError::new(
        super::DatabaseErrorKind::Connection,
        "internal error: a session of another database was passed to this pool",
    )
}

/// [`Database`], object-safe: every method boxes its future.
trait ErasedDatabase: Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;
    fn dialect(&self) -> Dialect;
    fn session_erased(&self) -> BoxFuture<'_, Result<AnySession, DatabaseError>>;
    fn read_history_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>>;
    fn read_current_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>>;
    fn history_digest_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>>;
    fn store_history_digest_erased<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn prepare_erased<'a>(&'a self, tables: &'a Tables)
    -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn prepare_history_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn read_lock_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>>;
    fn write_lock_erased<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>>;
    fn liveness_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<AnyLiveness, DatabaseError>>;
    fn run_job_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>>;
    fn begin_run_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn begin_batch_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn commit_run_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn is_read_only_erased(&self) -> BoxFuture<'_, Result<bool, DatabaseError>>;
    fn lock_is_leased_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>>;
    fn mark_session_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn unmark_session_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn end_sessions_of_erased<'a>(
        &'a self,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<usize, DatabaseError>>;
    fn sandbox_copy_erased(
        &self,
    ) -> BoxFuture<'_, Result<Option<SandboxCopy<AnyPool>>, DatabaseError>>;
    fn begin_sandbox_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn discard_sandbox_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn sandbox_mark_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        mark: SandboxMark,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;
    fn held_locks_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<Vec<TableLock>, DatabaseError>>;
    fn read_schema_erased<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>>;
    fn read_schema_in_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>>;
    fn read_text_rows_erased<'a>(
        &'a self,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<TextRow>>, DatabaseError>>;
    fn close_erased(&self) -> BoxFuture<'_, ()>;
}

impl<D: Database> ErasedDatabase for D {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn dialect(&self) -> Dialect {
        Database::dialect(self)
    }

    fn session_erased(&self) -> BoxFuture<'_, Result<AnySession, DatabaseError>> {
        Box::pin(async move {
            let session = self.session().await?;
            Ok(AnySession(Box::new(session)))
        })
    }

    fn read_history_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>> {
        Box::pin(self.read_history(tables))
    }

    fn read_current_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>> {
        Box::pin(self.read_current(tables))
    }

    fn history_digest_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>> {
        Box::pin(self.history_digest(tables))
    }

    fn store_history_digest_erased<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(self.store_history_digest(tables, digest, process_id))
    }

    fn prepare_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(self.prepare(tables))
    }

    fn prepare_history_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(self.prepare_history(tables))
    }

    fn read_lock_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>> {
        Box::pin(self.read_lock(tables))
    }

    fn write_lock_erased<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(self.write_lock(tables, write))
    }

    fn liveness_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<AnyLiveness, DatabaseError>> {
        Box::pin(async move {
            let liveness = self.liveness(tables).await?;
            Ok(AnyLiveness(Box::new(liveness)))
        })
    }

    fn run_job_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.run_job(session, tables, job).await
        })
    }

    fn begin_batch_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.begin_batch(session).await
        })
    }

    fn begin_run_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.begin_run(session).await
        })
    }

    fn commit_run_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.commit_run(session).await
        })
    }

    fn is_read_only_erased(&self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(self.is_read_only())
    }

    fn lock_is_leased_erased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(self.lock_is_leased(tables))
    }

    fn mark_session_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.mark_session(session, tables, process_id).await
        })
    }

    fn unmark_session_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.unmark_session(session).await
        })
    }

    fn end_sessions_of_erased<'a>(
        &'a self,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<usize, DatabaseError>> {
        Box::pin(self.end_sessions_of(process_id))
    }

    fn sandbox_copy_erased(
        &self,
    ) -> BoxFuture<'_, Result<Option<SandboxCopy<AnyPool>>, DatabaseError>> {
        Box::pin(async move {
            let copy = self.sandbox_copy().await?;
            Ok(copy.map(|copy| copy.map(AnyPool::new)))
        })
    }

    fn begin_sandbox_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.begin_sandbox(session, tables).await
        })
    }

    fn discard_sandbox_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.discard_sandbox(session).await
        })
    }

    fn sandbox_mark_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        mark: SandboxMark,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.sandbox_mark(session, mark).await
        })
    }

    fn held_locks_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> BoxFuture<'a, Result<Vec<TableLock>, DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.held_locks(session).await
        })
    }

    fn read_schema_erased<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(self.read_schema(postgres_schema))
    }

    fn read_schema_in_erased<'a>(
        &'a self,
        session: &'a mut AnySession,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move {
            let session = session.of::<D>()?;
            self.read_schema_in(session, postgres_schema).await
        })
    }

    fn read_text_rows_erased<'a>(
        &'a self,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<TextRow>>, DatabaseError>> {
        Box::pin(self.read_text_rows(sql))
    }

    fn close_erased(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.close())
    }
}

impl super::private::Sealed for AnyPool {}

impl Database for AnyPool {
    type Liveness = AnyLiveness;
    type Session = AnySession;

    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn session(&self) -> Result<AnySession, DatabaseError> {
        self.inner.session_erased().await
    }

    async fn read_history(
        &self,
        tables: &Tables,
    ) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
        self.inner.read_history_erased(tables).await
    }

    async fn read_current(
        &self,
        tables: &Tables,
    ) -> Result<Option<AppliedMigration>, DatabaseError> {
        self.inner.read_current_erased(tables).await
    }

    async fn history_digest(&self, tables: &Tables) -> Result<Digest, DatabaseError> {
        self.inner.history_digest_erased(tables).await
    }

    async fn store_history_digest(
        &self,
        tables: &Tables,
        digest: Option<&str>,
        process_id: &str,
    ) -> Result<(), DatabaseError> {
        self.inner
            .store_history_digest_erased(tables, digest, process_id)
            .await
    }

    async fn prepare(&self, tables: &Tables) -> Result<(), DatabaseError> {
        self.inner.prepare_erased(tables).await
    }

    async fn prepare_history(&self, tables: &Tables) -> Result<(), DatabaseError> {
        self.inner.prepare_history_erased(tables).await
    }

    async fn read_lock(&self, tables: &Tables) -> Result<Option<LockRow>, DatabaseError> {
        self.inner.read_lock_erased(tables).await
    }

    async fn write_lock(
        &self,
        tables: &Tables,
        write: LockWrite<'_>,
    ) -> Result<bool, DatabaseError> {
        self.inner.write_lock_erased(tables, write).await
    }

    async fn liveness(&self, tables: &Tables) -> Result<AnyLiveness, DatabaseError> {
        self.inner.liveness_erased(tables).await
    }

    async fn run_job<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> Result<(), JobFailure> {
        self.inner.run_job_erased(session, tables, job).await
    }

    async fn begin_run<'a>(&'a self, session: &'a mut AnySession) -> Result<(), DatabaseError> {
        self.inner.begin_run_erased(session).await
    }

    async fn begin_batch<'a>(&'a self, session: &'a mut AnySession) -> Result<(), DatabaseError> {
        self.inner.begin_batch_erased(session).await
    }

    async fn commit_run<'a>(&'a self, session: &'a mut AnySession) -> Result<(), DatabaseError> {
        self.inner.commit_run_erased(session).await
    }

    async fn is_read_only(&self) -> Result<bool, DatabaseError> {
        self.inner.is_read_only_erased().await
    }

    fn pooler(&self) -> crate::Pooler {
        self.pooler
    }

    async fn lock_is_leased(&self, tables: &Tables) -> Result<bool, DatabaseError> {
        self.inner.lock_is_leased_erased(tables).await
    }

    async fn mark_session<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
        process_id: &'a str,
    ) -> Result<(), DatabaseError> {
        self.inner
            .mark_session_erased(session, tables, process_id)
            .await
    }

    async fn unmark_session<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> Result<(), DatabaseError> {
        self.inner.unmark_session_erased(session).await
    }

    async fn end_sessions_of<'a>(&'a self, process_id: &'a str) -> Result<usize, DatabaseError> {
        self.inner.end_sessions_of_erased(process_id).await
    }

    async fn sandbox_copy(&self) -> Result<Option<SandboxCopy<Self>>, DatabaseError> {
        self.inner.sandbox_copy_erased().await
    }

    async fn begin_sandbox<'a>(
        &'a self,
        session: &'a mut AnySession,
        tables: &'a Tables,
    ) -> Result<(), DatabaseError> {
        self.inner.begin_sandbox_erased(session, tables).await
    }

    async fn discard_sandbox<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> Result<(), DatabaseError> {
        self.inner.discard_sandbox_erased(session).await
    }

    async fn sandbox_mark<'a>(
        &'a self,
        session: &'a mut AnySession,
        mark: SandboxMark,
    ) -> Result<(), DatabaseError> {
        self.inner.sandbox_mark_erased(session, mark).await
    }

    async fn held_locks<'a>(
        &'a self,
        session: &'a mut AnySession,
    ) -> Result<Vec<TableLock>, DatabaseError> {
        self.inner.held_locks_erased(session).await
    }

    async fn read_schema<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> Result<jetbase_core::schema::Schema, DatabaseError> {
        self.inner.read_schema_erased(postgres_schema).await
    }

    async fn read_schema_in<'a>(
        &'a self,
        session: &'a mut AnySession,
        postgres_schema: Option<&'a str>,
    ) -> Result<jetbase_core::schema::Schema, DatabaseError> {
        self.inner
            .read_schema_in_erased(session, postgres_schema)
            .await
    }

    async fn read_text_rows<'a>(
        &'a self,
        sql: &'a str,
    ) -> Result<Option<Vec<TextRow>>, DatabaseError> {
        self.inner.read_text_rows_erased(sql).await
    }

    async fn close(&self) -> () {
        self.inner.close_erased().await
    }
}
