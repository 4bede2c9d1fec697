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
use crate::backend::tables::{OWN_COLUMNS, OWN_LOCK_COLUMN, ROLLBACK_COLUMN, Tables, Value, batch};
use crate::backend::{
    Backend, BoxFuture, DatabaseError, DatabaseErrorKind, Digest, Job, JobFailure, LivenessLock,
    LockRow, LockWrite, RowWrite, SandboxCopy, SandboxMark, Session, TableLock, TextRow,
    elapsed_ms, engine_sql,
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
struct SqlxJobError {
    statement: Option<usize>,
    source: sqlx::Error,
}

impl From<sqlx::Error> for SqlxJobError {
    fn from(source: sqlx::Error) -> Self {
        Self {
            statement: None,
            source,
        }
    }
}

impl From<SqlxJobError> for JobFailure {
    fn from(failure: SqlxJobError) -> Self {
        Self {
            statement: failure.statement,
            source: database_error(failure.source),
        }
    }
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

// The rest of the sqlx backend, by job; `#[path]` because this file is itself included by each
// engine's `pool.rs`.
#[path = "backend_impl.rs"]
mod backend_impl;
#[path = "history_rows.rs"]
mod history_rows;
#[path = "jobs.rs"]
mod jobs;

// (SQLite reads its history as one JSON value, and uses neither.)
#[allow(clippy::wildcard_imports)]
use history_rows::*;
#[allow(unused_imports)]
pub(crate) use history_rows::{read_history_rows, stream_highest_version};
#[allow(clippy::wildcard_imports)]
use jobs::*;
