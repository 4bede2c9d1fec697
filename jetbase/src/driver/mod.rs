//! Database glue: one trait, implemented for sqlx's `PgPool`, `SqlitePool` and `MySqlPool`. The
//! glue only runs SQL; what to run is decided in `jetbase_core::plan` and `crate::migrator`.

use std::future::Future;
use std::time::Instant;

use jetbase_core::{AppliedMigration, Dialect, MigrationKind, Statement};

pub mod sql;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use sql::Tables;

pub(crate) mod private {
    pub trait Sealed {}
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
    },
}

/// What the driver runs for one migration.
#[derive(Debug)]
pub struct Job<'a> {
    pub statements: &'a [Statement<'a>],
    pub row: RowWrite<'a>,
    pub transactional: bool,
}

/// Why a job failed.
#[derive(Debug)]
pub struct JobFailure {
    /// The statement that failed, by index; `None` when the bookkeeping failed.
    pub statement: Option<usize>,
    pub source: sqlx::Error,
}

impl From<sqlx::Error> for JobFailure {
    fn from(source: sqlx::Error) -> Self {
        Self {
            statement: None,
            source,
        }
    }
}

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

/// The pooled connection one upgrade or rollback runs its migrations on. While it is *dirty* —
/// inside a transaction jetbase opened with plain SQL, or with a changed `search_path` — it is
/// closed instead of going back to the pool if it is dropped (an error whose clean-up also
/// failed, a panic, a cancelled future), and the server rolls back whatever was open.
pub struct Session<DB: sqlx::Database> {
    connection: Option<sqlx::pool::PoolConnection<DB>>,
    dirty: bool,
    /// Inside the run's transaction (SQLite): each migration is a savepoint within it.
    in_run: bool,
}

impl<DB: sqlx::Database> Session<DB> {
    pub(crate) fn new(connection: sqlx::pool::PoolConnection<DB>) -> Self {
        Self {
            connection: Some(connection),
            dirty: false,
            in_run: false,
        }
    }

    pub(crate) fn connection(&mut self) -> Result<&mut DB::Connection, sqlx::Error> {
        self.connection
            .as_deref_mut()
            .ok_or(sqlx::Error::PoolClosed)
    }

    pub(crate) fn set_dirty(&mut self, dirty: bool) {
        self.dirty = dirty;
    }

    /// Opens the run's transaction: until [`Session::commit_run`], each transactional migration
    /// is a savepoint inside it, so a run costs one commit (one set of fsyncs on SQLite) instead
    /// of one per migration. A failed migration is rolled back to its savepoint and the ones
    /// before it are committed, exactly as with a transaction each; a crash or a cancelled run
    /// rolls back the whole run's transaction, leaving history and schema in step.
    pub(crate) async fn begin_run(&mut self) -> Result<(), sqlx::Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        self.dirty = true;
        sqlx::Executor::execute(self.connection()?, "BEGIN").await?;
        self.in_run = true;
        Ok(())
    }

    /// Commits the run's transaction, if one is open.
    pub(crate) async fn commit_run(&mut self) -> Result<(), sqlx::Error>
    where
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    {
        if !self.in_run {
            return Ok(());
        }
        sqlx::Executor::execute(self.connection()?, "COMMIT").await?;
        self.in_run = false;
        self.dirty = false;
        Ok(())
    }

    pub(crate) fn in_run(&self) -> bool {
        self.in_run
    }
}

impl<DB: sqlx::Database> Drop for Session<DB> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take()
            && self.dirty
        {
            drop(connection.detach());
        }
    }
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
    Take { process_id: &'a str },
    TakeOver { process_id: &'a str, from: &'a str },
    Release { process_id: &'a str },
    ForceRelease,
}

/// The session-level lock beside the lock row, which the server (or the kernel) frees when its
/// holder dies: `pg_try_advisory_lock`, `GET_LOCK`, or an OS file lock for SQLite.
pub trait LivenessLock: Send + Sized + 'static {
    /// Tries once; true when taken.
    fn try_lock(&mut self) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;
    /// Gives it back and closes the session.
    fn unlock(self) -> impl Future<Output = ()> + Send;
}

/// A database jetbase can migrate: sqlx's `PgPool`, `SqlitePool` or `MySqlPool` (features
/// `postgres`, `sqlite`, `mysql`). Implemented only by those types.
#[allow(private_interfaces, private_bounds)]
pub trait Database: private::Sealed + Clone + Send + Sync + 'static {
    #[doc(hidden)]
    type Liveness: LivenessLock;

    #[doc(hidden)]
    type Session: Send;

    #[doc(hidden)]
    fn session(&self) -> impl Future<Output = Result<Self::Session, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn dialect(&self) -> Dialect;

    #[doc(hidden)]
    fn read_history(
        &self,
        tables: &Tables,
    ) -> impl Future<Output = Result<Option<Vec<AppliedMigration>>, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn history_digest(
        &self,
        tables: &Tables,
    ) -> impl Future<Output = Result<Digest, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn store_history_digest(
        &self,
        tables: &Tables,
        digest: Option<&str>,
        process_id: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    #[doc(hidden)]
    fn prepare(&self, tables: &Tables) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    #[doc(hidden)]
    fn read_lock(
        &self,
        tables: &Tables,
    ) -> impl Future<Output = Result<Option<LockRow>, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn write_lock(
        &self,
        tables: &Tables,
        write: LockWrite<'_>,
    ) -> impl Future<Output = Result<bool, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn liveness(
        &self,
        tables: &Tables,
    ) -> impl Future<Output = Result<Self::Liveness, sqlx::Error>> + Send;

    #[doc(hidden)]
    fn run_job<'a>(
        &'a self,
        session: &'a mut Self::Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> impl Future<Output = Result<(), JobFailure>> + Send + 'a;

    /// Opens one transaction for the whole run where that saves time (SQLite: one commit
    /// instead of one per migration); a no-op elsewhere.
    #[doc(hidden)]
    fn begin_run<'a>(
        &'a self,
        _session: &'a mut Self::Session,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a {
        async { Ok(()) }
    }

    /// Commits what `begin_run` opened.
    #[doc(hidden)]
    fn commit_run<'a>(
        &'a self,
        _session: &'a mut Self::Session,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a {
        async { Ok(()) }
    }
}

/// Whether `error` says the table does not exist.
pub(crate) fn is_missing_table(error: &sqlx::Error, dialect: Dialect) -> bool {
    let sqlx::Error::Database(database) = error else {
        return false;
    };
    match dialect {
        Dialect::Postgres => {
            database.code().as_deref() == Some("42P01")
                || database.code().as_deref() == Some("3F000")
        }
        Dialect::MySql => database.code().as_deref() == Some("42S02"),
        _ => database.message().contains("no such table"),
    }
}

/// Whether `error` says a column does not exist.
pub(crate) fn is_missing_column(error: &sqlx::Error, dialect: Dialect) -> bool {
    let sqlx::Error::Database(database) = error else {
        return false;
    };
    match dialect {
        Dialect::Postgres => database.code().as_deref() == Some("42703"),
        Dialect::MySql => database.code().as_deref() == Some("42S22"),
        _ => database.message().contains("no such column"),
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The parts shared by the three drivers, written once and expanded for each sqlx pool type.
macro_rules! shared_driver {
    ($pool:ty, $connection:ty, $dialect:expr) => {
        impl $crate::driver::private::Sealed for $pool {}

        async fn execute_all(pool: &$pool, statements: &[String]) -> Result<(), sqlx::Error> {
            for statement in statements {
                sqlx::raw_sql(statement).execute(pool).await?;
            }
            Ok(())
        }

        /// The history, a row per migration (SQLite reads it as one JSON value instead: see
        /// `sqlite::read_history`).
        #[allow(dead_code)]
        async fn read_history_rows(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
        ) -> Result<Option<Vec<jetbase_core::AppliedMigration>>, sqlx::Error> {
            use sqlx::Row as _;
            let mut rows = sqlx::query(&tables.read_history(true))
                .fetch_all(pool)
                .await;
            if let Err(error) = &rows
                && $crate::driver::is_missing_column(error, $dialect)
            {
                // A table Python Jetbase created, which jetbase has not extended yet.
                rows = sqlx::query(&tables.read_history(false))
                    .fetch_all(pool)
                    .await;
            }
            let rows = match rows {
                Ok(rows) => rows,
                Err(error) if $crate::driver::is_missing_table(&error, $dialect) => return Ok(None),
                Err(error) => return Err(error),
            };
            rows.iter()
                .map(|row| {
                    Ok(jetbase_core::AppliedMigration {
                        order_executed: row.try_get("jb_order")?,
                        version: row.try_get("version")?,
                        description: row
                            .try_get::<Option<String>, _>("description")?
                            .unwrap_or_default(),
                        filename: row.try_get("filename")?,
                        migration_type: row.try_get("migration_type")?,
                        applied_at: row
                            .try_get::<Option<String>, _>("jb_applied_at")?
                            .unwrap_or_default(),
                        checksum: row.try_get("checksum")?,
                        // Absent on tables Python Jetbase created, until jetbase adds them.
                        success: row.try_get("success").ok().flatten(),
                        execution_ms: row.try_get("execution_ms").ok().flatten(),
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map(Some)
        }

        async fn history_digest(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
        ) -> Result<$crate::driver::Digest, sqlx::Error> {
            use $crate::driver::Digest;
            let sql = tables.history_digest();
            let query = sqlx::query_as::<_, (Option<String>, i64, i64)>(&sql);
            match query.fetch_one(pool).await {
                Ok((stored, rows, max_order)) => Ok(Digest::Found {
                    stored,
                    rows,
                    max_order,
                }),
                Err(error)
                    if $crate::driver::is_missing_table(&error, $dialect)
                        || $crate::driver::is_missing_column(&error, $dialect) =>
                {
                    Ok(Digest::Unavailable)
                }
                Err(error) => Err(error),
            }
        }

        async fn store_history_digest(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
            digest: Option<&str>,
            process_id: &str,
        ) -> Result<(), sqlx::Error> {
            sqlx::query(&tables.store_history_digest())
                .bind(digest)
                .bind(process_id)
                .execute(pool)
                .await?;
            Ok(())
        }

        async fn prepare(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
        ) -> Result<(), sqlx::Error> {
            let mut ddl: Vec<String> = tables.create_schema().into_iter().collect();
            ddl.push(tables.create_migrations());
            ddl.push(tables.create_lock());
            execute_all(pool, &ddl).await?;
            let mut missing = Vec::new();
            for (table, own_columns) in [
                ("jetbase_migrations", &$crate::driver::sql::OWN_COLUMNS[..]),
                ("jetbase_lock", &[$crate::driver::sql::OWN_LOCK_COLUMN][..]),
            ] {
                let columns: Vec<String> = sqlx::query_scalar(&tables.columns(table))
                    .fetch_all(pool)
                    .await?;
                missing.extend(
                    own_columns
                        .iter()
                        .filter(|own| !columns.iter().any(|c| c.eq_ignore_ascii_case(own)))
                        .map(|own| tables.add_column(own)),
                );
            }
            execute_all(pool, &missing).await?;
            sqlx::query(&tables.init_lock_row()).execute(pool).await?;
            Ok(())
        }

        async fn read_lock(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
        ) -> Result<Option<$crate::driver::LockRow>, sqlx::Error> {
            let row: Option<(bool, Option<String>, Option<String>)> =
                sqlx::query_as(&tables.read_lock())
                    .fetch_optional(pool)
                    .await?;
            Ok(row.map(
                |(is_locked, locked_at, process_id)| $crate::driver::LockRow {
                    is_locked,
                    locked_at,
                    process_id,
                },
            ))
        }

        async fn write_lock(
            pool: &$pool,
            tables: &$crate::driver::sql::Tables,
            write: $crate::driver::LockWrite<'_>,
        ) -> Result<bool, sqlx::Error> {
            use $crate::driver::LockWrite;
            let result = match write {
                LockWrite::Take { process_id } => {
                    sqlx::query(&tables.take_lock())
                        .bind(process_id)
                        .execute(pool)
                        .await?
                }
                LockWrite::TakeOver { process_id, from } => {
                    sqlx::query(&tables.take_over_lock())
                        .bind(process_id)
                        .bind(from)
                        .execute(pool)
                        .await?
                }
                LockWrite::Release { process_id } => {
                    sqlx::query(&tables.release_lock())
                        .bind(process_id)
                        .execute(pool)
                        .await?
                }
                LockWrite::ForceRelease => {
                    sqlx::query(&tables.force_release_lock())
                        .execute(pool)
                        .await?
                }
            };
            Ok(result.rows_affected() == 1)
        }

        fn write_row<'a>(
            executor: &'a mut $connection,
            tables: &'a $crate::driver::sql::Tables,
            row: &'a $crate::driver::RowWrite<'a>,
            execution_ms: Option<i64>,
            success: bool,
        ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a {
            async move {
                use $crate::driver::RowWrite;
                match *row {
                    RowWrite::Insert {
                        version,
                        description,
                        filename,
                        kind,
                        checksum,
                    } => {
                        sqlx::query(&tables.insert_row())
                            .bind(version)
                            .bind(description)
                            .bind(filename)
                            .bind(kind.as_str())
                            .bind(checksum)
                            .bind(execution_ms)
                            .bind(success)
                            .execute(&mut *executor)
                            .await?;
                    }
                    RowWrite::Update {
                        filename,
                        kind,
                        checksum,
                    } => {
                        sqlx::query(&tables.update_repeatable())
                            .bind(checksum)
                            .bind(execution_ms)
                            .bind(success)
                            .bind(filename)
                            .bind(kind.as_str())
                            .execute(&mut *executor)
                            .await?;
                    }
                    RowWrite::Delete { order_executed } => {
                        sqlx::query(&tables.delete_row())
                            .bind(order_executed)
                            .execute(&mut *executor)
                            .await?;
                    }
                    RowWrite::SetChecksum {
                        order_executed,
                        checksum,
                    } => {
                        sqlx::query(&tables.set_checksum())
                            .bind(checksum)
                            .bind(order_executed)
                            .execute(&mut *executor)
                            .await?;
                    }
                }
                Ok(())
            }
        }

        /// Runs a migration's statement text. SQLite gets a statement that is not cached: every
        /// migration changes the schema, which would expire every cached statement anyway. The
        /// others get the text protocol (PostgreSQL's simple query, MySQL's COM_QUERY), which
        /// takes several statements at once and every kind of statement.
        fn execute_statement<'a>(
            connection: &'a mut $connection,
            sql: &'a str,
        ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'a {
            async move {
                if $dialect == jetbase_core::Dialect::Sqlite {
                    sqlx::query(sql)
                        .persistent(false)
                        .execute(&mut *connection)
                        .await?;
                } else {
                    sqlx::Executor::execute(&mut *connection, sql).await?;
                }
                Ok(())
            }
        }

        /// Runs the migration's statement number `index`; a failure names it.
        fn execute_numbered<'a>(
            connection: &'a mut $connection,
            index: usize,
            sql: &'a str,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                execute_statement(connection, sql).await.map_err(|source| {
                    $crate::driver::JobFailure {
                        statement: Some(index),
                        source,
                    }
                })
            }
        }

        type SessionOf = $crate::driver::Session<<$connection as sqlx::Connection>::Database>;

        fn run_in_transaction<'a>(
            session: &'a mut SessionOf,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                if session.in_run() {
                    return run_in_savepoint(session, tables, job).await;
                }
                // On PostgreSQL the whole transaction travels with the migration's statements:
                // BEGIN (and the search path) with the first, the history write and COMMIT with
                // the last, so a single-statement migration is one round trip.
                if let Some(row_sql) = tables.row_write_sql(&job.row) {
                    return run_batched_transaction(session, tables, job, row_sql).await;
                }
                let started = std::time::Instant::now();
                // Dirty until the commit: a dropped transaction closes the connection.
                session.set_dirty(true);
                let mut transaction = sqlx::Connection::begin(session.connection()?).await?;
                for (index, statement) in job.statements.iter().enumerate() {
                    execute_numbered(&mut *transaction, index, statement.sql).await?;
                }
                let ms = $crate::driver::elapsed_ms(started);
                write_row(&mut *transaction, tables, &job.row, Some(ms), true).await?;
                transaction.commit().await?;
                session.set_dirty(false);
                Ok(())
            }
        }

        /// One migration inside the run's transaction (see `Session::begin_run`).
        fn run_in_savepoint<'a>(
            session: &'a mut SessionOf,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                let started = std::time::Instant::now();
                let connection = session.connection()?;
                sqlx::Executor::execute(&mut *connection, "SAVEPOINT jetbase_migration").await?;
                let mut result = Ok(());
                for (index, statement) in job.statements.iter().enumerate() {
                    result = execute_numbered(&mut *connection, index, statement.sql).await;
                    if result.is_err() {
                        break;
                    }
                }
                if result.is_ok() {
                    let ms = $crate::driver::elapsed_ms(started);
                    result = write_row(&mut *connection, tables, &job.row, Some(ms), true)
                        .await
                        .map_err(Into::into);
                }
                let end = if result.is_ok() {
                    "RELEASE jetbase_migration"
                } else {
                    "ROLLBACK TO jetbase_migration; RELEASE jetbase_migration"
                };
                // If this fails, the database dropped the whole transaction (an I/O error, a
                // full disk): the run's earlier migrations are gone too, and the commit says so.
                let _ = sqlx::Executor::execute(&mut *connection, end).await;
                result
            }
        }

        fn run_batched_transaction<'a>(
            session: &'a mut SessionOf,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
            row_sql: String,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                let mut begin = String::from("BEGIN");
                if let Some(set_path) = tables.set_local_search_path() {
                    begin.push_str(";\n");
                    begin.push_str(&set_path);
                }
                let commit = format!("{row_sql};\nCOMMIT");
                session.set_dirty(true);
                let result =
                    run_batched_statements(session.connection()?, job, &begin, &commit).await;
                if result.is_ok()
                    || sqlx::Executor::execute(session.connection()?, "ROLLBACK")
                        .await
                        .is_ok()
                {
                    session.set_dirty(false);
                }
                // Otherwise the session stays dirty: its connection is closed, and the server
                // rolls back.
                result
            }
        }

        fn run_batched_statements<'a>(
            connection: &'a mut $connection,
            job: &'a $crate::driver::Job<'a>,
            begin: &'a str,
            commit: &'a str,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                let last = job.statements.len().checked_sub(1);
                if last.is_none() {
                    let sql = format!("{begin};\n{commit}");
                    execute_statement(&mut *connection, &sql).await?;
                }
                for (index, statement) in job.statements.iter().enumerate() {
                    let prefix = (index == 0).then_some(begin);
                    let suffix = (Some(index) == last).then_some(commit);
                    let sql = $crate::driver::sql::batch(prefix, statement.sql, suffix);
                    execute_numbered(&mut *connection, index, sql.as_ref()).await?;
                }
                Ok(())
            }
        }

        fn run_without_transaction<'a>(
            session: &'a mut SessionOf,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                // Outside any transaction: what the run applied so far is committed first, and
                // the run's transaction reopened after.
                let reopen = session.in_run();
                session.commit_run().await?;
                // Dirty while the search path may be changed and statements run one by one; on
                // success the search path is reset and the connection is clean again.
                session.set_dirty(true);
                run_on_connection(session.connection()?, tables, job).await?;
                if let Some((_, reset)) = tables.set_search_path() {
                    sqlx::Executor::execute(session.connection()?, reset).await?;
                }
                session.set_dirty(false);
                if reopen {
                    session.begin_run().await?;
                }
                Ok(())
            }
        }

        fn run_on_connection<'a>(
            connection: &'a mut $connection,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                use $crate::driver::RowWrite;
                let started = std::time::Instant::now();
                if let Some((set_path, _)) = tables.set_search_path() {
                    sqlx::Executor::execute(&mut *connection, set_path.as_str()).await?;
                }
                // The row first, as not successful: a failure or a crash leaves it visible.
                let filename = match job.row {
                    RowWrite::Insert { filename, .. } | RowWrite::Update { filename, .. } => {
                        write_row(connection, tables, &job.row, None, false).await?;
                        Some(filename)
                    }
                    RowWrite::Delete { .. } | RowWrite::SetChecksum { .. } => None,
                };
                for (index, statement) in job.statements.iter().enumerate() {
                    execute_numbered(&mut *connection, index, statement.sql).await?;
                }
                let ms = $crate::driver::elapsed_ms(started);
                match filename {
                    Some(filename) => {
                        let order: Option<i64> = sqlx::query_scalar(&tables.find_row())
                            .bind(filename)
                            .fetch_one(&mut *connection)
                            .await?;
                        sqlx::query(&tables.complete_row())
                            .bind(ms)
                            .bind(true)
                            .bind(order)
                            .execute(&mut *connection)
                            .await?;
                    }
                    None => write_row(connection, tables, &job.row, None, true).await?,
                }
                Ok(())
            }
        }

        fn run_job<'a>(
            session: &'a mut SessionOf,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            async move {
                if job.transactional {
                    run_in_transaction(session, tables, job).await
                } else {
                    run_without_transaction(session, tables, job).await
                }
            }
        }
    };
}

/// The `Database` methods that forward to the functions `shared_driver!` wrote.
macro_rules! forward_database_methods {
    () => {
        fn read_history(
            &self,
            tables: &$crate::driver::sql::Tables,
        ) -> impl std::future::Future<Output = Result<Option<Vec<jetbase_core::AppliedMigration>>, sqlx::Error>> + Send
        {
            read_history(self, tables)
        }

        fn prepare(
            &self,
            tables: &$crate::driver::sql::Tables,
        ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send {
            prepare(self, tables)
        }

        fn history_digest(
            &self,
            tables: &$crate::driver::sql::Tables,
        ) -> impl std::future::Future<Output = Result<$crate::driver::Digest, sqlx::Error>> + Send {
            history_digest(self, tables)
        }

        fn store_history_digest(
            &self,
            tables: &$crate::driver::sql::Tables,
            digest: Option<&str>,
            process_id: &str,
        ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send {
            store_history_digest(self, tables, digest, process_id)
        }

        fn read_lock(
            &self,
            tables: &$crate::driver::sql::Tables,
        ) -> impl std::future::Future<Output = Result<Option<$crate::driver::LockRow>, sqlx::Error>> + Send {
            read_lock(self, tables)
        }

        fn write_lock(
            &self,
            tables: &$crate::driver::sql::Tables,
            write: $crate::driver::LockWrite<'_>,
        ) -> impl std::future::Future<Output = Result<bool, sqlx::Error>> + Send {
            write_lock(self, tables, write)
        }

        fn session(&self) -> impl std::future::Future<Output = Result<Self::Session, sqlx::Error>> + Send {
            async move { self.acquire().await.map($crate::driver::Session::new) }
        }

        fn run_job<'a>(
            &'a self,
            session: &'a mut Self::Session,
            tables: &'a $crate::driver::sql::Tables,
            job: &'a $crate::driver::Job<'a>,
        ) -> impl std::future::Future<Output = Result<(), $crate::driver::JobFailure>> + Send + 'a {
            run_job(session, tables, job)
        }
    };
}

pub(crate) use {forward_database_methods, shared_driver};
