//! The database boundary: what a database implements to be migrated ([`Database`]), and the
//! plain data that crosses it. What to run is decided above it (`jetbase_core::plan`,
//! `crate::run`); below it each database only runs SQL.
//!
//! Layout, one folder per database (see ARCHITECTURE.md, "Adding a database"):
//!
//! - `postgres/`, `sqlite/`, `mysql/`: each database's own SQL for the history and lock tables
//!   (`mod.rs`, no driver), its connection-level code (`pool.rs`: the liveness lock, how the
//!   history is read) and its catalog queries (`introspect.rs`);
//! - `sqlx/runner.rs`: the sqlx code every sqlx database shares (sessions, jobs, history and
//!   lock rows), written once against the aliases `Db`, `Pool` and `Connection` of the engine
//!   that includes it;
//! - `sqlx_0_9/`, `sqlx_0_8/`: one per sqlx major, each compiling the engines' `pool.rs` and
//!   `introspect.rs` (and through them `runner.rs`) against its own `sqlx`;
//! - `any.rs`: [`AnyPool`](crate::AnyPool), any of them behind one type-erased backend.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use jetbase_core::{AppliedMigration, Capabilities, Dialect, MigrationKind, RunLimits, Statement};

pub(crate) mod any;
pub(crate) mod clickhouse;
#[cfg_attr(
    not(any(
        feature = "postgres",
        feature = "sqlite",
        feature = "mysql",
        feature = "snowflake",
        feature = "clickhouse",
        feature = "databricks"
    )),
    allow(dead_code)
)]
mod current;
pub(crate) mod databricks;
#[cfg_attr(
    not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
    allow(dead_code)
)]
mod gather;
#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
mod http;
pub(crate) mod mysql;
pub(crate) mod postgres;
#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
mod race_retry;
#[cfg(any(feature = "snowflake", feature = "databricks"))]
mod row_first;
pub(crate) mod sandbox;
#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
pub(crate) mod scratch_database;

/// Deletes a SQLite database file and the files SQLite keeps beside it (WAL, shared memory,
/// rollback journal), those that exist: a scratch database's, a test database's.
#[cfg_attr(
    not(any(
        feature = "testing",
        all(
            feature = "sqlx-0_9",
            any(feature = "postgres", feature = "sqlite", feature = "mysql")
        )
    )),
    allow(dead_code)
)]
pub(crate) fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
pub(crate) mod snowflake;
pub(crate) mod sqlite;
#[cfg(feature = "sqlx-0_8")]
mod sqlx_0_8;
#[cfg(feature = "sqlx-0_9")]
mod sqlx_0_9;
pub(crate) mod tables;
#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
mod text_rows;

pub use crate::error::database::{DatabaseError, DatabaseErrorKind};
use tables::{EngineSql, Tables};

/// Milliseconds since `started`, for a history row's `execution_ms`.
pub(crate) fn elapsed_ms(started: std::time::Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Each database's own SQL: the one place that lists the databases jetbase migrates.
pub(crate) fn engine_sql(dialect: Dialect) -> &'static dyn EngineSql {
    match dialect {
        Dialect::Postgres => &postgres::PostgresSql,
        Dialect::Sqlite => &sqlite::SqliteSql,
        Dialect::MySql => &mysql::MySqlSql,
        Dialect::Snowflake => &snowflake::SnowflakeSql,
        Dialect::ClickHouse => &clickhouse::ClickHouseSql,
        Dialect::Databricks => &databricks::DatabricksSql,
    }
}

/// How a migration's history row is written, in the same transaction as its SQL.
#[derive(Debug, Clone)]
pub enum RowWrite<'a> {
    /// A new row.
    Insert {
        version: Option<&'a str>,
        description: &'a str,
        filename: &'a str,
        kind: MigrationKind,
        checksum: &'a str,
        /// What the row keeps to roll the migration back without its file
        /// (`jetbase_core::stored_rollback`), where the database keeps it
        /// (`Capabilities::stored_rollbacks`).
        rollback: Option<&'a str>,
    },
    /// A repeatable's row, with the new checksum.
    Update {
        filename: &'a str,
        kind: MigrationKind,
        checksum: &'a str,
    },
    /// A rolled-back migration's row goes (also a row whose file is gone, by `repair`).
    Delete { order_executed: i64 },
    /// An applied file's edit is accepted (`repair`).
    SetChecksum {
        order_executed: i64,
        checksum: &'a str,
        /// The edited file's rollback, kept instead of the one kept when it was applied
        /// (where the database keeps it).
        rollback: Option<&'a str>,
    },
}

/// What the backend runs for one migration.
#[derive(Debug)]
pub struct Job<'a> {
    pub statements: &'a [Statement<'a>],
    pub row: RowWrite<'a>,
    pub transactional: bool,
    /// The table-lock and statement timeouts in force while it runs (the file's, else the
    /// migrator's defaults); the warehouses have none to set.
    pub limits: RunLimits,
}

/// Why a job failed.
#[derive(Debug)]
pub struct JobFailure {
    /// The statement that failed, by index; `None` when the bookkeeping failed.
    pub statement: Option<usize>,
    pub source: DatabaseError,
}

impl From<DatabaseError> for JobFailure {
    fn from(source: DatabaseError) -> Self {
        Self {
            statement: None,
            source,
        }
    }
}

/// A lock a session holds on a table, as the database names it (PostgreSQL's `pg_locks`):
/// what a rehearsal reports of each migration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct TableLock {
    /// The table, qualified by its schema (`public.users`).
    pub table: String,
    /// The lock mode (`AccessExclusiveLock`).
    pub mode: String,
}

impl std::fmt::Display for TableLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.mode, self.table)
    }
}

/// A throw-away copy of a database (SQLite: the file copied with `VACUUM INTO`), where a
/// rehearsal runs instead of on the database itself; its files are deleted by
/// [`SandboxCopy::discard`], or when it is dropped.
pub struct SandboxCopy {
    pub(crate) database: crate::AnyPool,
    files: sandbox::TempFiles,
}

impl SandboxCopy {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn new(database: impl Database, files: sandbox::TempFiles) -> Self {
        Self {
            database: crate::AnyPool::new(database),
            files,
        }
    }

    /// Closes the copy's connections and deletes its files.
    pub(crate) async fn discard(self) {
        self.database.close().await;
        drop(self.files);
    }
}

/// A place inside a sandbox to come back to (a savepoint of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxMark {
    /// Marks the place.
    Set,
    /// Forgets it, keeping what was done since.
    Release,
    /// Undoes what was done since, and forgets it.
    Restore,
}

/// A row of four text columns (see `Backend::read_text_rows`).
pub type TextRow = [Option<String>; 4];

/// What the fast path's query found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// No digest to compare (no tables yet, or tables jetbase has not extended): read it all.
    Unavailable,
    /// The stored digest, the live row count and the highest `order_executed`.
    Found {
        stored: Option<String>,
        rows: i64,
        max_order: i64,
    },
}

/// The lock row as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRow {
    pub is_locked: bool,
    pub locked_at: Option<String>,
    pub process_id: Option<String>,
}

/// Changes to the lock row.
#[derive(Debug, Clone, Copy)]
pub enum LockWrite<'a> {
    Take {
        process_id: &'a str,
    },
    TakeOver {
        process_id: &'a str,
        from: &'a str,
    },
    /// Takes the row from a holder whose lease expired (databases without session locks).
    TakeOverExpired {
        process_id: &'a str,
        from: &'a str,
        lease_seconds: u64,
    },
    /// Renews the holder's lease (databases without session locks).
    Renew {
        process_id: &'a str,
    },
    Release {
        process_id: &'a str,
    },
    ForceRelease,
}

/// A future the boundary returns: boxed, so that [`Backend`] is usable as an object (one
/// allocation per call, nothing next to a round trip to the server).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The session a run works on, of whichever database: only the backend that opened it reads it
/// back ([`Session::of`]).
pub struct Session(Box<dyn Any + Send>);

impl Session {
    /// Wraps a backend's own session.
    pub(crate) fn new(session: impl Any + Send) -> Self {
        Self(Box::new(session))
    }

    /// The backend's own session inside.
    ///
    /// # Errors
    ///
    /// When the session was opened by another backend: cannot happen, since a run passes a
    /// session only to the database that opened it.
    pub(crate) fn of<T: Any>(&mut self) -> Result<&mut T, DatabaseError> {
        self.0.downcast_mut::<T>().ok_or_else(|| {
            DatabaseError::new(
                DatabaseErrorKind::Connection,
                "internal error: a session of another database was passed to this pool",
            )
        })
    }
}

/// The session-level lock beside the lock row, which the server (or the kernel) frees when its
/// holder dies: `pg_try_advisory_lock`, `GET_LOCK`, or an OS file lock for SQLite.
pub trait LivenessLock: Send + 'static {
    /// Tries once; true when taken.
    fn try_lock(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>>;
    /// Gives it back and closes the session.
    fn unlock(self: Box<Self>) -> BoxFuture<'static, ()>;
    /// Whether another session holds it now (for `lock_status`): taken and given back at once.
    fn held_elsewhere(mut self: Box<Self>) -> BoxFuture<'static, Result<bool, DatabaseError>> {
        Box::pin(async move {
            let taken = self.try_lock().await?;
            self.unlock().await;
            Ok(!taken)
        })
    }
}

/// The liveness of databases without session locks: there is none to take, so every holder of
/// the lock row counts as alive until its lease expires (see `lock/mod.rs`).
#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
#[derive(Debug)]
pub struct NoSessionLock;

#[cfg(any(feature = "snowflake", feature = "clickhouse", feature = "databricks"))]
impl LivenessLock for NoSessionLock {
    fn try_lock(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(std::future::ready(Ok(true)))
    }

    fn unlock(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }
}

/// A database jetbase can migrate: sqlx's `PgPool`, `SqlitePool` or `MySqlPool` (features
/// `postgres`, `sqlite`, `mysql`; from sqlx 0.9, and from sqlx 0.8 with feature `sqlx-0_8`),
/// [`SnowflakePool`](crate::SnowflakePool), [`ClickHousePool`](crate::ClickHousePool),
/// [`DatabricksPool`](crate::DatabricksPool), or an [`AnyPool`](crate::AnyPool) holding any of
/// them. Implemented only inside jetbase (the trait is sealed): each database is one folder of
/// `src/backend` (see ARCHITECTURE.md).
///
/// ```
/// # async fn show() -> Result<(), Box<dyn std::error::Error>> {
/// use jetbase::Database as _;
/// let pool = jetbase::sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// assert_eq!(pool.dialect(), jetbase::Dialect::Sqlite);
/// assert!(pool.capabilities().transactional_ddl);
/// # Ok(()) }
/// ```
pub trait Database: private::Sealed + Clone + Send + Sync + 'static {
    /// Which database this is.
    fn dialect(&self) -> Dialect {
        self.backend(private::SEAL).dialect()
    }

    /// What the database's engine can do (transactional DDL, savepoints, session locks...).
    fn capabilities(&self) -> Capabilities {
        self.dialect().capabilities()
    }
}

impl<T: private::Sealed + Clone + Send + Sync + 'static> Database for T {}

/// What only jetbase sees of a [`Database`]: the seal that keeps it implemented inside.
pub(crate) mod private {
    use std::sync::Arc;

    /// The key to the seal's methods: only jetbase can make one ([`SEAL`]), so that code
    /// outside, which may call a supertrait's methods through a `D: Database` bound, cannot
    /// reach the backend.
    #[derive(Debug, Clone, Copy)]
    pub struct Key(());

    /// The one [`Key`].
    pub(crate) const SEAL: Key = Key(());

    /// The backend of a pool, and how it is reached.
    pub trait Sealed {
        /// The backend that runs the SQL.
        fn backend(&self, key: Key) -> &dyn super::Backend;

        /// The backend, owned and shared (a pool is a handle: cloning it is cheap).
        fn into_backend(self, key: Key) -> Arc<dyn super::Backend>;

        /// The pooler this database is reached through, where the pool knows it (an
        /// [`AnyPool`](crate::AnyPool) connected with `pooler=transaction`, or to a PgBouncer
        /// that refused sqlx's `extra_float_digits`);
        /// [`Migrator::with_pooler`](crate::Migrator::with_pooler) says it for any pool.
        fn pooler(&self, _key: Key) -> crate::Pooler {
            crate::Pooler::None
        }
    }
}

/// What a database implements to be migrated: written once, usable as an object
/// ([`AnyPool`](crate::AnyPool) holds an `Arc<dyn Backend>`). Every method returns jetbase's
/// [`DatabaseError`]; the driver's own error is its source.
pub trait Backend: Any + Send + Sync {
    /// Which database this is.
    fn dialect(&self) -> Dialect;

    /// The backend as `Any` (for [`AnyPool::downcast_ref`](crate::AnyPool::downcast_ref)).
    fn as_any(&self) -> &dyn Any;

    /// Whether the migration lock's liveness is a lease here rather than a session lock: where
    /// the database has none (the warehouses), behind a transaction pooler (sessions keep
    /// nothing), and on a Galera node (`GET_LOCK` is one node's own).
    fn lock_is_leased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        let leased = !self.dialect().capabilities().session_locks || tables.transaction_pooled();
        Box::pin(std::future::ready(Ok(leased)))
    }

    /// A session for a run (a connection of its own where the database has sessions).
    fn session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>>;

    /// The history, oldest first; `None` when there is no history table.
    fn read_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>>;

    /// The history row of the highest applied version (see `current::HighestVersion`), read
    /// without reading the whole history; `None` when nothing versioned is applied or there is
    /// no history table.
    fn read_current<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>>;

    /// The fast path's one query (see `fast_path.rs`).
    fn history_digest<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>>;

    /// Stores the digest of the history on the lock row, by its holder.
    fn store_history_digest<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;

    /// Before the lock is taken: the lock table (with jetbase's column) and its row, and
    /// PostgreSQL's schema. Run by every process that waits, so idempotent and race-tolerant.
    fn prepare<'a>(&'a self, tables: &'a Tables) -> BoxFuture<'a, Result<(), DatabaseError>>;

    /// Under the lock, by its holder only: the history table, or jetbase's columns on one Python
    /// Jetbase created. Never by a waiter, whose DDL on the table the holder writes to would
    /// abort the holder's write on a Galera cluster (DDL runs there in total order).
    fn prepare_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>>;

    /// The lock row; `None` when there is no lock table.
    fn read_lock<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>>;

    /// Changes the lock row; false when a compare-and-set found it changed.
    fn write_lock<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>>;

    /// The liveness lock beside the lock row (its own session where there is one).
    fn liveness<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Box<dyn LivenessLock>, DatabaseError>>;

    /// Runs one migration's statements and writes its history row.
    fn run_job<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>>;

    /// Opens one transaction for the whole run where that saves time (SQLite: one commit
    /// instead of one per migration); a no-op elsewhere.
    fn begin_run<'a>(
        &'a self,
        _session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Opens one transaction for several history writes that must land together (`baseline`)
    /// where the database has transactions; the same as `begin_run` elsewhere. Committed by
    /// `commit_run`.
    fn begin_batch<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        self.begin_run(session)
    }

    /// Commits what `begin_run` opened.
    fn commit_run<'a>(
        &'a self,
        _session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Marks `session` as the run session of the lock holder `process_id` (see
    /// `EngineSql::mark_session_sql`), until [`Backend::unmark_session`]; behind a transaction
    /// pooler (`tables`), each of its migrations' transactions instead.
    fn mark_session<'a>(
        &'a self,
        _session: &'a mut Session,
        _tables: &'a Tables,
        _process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Lifts the mark of [`Backend::mark_session`].
    fn unmark_session<'a>(
        &'a self,
        _session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Ends the server sessions a dead holder `process_id` left (a statement still running,
    /// a transaction still open, holding table locks the next run would wait behind), where the
    /// user may; returns how many it ended.
    fn end_sessions_of<'a>(
        &'a self,
        _process_id: &'a str,
    ) -> BoxFuture<'a, Result<usize, DatabaseError>> {
        Box::pin(std::future::ready(Ok(0)))
    }

    /// True when the server refuses writes: a hot standby, a MySQL/MariaDB server with
    /// `read_only`. Checked before anything that writes takes the lock.
    fn is_read_only(&self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(std::future::ready(Ok(false)))
    }

    /// A throw-away copy of the database for a rehearsal, where the database is a file
    /// (SQLite); `None` where a rehearsal runs on the database itself, in a transaction
    /// [`Backend::discard_sandbox`] rolls back.
    fn sandbox_copy(&self) -> BoxFuture<'_, Result<Option<SandboxCopy>, DatabaseError>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Opens a transaction on `session` in which each migration's job runs in a savepoint and
    /// writes no history row, until [`Backend::discard_sandbox`] rolls all of it back: a
    /// rehearsal. Only where DDL is transactional (`Capabilities::transactional_ddl`).
    fn begin_sandbox<'a>(
        &'a self,
        _session: &'a mut Session,
        _tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        let refused = DatabaseError::new(
            DatabaseErrorKind::Query,
            format!(
                "{} cannot run migrations in a transaction rolled back afterwards",
                self.dialect()
            ),
        );
        Box::pin(std::future::ready(Err(refused)))
    }

    /// Rolls back what the session did since [`Backend::begin_sandbox`].
    fn discard_sandbox<'a>(
        &'a self,
        _session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Sets, releases or restores a place inside the sandbox (see [`SandboxMark`]).
    fn sandbox_mark<'a>(
        &'a self,
        _session: &'a mut Session,
        _mark: SandboxMark,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        let refused = DatabaseError::new(
            DatabaseErrorKind::Query,
            format!("{} has no sandbox to mark a place in", self.dialect()),
        );
        Box::pin(std::future::ready(Err(refused)))
    }

    /// The table locks the session holds (PostgreSQL's `pg_locks` of its own backend); empty
    /// where the database does not tell.
    fn held_locks<'a>(
        &'a self,
        _session: &'a mut Session,
    ) -> BoxFuture<'a, Result<Vec<TableLock>, DatabaseError>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// The tables, columns, keys and indexes (PostgreSQL: of `postgres_schema`, else of
    /// `current_schema()`), jetbase's own tables left out.
    fn read_schema<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>>;

    /// The same as [`Backend::read_schema`], on `session`: inside its sandbox, what the
    /// migrations run there made. Where the database has no sandbox, its schema as any session
    /// sees it.
    fn read_schema_in<'a>(
        &'a self,
        _session: &'a mut Session,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        self.read_schema(postgres_schema)
    }

    /// The rows of a query of four text columns (a NULL as `None`): another tool's history
    /// table, for `adopt`; `None` when its table does not exist.
    fn read_text_rows<'a>(
        &'a self,
        _sql: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<TextRow>>, DatabaseError>> {
        let refused = DatabaseError::new(
            DatabaseErrorKind::Query,
            format!("{} has no history of another tool to read", self.dialect()),
        );
        Box::pin(std::future::ready(Err(refused)))
    }

    /// Closes the pool's connections.
    fn close(&self) -> BoxFuture<'_, ()>;
}
