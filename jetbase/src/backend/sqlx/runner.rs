//! The sqlx code every sqlx database shares: sessions, the history and lock rows, and running a
//! migration's job. Written once, as plain code against the aliases of the engine module that
//! includes it (`Db`, `Pool`, `Connection`, `DIALECT`, and its `liveness`, `read_history` and
//! `highest_version`), and compiled for each engine under each sqlx major (`backend/sqlx_0_9`,
//! `backend/sqlx_0_8`).
//!
//! Why an included file rather than functions generic over `sqlx::Database`: the bounds such
//! functions need differ between the majors (0.8's `Database::Arguments<'q>` is a generic
//! associated type, 0.9's is not, and 0.9 wants `SqlSafeStr` where 0.8 takes `&str`), so one
//! generic body cannot carry one set of `where` clauses for both; with concrete types each copy
//! type-checks against its own sqlx, and the futures are plainly `Send`.

use std::borrow::Cow;
use std::time::Instant;

use jetbase_core::{AppliedMigration, Dialect};

use super::{Connection, DIALECT, Db, Pool, sqlx, text};
use crate::backend::current;
use crate::backend::tables::{OWN_COLUMNS, OWN_LOCK_COLUMN, Tables, Value, batch};
use crate::backend::{
    Backend, BoxFuture, DatabaseError, DatabaseErrorKind, Digest, Job, JobFailure, LivenessLock,
    LockRow, LockWrite, RowWrite, SandboxCopy, SandboxMark, Session, TableLock, TextRow,
    engine_sql,
};

/// jetbase's error for a sqlx error of this database.
pub(crate) fn database_error(error: sqlx::Error) -> DatabaseError {
    let kind = match &error {
        sqlx::Error::Database(database) => {
            engine_sql(DIALECT).classify(database.code().as_deref(), database.message())
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DatabaseErrorKind::Connection,
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => DatabaseErrorKind::Decode,
        _ => DatabaseErrorKind::Query,
    };
    let server_message = match &error {
        sqlx::Error::Database(database) => Some(database.message().to_owned()),
        _ => None,
    };
    DatabaseError::from_driver(kind, error, server_message.as_deref())
}

/// A failed job, before it becomes a [`JobFailure`].
struct Failure {
    statement: Option<usize>,
    source: sqlx::Error,
}

impl From<sqlx::Error> for Failure {
    fn from(source: sqlx::Error) -> Self {
        Self {
            statement: None,
            source,
        }
    }
}

impl From<Failure> for JobFailure {
    fn from(failure: Failure) -> Self {
        Self {
            statement: failure.statement,
            source: database_error(failure.source),
        }
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The pooled connection one upgrade or rollback runs its migrations on. While it is *dirty* —
/// inside a transaction jetbase opened with plain SQL, or with a changed `search_path` — it is
/// closed instead of going back to the pool if it is dropped (an error whose clean-up also
/// failed, a panic, a cancelled future), and the server rolls back whatever was open.
pub struct SqlxSession {
    connection: Option<sqlx::pool::PoolConnection<Db>>,
    dirty: bool,
    /// Inside the run's transaction: each migration is a savepoint within it.
    in_run: bool,
    /// Inside a sandbox (a rehearsal): the run's transaction is never committed, and no
    /// history row is written.
    sandbox: bool,
    /// The SQL that lifts the holder's mark on this session (see `EngineSql::mark_session_sql`).
    marked: Option<String>,
    /// The holder's mark for each migration's transaction, behind a transaction pooler.
    transaction_mark: Option<String>,
}

impl SqlxSession {
    fn connection(&mut self) -> Result<&mut Connection, sqlx::Error> {
        self.connection
            .as_deref_mut()
            .ok_or(sqlx::Error::PoolClosed)
    }

    /// Opens the run's transaction: until [`SqlxSession::commit_run`], each transactional migration
    /// is a savepoint inside it, so a run costs one commit (one set of fsyncs on SQLite) instead
    /// of one per migration. A failed migration is rolled back to its savepoint and the ones
    /// before it are committed, exactly as with a transaction each; a crash or a cancelled run
    /// rolls back the whole run's transaction, leaving history and schema in step.
    async fn begin_run(&mut self) -> Result<(), sqlx::Error> {
        if self.sandbox {
            return Ok(());
        }
        self.dirty = true;
        execute_text(self.connection()?, "BEGIN").await?;
        self.in_run = true;
        Ok(())
    }

    /// Commits the run's transaction, if one is open.
    async fn commit_run(&mut self) -> Result<(), sqlx::Error> {
        if !self.in_run || self.sandbox {
            return Ok(());
        }
        execute_text(self.connection()?, "COMMIT").await?;
        self.in_run = false;
        self.dirty = false;
        Ok(())
    }

    /// Opens a transaction that [`SqlxSession::discard_sandbox`] rolls back whole; until then each
    /// migration is a savepoint in it and writes no history row (see `Backend::begin_sandbox`).
    async fn begin_sandbox(&mut self, tables: &Tables) -> Result<(), sqlx::Error> {
        let mut begin = String::from("BEGIN");
        if let Some(set_path) = tables.set_local_search_path() {
            begin.push_str(";\n");
            begin.push_str(&set_path);
        }
        self.dirty = true;
        execute_text(self.connection()?, &begin).await?;
        self.in_run = true;
        self.sandbox = true;
        Ok(())
    }

    /// Rolls back everything since [`SqlxSession::begin_sandbox`].
    async fn discard_sandbox(&mut self) -> Result<(), sqlx::Error> {
        if !self.sandbox {
            return Ok(());
        }
        execute_text(self.connection()?, "ROLLBACK").await?;
        self.sandbox = false;
        self.in_run = false;
        self.dirty = false;
        Ok(())
    }

    /// Marks the session as the holder's run session: dirty until unmarked, so that a session
    /// dropped with the mark is closed rather than handed to the application.
    ///
    /// Behind a transaction pooler nothing set on the session stays: each migration's
    /// transaction carries the mark instead, and ends with it.
    async fn mark(&mut self, tables: &Tables, process_id: &str) -> Result<(), sqlx::Error> {
        let Some(mark) = engine_sql(DIALECT).mark_session_sql(process_id) else {
            return Ok(());
        };
        if tables.transaction_pooled() {
            self.transaction_mark = mark.in_transaction;
            return Ok(());
        }
        self.dirty = true;
        execute_text(self.connection()?, &mark.mark).await?;
        self.marked = Some(mark.unmark);
        Ok(())
    }

    async fn unmark(&mut self) -> Result<(), sqlx::Error> {
        self.transaction_mark = None;
        let Some(unmark) = self.marked.take() else {
            return Ok(());
        };
        execute_text(self.connection()?, &unmark).await?;
        self.dirty = self.in_run;
        Ok(())
    }

    /// Sets, releases or restores a savepoint of the sandbox's own.
    async fn sandbox_mark(&mut self, mark: SandboxMark) -> Result<(), sqlx::Error> {
        let sql = match mark {
            SandboxMark::Set => "SAVEPOINT jetbase_sandbox_mark",
            SandboxMark::Release => "RELEASE jetbase_sandbox_mark",
            SandboxMark::Restore => {
                "ROLLBACK TO jetbase_sandbox_mark;\nRELEASE jetbase_sandbox_mark"
            }
        };
        execute_text(self.connection()?, sql).await
    }

    /// The table locks this session holds, where the database tells (PostgreSQL).
    async fn held_locks(&mut self) -> Result<Vec<TableLock>, sqlx::Error> {
        let Some(sql) = engine_sql(DIALECT).held_locks_sql() else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String)> = sqlx::query_as(text(sql))
            .fetch_all(self.connection()?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(table, mode)| TableLock { table, mode })
            .collect())
    }
}

impl Drop for SqlxSession {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take()
            && self.dirty
        {
            drop(connection.detach());
        }
    }
}

/// Runs SQL text as it is: the text protocol (PostgreSQL's simple query, MySQL's COM_QUERY),
/// nothing prepared or cached (every migration changes the schema, which would expire cached
/// statements anyway), several statements at once and every kind of statement.
/// (`Executor::execute` on a text without arguments: sqlx 0.8's `raw_sql(..).execute(..)` on a
/// connection makes a future that is not provably `Send`.)
///
/// A NUL byte is refused before anything is sent: SQLite's statement loop (in sqlx) never gets
/// past one and spins while the run holds the lock, and the other databases would cut the text
/// there. Files and `embed!()` refuse one already; this guards SQL built by other means.
async fn execute_text(connection: &mut Connection, sql: &str) -> Result<(), sqlx::Error> {
    if sql.contains('\0') {
        return Err(sqlx::Error::Protocol(
            "the SQL holds a NUL byte (\\0), which no database takes in SQL text; remove it"
                .to_owned(),
        ));
    }
    sqlx::Executor::execute(connection, text(sql)).await?;
    Ok(())
}

/// Runs one of jetbase's own statements with its values: as plain text with the values written
/// in where the database takes them so (PostgreSQL, see `EngineSql::inline_values`), else
/// prepared with the values bound. Returns how many rows it changed.
async fn execute_values<'c, E>(
    executor: E,
    sql: &str,
    values: &[Value<'_>],
) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let done = match engine_sql(DIALECT).inline_values(sql, values) {
        Some(inlined) => sqlx::Executor::execute(executor, text(&inlined)).await?,
        None => sqlx::Executor::execute(executor, bound(sql, values)).await?,
    };
    Ok(done.rows_affected())
}

/// The rows of one of jetbase's own queries with its values (see [`execute_values`]).
async fn fetch_values<'c, E>(
    executor: E,
    sql: &str,
    values: &[Value<'_>],
) -> Result<Vec<<Db as sqlx::Database>::Row>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    match engine_sql(DIALECT).inline_values(sql, values) {
        Some(inlined) => sqlx::Executor::fetch_all(executor, text(&inlined)).await,
        None => sqlx::Executor::fetch_all(executor, bound(sql, values)).await,
    }
}

/// `sql`, prepared, with `values` bound in order.
fn bound<'q>(sql: &'q str, values: &'q [Value<'q>]) -> impl sqlx::Execute<'q, Db> + 'q {
    let mut query = sqlx::query(text(sql));
    for value in values {
        query = match *value {
            Value::Text(value) => query.bind(value),
            Value::Integer(value) => query.bind(value),
            Value::Boolean(value) => query.bind(value),
        };
    }
    query
}

async fn execute_all(pool: &Pool, statements: &[String]) -> Result<(), sqlx::Error> {
    for statement in statements {
        sqlx::raw_sql(text(statement)).execute(pool).await?;
    }
    Ok(())
}

/// The history, a row per migration: `None` when the table does not exist. (SQLite reads it as
/// one JSON value instead, so its copy of this function is unused.)
#[allow(dead_code)]
pub(crate) async fn read_history_rows(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
    let mut rows = fetch_values(pool, &tables.read_history(true), &[])
        .await
        .map_err(database_error);
    if let Err(error) = &rows
        && error.is_missing_column()
    {
        // A table Python Jetbase created, which jetbase has not extended yet.
        rows = fetch_values(pool, &tables.read_history(false), &[])
            .await
            .map_err(database_error);
    }
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) if error.is_missing_table() => return Ok(None),
        Err(error) => return Err(error),
    };
    rows.iter()
        .map(applied_from_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map(Some)
        .map_err(database_error)
}

/// A history row in the columns of `Tables::read_history`.
fn applied_from_row(row: &<Db as sqlx::Database>::Row) -> Result<AppliedMigration, sqlx::Error> {
    use sqlx::Row as _;
    Ok(AppliedMigration {
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
}

/// The current version's history row (see `current::read_current`), both reads on one
/// connection: the versioned rows by the engine's `highest_version`, then the chosen row.
pub(crate) async fn read_current(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<AppliedMigration>, DatabaseError> {
    let mut connection = pool.acquire().await.map_err(database_error)?;
    current::read_current(&mut OnConnection {
        connection: &mut connection,
        tables,
    })
    .await
}

/// `current`'s two reads on one connection.
struct OnConnection<'a> {
    connection: &'a mut Connection,
    tables: &'a Tables,
}

impl current::CurrentReads for OnConnection<'_> {
    async fn highest(&mut self, own_columns: bool) -> Result<Option<i64>, DatabaseError> {
        super::highest_version(self.connection, self.tables, own_columns).await
    }

    async fn row(
        &mut self,
        own_columns: bool,
        order_executed: i64,
    ) -> Result<Option<AppliedMigration>, DatabaseError> {
        // Plain text (nothing to bind: the key is an integer literal): one round trip, where a
        // prepared statement takes two.
        let sql = self.tables.read_history_row(own_columns, order_executed);
        let rows = sqlx::Executor::fetch_all(&mut *self.connection, text(&sql))
            .await
            .map_err(database_error)?;
        rows.first()
            .map(applied_from_row)
            .transpose()
            .map_err(database_error)
    }
}

/// The `order_executed` of the highest version's row, the rows streamed as they arrive (see
/// `Tables::read_versions`). (SQLite reads them as one JSON value instead, so its copy of this
/// function is unused.)
#[allow(dead_code)]
pub(crate) async fn stream_highest_version(
    connection: &mut Connection,
    tables: &Tables,
    own_columns: bool,
) -> Result<Option<i64>, DatabaseError> {
    use sqlx::Row as _;
    let sql = tables.read_versions(own_columns);
    let mut rows = sqlx::Executor::fetch(&mut *connection, text(&sql));
    let mut highest = current::HighestVersion::default();
    while let Some(row) = std::future::poll_fn(|context| rows.as_mut().poll_next(context)).await {
        let row = row.map_err(database_error)?;
        let version: Option<String> = row.try_get("version").map_err(database_error)?;
        let success = if own_columns {
            row.try_get("success").ok().flatten()
        } else {
            None
        };
        highest.offer(
            row.try_get("jb_order").map_err(database_error)?,
            version.as_deref(),
            success,
        );
    }
    Ok(highest.order_executed())
}

/// The fast path's one query, as plain text (PostgreSQL's simple query, MySQL's COM_QUERY): one
/// round trip and nothing prepared, which matters where every tenant's schema makes it a new
/// statement (`jetbase::fleet`).
async fn history_digest(pool: &Pool, tables: &Tables) -> Result<Digest, DatabaseError> {
    use sqlx::Row as _;
    let sql = tables.history_digest();
    let row = sqlx::raw_sql(text(&sql)).fetch_one(pool).await;
    let found = row.and_then(|row| {
        Ok((
            row.try_get::<Option<String>, _>(0)?,
            row.try_get::<i64, _>(1)?,
            row.try_get::<i64, _>(2)?,
        ))
    });
    match found.map_err(database_error) {
        Ok((stored, rows, max_order)) => Ok(Digest::Found {
            stored,
            rows,
            max_order,
        }),
        Err(error) if error.is_missing_table() || error.is_missing_column() => {
            Ok(Digest::Unavailable)
        }
        Err(error) => Err(error),
    }
}

async fn store_history_digest(
    pool: &Pool,
    tables: &Tables,
    digest: Option<&str>,
    process_id: &str,
) -> Result<(), sqlx::Error> {
    execute_values(
        pool,
        &tables.store_history_digest(),
        &[Value::Text(digest), Value::Text(Some(process_id))],
    )
    .await?;
    Ok(())
}

/// Creates the tables (and the schema) if missing, adds jetbase's own columns to tables Python
/// Jetbase created, and the lock row.
async fn prepare(pool: &Pool, tables: &Tables) -> Result<(), sqlx::Error> {
    // DDL only for what is missing: on a Galera cluster every DDL statement, even one that
    // changes nothing, runs on all nodes in total order and aborts the transactions there that
    // use its table (the holder's lock row write is then a lost race, tried again).
    let lock_columns = column_names(pool, tables, "jetbase_lock").await?;
    let mut ddl: Vec<String> = Vec::new();
    if lock_columns.is_empty() {
        ddl.extend(tables.create_schema());
        ddl.push(tables.create_lock());
    } else {
        // A lock table Python Jetbase created gets jetbase's column.
        ddl.extend(missing_own_columns(
            tables,
            &lock_columns,
            &[OWN_LOCK_COLUMN],
        ));
    }
    execute_all(pool, &ddl).await?;
    execute_values(pool, &tables.init_lock_row(), &[]).await?;
    Ok(())
}

/// Under the lock: the history table, or jetbase's columns on one Python Jetbase created. Never
/// before: on a Galera cluster, a waiter's DDL on it would abort the holder's history writes.
async fn prepare_history(pool: &Pool, tables: &Tables) -> Result<(), sqlx::Error> {
    let history_columns = column_names(pool, tables, "jetbase_migrations").await?;
    let ddl = if history_columns.is_empty() {
        vec![tables.create_migrations()]
    } else {
        missing_own_columns(tables, &history_columns, &OWN_COLUMNS)
    };
    execute_all(pool, &ddl).await
}

/// The `ALTER TABLE`s adding those of `own_columns` a table of `columns` lacks.
fn missing_own_columns(tables: &Tables, columns: &[String], own_columns: &[&str]) -> Vec<String> {
    own_columns
        .iter()
        .filter(|own| !columns.iter().any(|c| c.eq_ignore_ascii_case(own)))
        .map(|own| tables.add_column(own))
        .collect()
}

/// The columns of one of jetbase's tables; empty when it does not exist.
async fn column_names(
    pool: &Pool,
    tables: &Tables,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    fetch_values(pool, &tables.columns(table), &[])
        .await?
        .iter()
        .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
        .collect()
}

async fn read_lock(pool: &Pool, tables: &Tables) -> Result<Option<LockRow>, sqlx::Error> {
    use sqlx::Row as _;
    let rows = fetch_values(pool, &tables.read_lock(), &[]).await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(LockRow {
        is_locked: row.try_get(0)?,
        locked_at: row.try_get(1)?,
        process_id: row.try_get(2)?,
    }))
}

/// Changes the lock row by compare-and-set: true when this write changed it.
async fn write_lock(
    pool: &Pool,
    tables: &Tables,
    write: LockWrite<'_>,
) -> Result<bool, sqlx::Error> {
    let (sql, values) = match write {
        LockWrite::Take { process_id } => (tables.take_lock(), vec![Value::Text(Some(process_id))]),
        LockWrite::TakeOver { process_id, from } => (
            tables.take_over_lock(),
            vec![Value::Text(Some(process_id)), Value::Text(Some(from))],
        ),
        LockWrite::TakeOverExpired {
            process_id,
            from,
            lease_seconds,
        } => (
            tables.take_over_expired_lock(lease_seconds),
            vec![Value::Text(Some(process_id)), Value::Text(Some(from))],
        ),
        LockWrite::Renew { process_id } => {
            (tables.renew_lock(), vec![Value::Text(Some(process_id))])
        }
        LockWrite::Release { process_id } => {
            (tables.release_lock(), vec![Value::Text(Some(process_id))])
        }
        LockWrite::ForceRelease => (tables.force_release_lock(), Vec::new()),
    };
    Ok(execute_values(pool, &sql, &values).await? == 1)
}

async fn write_row(
    connection: &mut Connection,
    tables: &Tables,
    row: &RowWrite<'_>,
    execution_ms: Option<i64>,
    success: bool,
) -> Result<(), sqlx::Error> {
    let (sql, values) = match *row {
        RowWrite::Insert {
            version,
            description,
            filename,
            kind,
            checksum,
        } => (
            tables.insert_row(),
            vec![
                Value::Text(version),
                Value::Text(Some(description)),
                Value::Text(Some(filename)),
                Value::Text(Some(kind.as_str())),
                Value::Text(Some(checksum)),
                Value::Integer(execution_ms),
                Value::Boolean(success),
            ],
        ),
        RowWrite::Update {
            filename,
            kind,
            checksum,
        } => (
            tables.update_repeatable(),
            vec![
                Value::Text(Some(checksum)),
                Value::Integer(execution_ms),
                Value::Boolean(success),
                Value::Text(Some(filename)),
                Value::Text(Some(kind.as_str())),
            ],
        ),
        RowWrite::Delete { order_executed } => (
            tables.delete_row(),
            vec![Value::Integer(Some(order_executed))],
        ),
        RowWrite::SetChecksum {
            order_executed,
            checksum,
        } => (
            tables.set_checksum(),
            vec![
                Value::Text(Some(checksum)),
                Value::Integer(Some(order_executed)),
            ],
        ),
    };
    execute_values(&mut *connection, &sql, &values).await?;
    Ok(())
}

/// Runs the migration's statement number `index`; a failure names it.
async fn execute_numbered(
    connection: &mut Connection,
    index: usize,
    sql: &str,
) -> Result<(), Failure> {
    execute_text(connection, sql)
        .await
        .map_err(|source| Failure {
            statement: Some(index),
            source,
        })
}

async fn run_in_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), Failure> {
    if session.in_run {
        return run_in_savepoint(session, tables, job).await;
    }
    // Where the database takes it, the whole transaction travels with the migration's
    // statements: BEGIN (and the search path) with the first, the history write and COMMIT
    // with the last, so a single-statement migration is one round trip.
    if let Some(row_sql) = tables.row_write_sql(&job.row) {
        return run_batched_transaction(session, tables, job, row_sql).await;
    }
    let started = Instant::now();
    // Dirty until the commit and the timeouts' reset: a dropped transaction, or a session left
    // with a migration's timeouts, closes the connection.
    session.dirty = true;
    let limits = tables.limits_sql(&job.limits, false);
    if let Some(limits) = &limits {
        execute_text(session.connection()?, &limits.set).await?;
    }
    let mut transaction = sqlx::Connection::begin(session.connection()?).await?;
    for (index, statement) in job.statements.iter().enumerate() {
        execute_numbered(&mut transaction, index, statement.sql).await?;
    }
    write_row(
        &mut transaction,
        tables,
        &job.row,
        Some(elapsed_ms(started)),
        true,
    )
    .await?;
    transaction.commit().await?;
    if let Some(reset) = limits.and_then(|limits| limits.reset) {
        execute_text(session.connection()?, &reset).await?;
    }
    session.dirty = false;
    Ok(())
}

/// One migration inside the run's transaction (see `SqlxSession::begin_run`).
async fn run_in_savepoint(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let limits = tables.limits_sql(&job.limits, false);
    // A sandbox writes no history row: nothing of it is kept.
    let write_history = !session.sandbox;
    let connection = session.connection()?;
    let mut begin = Cow::Borrowed("SAVEPOINT jetbase_migration");
    if let Some(limits) = &limits {
        begin = Cow::Owned(format!("{};\nSAVEPOINT jetbase_migration", limits.set));
    }
    execute_text(connection, &begin).await?;
    let mut result = Ok(());
    for (index, statement) in job.statements.iter().enumerate() {
        result = execute_numbered(connection, index, statement.sql).await;
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && write_history {
        let ms = elapsed_ms(started);
        result = write_row(connection, tables, &job.row, Some(ms), true)
            .await
            .map_err(Failure::from);
    }
    let end = if result.is_ok() {
        "RELEASE jetbase_migration"
    } else {
        "ROLLBACK TO jetbase_migration; RELEASE jetbase_migration"
    };
    let end = match limits.and_then(|limits| limits.reset) {
        Some(reset) => Cow::Owned(format!("{end};\n{reset}")),
        None => Cow::Borrowed(end),
    };
    // If this fails, the database dropped the whole transaction (an I/O error, a full disk):
    // the run's earlier migrations are gone too, and the commit says so.
    let _ = execute_text(connection, &end).await;
    result
}

async fn run_batched_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
    row_sql: String,
) -> Result<(), Failure> {
    let mut commit_reset = None;
    let mut begin = String::from("BEGIN");
    if let Some(set_path) = tables.set_local_search_path() {
        begin.push_str(";\n");
        begin.push_str(&set_path);
    }
    if let Some(mark) = &session.transaction_mark {
        begin.push_str(";\n");
        begin.push_str(mark);
    }
    // The timeouts travel with BEGIN too, and end with the transaction.
    if let Some(limits) = tables.limits_sql(&job.limits, true) {
        begin.push_str(";\n");
        begin.push_str(&limits.set);
        if let Some(reset) = limits.reset {
            commit_reset = Some(reset);
        }
    }
    let commit = format!("{row_sql};\nCOMMIT");
    session.dirty = true;
    let result = run_batched_statements(session.connection()?, job, &begin, &commit).await;
    let clean_up = match (&result, commit_reset) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(reset)) => execute_text(session.connection()?, &reset).await,
        (Err(_), None) => execute_text(session.connection()?, "ROLLBACK").await,
        (Err(_), Some(reset)) => {
            execute_text(session.connection()?, &format!("ROLLBACK;\n{reset}")).await
        }
    };
    if clean_up.is_ok() {
        session.dirty = false;
    }
    // Otherwise the session stays dirty: its connection is closed, and the server rolls back.
    result
}

async fn run_batched_statements(
    connection: &mut Connection,
    job: &Job<'_>,
    begin: &str,
    commit: &str,
) -> Result<(), Failure> {
    let last = job.statements.len().checked_sub(1);
    if last.is_none() {
        execute_text(connection, &format!("{begin};\n{commit}")).await?;
    }
    for (index, statement) in job.statements.iter().enumerate() {
        let prefix = (index == 0).then_some(begin);
        let suffix = (Some(index) == last).then_some(commit);
        let sql = batch(prefix, statement.sql, suffix);
        execute_numbered(connection, index, sql.as_ref()).await?;
    }
    Ok(())
}

async fn run_without_transaction(
    session: &mut SqlxSession,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), Failure> {
    // Outside any transaction: what the run applied so far is committed first, and the run's
    // transaction reopened after.
    let reopen = session.in_run;
    session.commit_run().await?;
    // Dirty while the search path may be changed and statements run one by one; on success the
    // search path is reset and the connection is clean again.
    session.dirty = true;
    let limits = tables.limits_sql(&job.limits, false);
    if let Some(limits) = &limits {
        execute_text(session.connection()?, &limits.set).await?;
    }
    run_on_connection(session.connection()?, tables, job).await?;
    if let Some(reset) = limits.and_then(|limits| limits.reset) {
        execute_text(session.connection()?, &reset).await?;
    }
    if let Some((_, reset)) = tables.set_search_path() {
        execute_text(session.connection()?, reset).await?;
    }
    session.dirty = false;
    if reopen {
        session.begin_run().await?;
    }
    Ok(())
}

async fn run_on_connection(
    connection: &mut Connection,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), Failure> {
    let started = Instant::now();
    if let Some((set_path, _)) = tables.set_search_path() {
        execute_text(connection, &set_path).await?;
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
        execute_numbered(connection, index, statement.sql).await?;
    }
    let ms = elapsed_ms(started);
    match filename {
        Some(filename) => {
            let found = fetch_values(
                &mut *connection,
                &tables.find_row(),
                &[Value::Text(Some(filename))],
            )
            .await?;
            let order: Option<i64> = match found.first() {
                Some(row) => sqlx::Row::try_get(row, 0)?,
                None => None,
            };
            execute_values(
                &mut *connection,
                &tables.complete_row(),
                &[
                    Value::Integer(Some(ms)),
                    Value::Boolean(true),
                    Value::Integer(order),
                ],
            )
            .await?;
        }
        None => write_row(connection, tables, &job.row, None, true).await?,
    }
    Ok(())
}

async fn run_job(session: &mut SqlxSession, tables: &Tables, job: &Job<'_>) -> Result<(), Failure> {
    if job.transactional {
        run_in_transaction(session, tables, job).await
    } else {
        run_without_transaction(session, tables, job).await
    }
}

impl crate::backend::private::Sealed for Pool {
    fn backend(&self) -> &dyn Backend {
        self
    }

    fn into_backend(self) -> std::sync::Arc<dyn Backend> {
        std::sync::Arc::new(self)
    }
}

/// The sqlx session inside a run's [`Session`].
fn sqlx_session(session: &mut Session) -> Result<&mut SqlxSession, DatabaseError> {
    session.of::<SqlxSession>()
}

impl Backend for Pool {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>> {
        Box::pin(async move {
            let connection = self.acquire().await.map_err(database_error)?;
            Ok(Session::new(SqlxSession {
                connection: Some(connection),
                dirty: false,
                in_run: false,
                sandbox: false,
                marked: None,
                transaction_mark: None,
            }))
        })
    }

    fn read_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>> {
        Box::pin(super::read_history(self, tables))
    }

    fn history_digest<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>> {
        Box::pin(history_digest(self, tables))
    }

    fn read_current<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>> {
        Box::pin(read_current(self, tables))
    }

    fn store_history_digest<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            store_history_digest(self, tables, digest, process_id)
                .await
                .map_err(database_error)
        })
    }

    fn prepare<'a>(&'a self, tables: &'a Tables) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move { prepare(self, tables).await.map_err(database_error) })
    }

    fn prepare_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move { prepare_history(self, tables).await.map_err(database_error) })
    }

    fn read_lock<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>> {
        Box::pin(async move { read_lock(self, tables).await.map_err(database_error) })
    }

    fn write_lock<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(async move {
            write_lock(self, tables, write)
                .await
                .map_err(database_error)
        })
    }

    fn liveness<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Box<dyn LivenessLock>, DatabaseError>> {
        Box::pin(async move {
            let liveness = super::liveness(self, tables)
                .await
                .map_err(database_error)?;
            Ok(Box::new(liveness) as Box<dyn LivenessLock>)
        })
    }

    fn run_job<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(async move {
            run_job(sqlx_session(session)?, tables, job)
                .await
                .map_err(JobFailure::from)
        })
    }

    fn begin_run<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            if super::RUN_IN_ONE_TRANSACTION {
                let session = sqlx_session(session)?;
                session.begin_run().await.map_err(database_error)?;
            }
            Ok(())
        })
    }

    fn begin_batch<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.begin_run().await.map_err(database_error)
        })
    }

    fn commit_run<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.commit_run().await.map_err(database_error)
        })
    }

    fn mark_session<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session
                .mark(tables, process_id)
                .await
                .map_err(database_error)
        })
    }

    fn unmark_session<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.unmark().await.map_err(database_error)
        })
    }

    fn end_sessions_of<'a>(
        &'a self,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<usize, DatabaseError>> {
        Box::pin(async move {
            let sql = engine_sql(DIALECT);
            let Some(find) = sql.end_sessions_sql(process_id) else {
                return Ok(0);
            };
            let ids = fetch_values(self, &find, &[])
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|row| sqlx::Row::try_get::<Option<i64>, _>(row, 0))
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(database_error)?;
            let mut ended = 0;
            for id in ids.into_iter().flatten() {
                if let Some(kill) = sql.kill_session_sql(id) {
                    // Not allowed (another user's session): the next run waits as it would have.
                    if sqlx::raw_sql(text(&kill)).execute(self).await.is_ok() {
                        ended += 1;
                    }
                }
            }
            Ok(ended)
        })
    }

    fn is_read_only(&self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let Some(sql) = engine_sql(DIALECT).read_only_sql() else {
                return Ok(false);
            };
            let row = sqlx::raw_sql(text(sql))
                .fetch_one(self)
                .await
                .map_err(database_error)?;
            let value: Option<String> = row.try_get(0).map_err(database_error)?;
            Ok(!matches!(
                value.as_deref().map(str::to_ascii_lowercase).as_deref(),
                None | Some("false" | "f" | "0" | "off")
            ))
        })
    }

    fn lock_is_leased<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(async move {
            if !DIALECT.capabilities().session_locks || tables.transaction_pooled() {
                return Ok(true);
            }
            let Some(sql) = engine_sql(DIALECT).cluster_sql() else {
                return Ok(false);
            };
            // As plain text: `SHOW` is not a statement every server prepares.
            let rows = sqlx::Executor::fetch_all(self, text(sql))
                .await
                .map_err(database_error)?;
            // (`SHOW`'s columns are text of a binary collation on some servers: read as it is.)
            Ok(rows.iter().any(|row| {
                sqlx::Row::try_get_unchecked::<String, _>(row, 1)
                    .is_ok_and(|value| value.eq_ignore_ascii_case("on"))
            }))
        })
    }

    fn sandbox_copy(&self) -> BoxFuture<'_, Result<Option<SandboxCopy>, DatabaseError>> {
        Box::pin(async move { super::sandbox_copy(self).await.map_err(database_error) })
    }

    fn begin_sandbox<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.begin_sandbox(tables).await.map_err(database_error)
        })
    }

    fn discard_sandbox<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.discard_sandbox().await.map_err(database_error)
        })
    }

    fn sandbox_mark<'a>(
        &'a self,
        session: &'a mut Session,
        mark: SandboxMark,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.sandbox_mark(mark).await.map_err(database_error)
        })
    }

    fn held_locks<'a>(
        &'a self,
        session: &'a mut Session,
    ) -> BoxFuture<'a, Result<Vec<TableLock>, DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            session.held_locks().await.map_err(database_error)
        })
    }

    fn read_schema<'a>(
        &'a self,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move {
            let mut connection = self.acquire().await.map_err(database_error)?;
            // One read-only transaction: behind a transaction pooler, every catalog query runs
            // on the same server session.
            let mut transaction = sqlx::Connection::begin(&mut *connection)
                .await
                .map_err(database_error)?;
            let schema = super::introspect::read_schema(&mut transaction, postgres_schema)
                .await
                .map_err(database_error)?;
            transaction.rollback().await.map_err(database_error)?;
            Ok(schema)
        })
    }

    fn read_schema_in<'a>(
        &'a self,
        session: &'a mut Session,
        postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        Box::pin(async move {
            let session = sqlx_session(session)?;
            let connection = session.connection().map_err(database_error)?;
            super::introspect::read_schema(connection, postgres_schema)
                .await
                .map_err(database_error)
        })
    }

    fn read_text_rows<'a>(
        &'a self,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<TextRow>>, DatabaseError>> {
        Box::pin(async move {
            use sqlx::Row as _;
            let rows = fetch_values(self, sql, &[]).await.and_then(|rows| {
                rows.iter()
                    .map(|row| -> Result<TextRow, sqlx::Error> {
                        Ok([
                            row.try_get(0)?,
                            row.try_get(1)?,
                            row.try_get(2)?,
                            row.try_get(3)?,
                        ])
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            match rows.map_err(database_error) {
                Ok(rows) => Ok(Some(rows)),
                Err(error) if error.is_missing_table() => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(Pool::close(self))
    }
}
