//! The databases reached over HTTP whose statements each commit by themselves and whose UPDATE
//! reports the rows it changed (Snowflake, Databricks): the history and lock are read and
//! written with bound statements returning rows of text, and every migration runs row-first.
//! Written once here; each database supplies how one statement runs ([`Statements`]).
//!
//! Row-first: a migration's history row is written first, marked unfinished (`success` false),
//! then its statements run, then the row is completed in one statement. A failure half-way
//! leaves the row unfinished: `status` shows the migration failed and the next upgrade stops at
//! it until it is rolled back (DDL commits by itself on these databases: nothing undoes it).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jetbase_core::{AppliedMigration, Dialect};

use super::private::Key;
use super::race_retry::{self, Patience, TABLE_CREATION, is_query_error};
use super::tables::{OWN_COLUMNS, OWN_LOCK_COLUMN, Tables};
use super::text_rows::{
    self, TextRow, applied_migration, boolean, cell, elapsed_ms, integer, text,
};
use super::{
    Backend, BoxFuture, DatabaseError, Digest, Job, JobFailure, LivenessLock, LockRow, LockWrite,
    NoSessionLock, RowWrite, Session,
};

/// A bound value: the value the sqlx backends bind ([`super::tables::Value`]), named for
/// what it is here (the HTTP clients have a JSON `Value` of their own).
pub(crate) use super::tables::Value as Bind;

/// What a statement returned.
#[derive(Debug, Default)]
pub(crate) struct QueryResult {
    /// Each cell as text, `None` for NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// For DML: the rows inserted, updated, deleted or merged.
    pub affected: Option<u64>,
}

impl QueryResult {
    fn first_row(&self) -> &TextRow {
        self.rows.first().map(Vec::as_slice).unwrap_or_default()
    }
}

/// Runs one statement with its binds (the database's placeholders in the text).
pub(crate) trait Statements: Sync {
    fn run(
        &self,
        sql: &str,
        binds: &[Bind<'_>],
    ) -> impl Future<Output = Result<QueryResult, DatabaseError>> + Send;
}

/// The history, oldest first; `None` when the table does not exist.
pub(crate) async fn read_history(
    database: &impl Statements,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
    let mut result = database.run(&tables.read_history(true), &[]).await;
    if let Err(error) = &result
        && error.is_missing_column()
    {
        // A table Python Jetbase created, which jetbase has not extended yet.
        result = database.run(&tables.read_history(false), &[]).await;
    }
    let rows = match result {
        Ok(result) => result.rows,
        Err(error) if error.is_missing_table() => return Ok(None),
        Err(error) => return Err(error),
    };
    rows.iter()
        .map(|row| applied_migration(row))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The current version's history row; `None` when nothing versioned is applied or the table
/// does not exist.
pub(crate) async fn read_current(
    database: &impl Statements,
    tables: &Tables,
) -> Result<Option<AppliedMigration>, DatabaseError> {
    text_rows::read_current(tables, |sql| async move {
        database.run(&sql, &[]).await.map(|result| result.rows)
    })
    .await
}

/// Creates the lock table and its row, adding jetbase's column to a lock table Python Jetbase
/// made (see `Backend::prepare`). Every statement is idempotent; without a session lock to
/// serialise them, processes that start together run them at once, and a statement that lost a
/// race with its twin (a write conflict) is retried.
pub(crate) async fn prepare(
    database: &impl Statements,
    tables: &Tables,
) -> Result<(), DatabaseError> {
    race_retry::retrying(TABLE_CREATION, is_query_error, || {
        prepare_lock(database, tables)
    })
    .await
}

/// Under the lock: the history table, or jetbase's columns on one Python Jetbase made (see
/// `Backend::prepare_history`); a race lost to another tool's DDL is retried.
pub(crate) async fn prepare_history(
    database: &impl Statements,
    tables: &Tables,
) -> Result<(), DatabaseError> {
    race_retry::retrying(TABLE_CREATION, is_query_error, || async {
        database.run(&tables.create_migrations(), &[]).await?;
        add_own_columns(database, tables, &tables.migrations_name, &OWN_COLUMNS).await
    })
    .await
}

async fn prepare_lock(database: &impl Statements, tables: &Tables) -> Result<(), DatabaseError> {
    database.run(&tables.create_lock(), &[]).await?;
    add_own_columns(database, tables, &tables.lock_name, &[OWN_LOCK_COLUMN]).await?;
    database.run(&tables.init_lock_row(), &[]).await?;
    Ok(())
}

/// Adds those of `own_columns` that `table` lacks.
async fn add_own_columns(
    database: &impl Statements,
    tables: &Tables,
    table: &str,
    own_columns: &[&str],
) -> Result<(), DatabaseError> {
    let columns = database.run(&tables.columns(table), &[]).await?.rows;
    for own in own_columns {
        let present = columns
            .iter()
            .any(|row| cell(row, 0).is_some_and(|c| c.eq_ignore_ascii_case(own)));
        if !present {
            database.run(&tables.add_column(own), &[]).await?;
        }
    }
    Ok(())
}

/// The fast path's one query.
pub(crate) async fn history_digest(
    database: &impl Statements,
    tables: &Tables,
) -> Result<Digest, DatabaseError> {
    match database.run(&tables.history_digest(), &[]).await {
        Ok(result) => {
            let row = result.first_row();
            Ok(Digest::Found {
                stored: text(row, 0),
                rows: integer(row, 1)?.unwrap_or(0),
                max_order: integer(row, 2)?.unwrap_or(0),
            })
        }
        Err(error) if error.is_missing_table() || error.is_missing_column() => {
            Ok(Digest::Unavailable)
        }
        Err(error) => Err(error),
    }
}

pub(crate) async fn store_history_digest(
    database: &impl Statements,
    tables: &Tables,
    digest: Option<&str>,
    process_id: &str,
) -> Result<(), DatabaseError> {
    let binds = [Bind::Text(digest), Bind::Text(Some(process_id))];
    database.run(&tables.store_history_digest(), &binds).await?;
    Ok(())
}

pub(crate) async fn read_lock(
    database: &impl Statements,
    tables: &Tables,
) -> Result<Option<LockRow>, DatabaseError> {
    let result = database.run(&tables.read_lock(), &[]).await?;
    Ok(result.rows.first().map(|row| LockRow {
        is_locked: boolean(row, 0).unwrap_or(false),
        locked_at: text(row, 1),
        process_id: text(row, 2),
    }))
}

/// Compare-and-set on the lock row: the UPDATE reports the rows it changed. (Neither database
/// enforces primary keys: should the lock table hold two `id = 1` rows, the first taker changes
/// both and the next finds none free, so "at least one" is the test.) A taking write is tried
/// only after a read finds the row takeable: waiting processes poll with reads, and writes,
/// which on these databases commit a new version of the table, are left to the holder and to a
/// real chance of taking it.
pub(crate) async fn write_lock(
    database: &impl Statements,
    tables: &Tables,
    write: LockWrite<'_>,
) -> Result<bool, DatabaseError> {
    let takeable = match write {
        LockWrite::Take { .. } => Some(database.run(&tables.count_free_lock(), &[]).await?),
        LockWrite::TakeOverExpired {
            from,
            lease_seconds,
            ..
        } => Some(
            database
                .run(
                    &tables.count_expired_lock(lease_seconds),
                    &[Bind::Text(Some(from))],
                )
                .await?,
        ),
        _ => None,
    };
    if let Some(found) = takeable
        && integer(found.first_row(), 0)?.unwrap_or(0) == 0
    {
        return Ok(false);
    }
    let result = match write {
        LockWrite::Take { process_id } => {
            database
                .run(&tables.take_lock(), &[Bind::Text(Some(process_id))])
                .await?
        }
        LockWrite::TakeOver { process_id, from } => {
            let binds = [Bind::Text(Some(process_id)), Bind::Text(Some(from))];
            database.run(&tables.take_over_lock(), &binds).await?
        }
        LockWrite::TakeOverExpired {
            process_id,
            from,
            lease_seconds,
        } => {
            let binds = [Bind::Text(Some(process_id)), Bind::Text(Some(from))];
            database
                .run(&tables.take_over_expired_lock(lease_seconds), &binds)
                .await?
        }
        LockWrite::Renew { process_id } => {
            database
                .run(&tables.renew_lock(), &[Bind::Text(Some(process_id))])
                .await?
        }
        LockWrite::Release { process_id } => {
            database
                .run(&tables.release_lock(), &[Bind::Text(Some(process_id))])
                .await?
        }
        LockWrite::ForceRelease => database.run(&tables.force_release_lock(), &[]).await?,
    };
    Ok(result.affected.unwrap_or(0) >= 1)
}

async fn write_row(
    database: &impl Statements,
    tables: &Tables,
    row: &RowWrite<'_>,
    success: bool,
) -> Result<(), DatabaseError> {
    let (sql, values) = tables.row_write(row, None, success);
    database.run(&sql, &values).await?;
    Ok(())
}

/// Runs one migration row-first (see the module's documentation); a row that is deleted or
/// re-checksummed (rollback, repair) is written after the statements.
pub(crate) async fn run_job(
    database: &impl Statements,
    tables: &Tables,
    job: &Job<'_>,
) -> Result<(), JobFailure> {
    let started = Instant::now();
    let filename = match job.row {
        RowWrite::Insert { filename, .. } | RowWrite::Update { filename, .. } => {
            write_row(database, tables, &job.row, false).await?;
            Some(filename)
        }
        RowWrite::Delete { .. } | RowWrite::SetChecksum { .. } => None,
    };
    for (index, statement) in job.statements.iter().enumerate() {
        database
            .run(statement.sql, &[])
            .await
            .map_err(|source| JobFailure {
                statement: Some(index),
                source,
            })?;
    }
    match filename {
        Some(filename) => {
            let binds = [
                Bind::Integer(Some(elapsed_ms(started))),
                Bind::Boolean(true),
                Bind::Text(Some(filename)),
            ];
            database.run(&tables.complete_row_of_file(), &binds).await?;
        }
        None => write_row(database, tables, &job.row, true).await?,
    }
    Ok(())
}

/// A warehouse whose history and lock are written row-first (Snowflake, Databricks): what each
/// says of itself. Its [`Backend`] is written once, below, for all of them.
pub(crate) trait Warehouse: Statements + Clone + Send + Sync + 'static {
    /// Which database it is.
    const DIALECT: Dialect;

    /// Its name in messages (`Snowflake`).
    const NAME: &'static str;

    /// A session for a run: none by default (every statement is a request of its own).
    fn open_session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>> {
        Box::pin(std::future::ready(Ok(Session::new(()))))
    }

    /// Runs one migration's job, on the run's session where the warehouse keeps one.
    fn run_job_in<'a>(
        &'a self,
        _session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        Box::pin(run_job(self, tables, job))
    }

    /// Whether a failed write lost to a concurrent write of the same table (a commit conflict):
    /// the lock holder's own writes are then tried again (see [`write_lock_retried`]).
    fn is_write_conflict(&self, _error: &DatabaseError) -> bool {
        false
    }

    /// Closes what the pool holds (its sessions).
    fn close_pool(&self) -> BoxFuture<'_, ()>;
}

/// A lock write; a write of the holder's own (renew, release) that fails on a commit conflict is
/// tried again, up to five times with a growing pause: only a contender's failed attempt could
/// have conflicted with it, and that attempt changed nothing. A contender's own compare-and-set
/// that conflicts is a lost race, as the lock counts it.
async fn write_lock_retried<W: Warehouse>(
    database: &W,
    tables: &Tables,
    write: LockWrite<'_>,
) -> Result<bool, DatabaseError> {
    const HOLDERS_WRITE: Patience = Patience {
        retries: 5,
        step: Duration::from_millis(100),
    };
    let holders_own = matches!(
        write,
        LockWrite::Renew { .. } | LockWrite::Release { .. } | LockWrite::ForceRelease
    );
    race_retry::retrying(
        HOLDERS_WRITE,
        |error| holders_own && database.is_write_conflict(error),
        || write_lock(database, tables, write),
    )
    .await
}

impl<W: Warehouse> super::private::Sealed for W {
    fn backend(&self, _key: Key) -> &dyn Backend {
        self
    }

    fn into_backend(self, _key: Key) -> Arc<dyn Backend> {
        Arc::new(self)
    }
}

impl<W: Warehouse> Backend for W {
    fn dialect(&self) -> Dialect {
        W::DIALECT
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn session(&self) -> BoxFuture<'_, Result<Session, DatabaseError>> {
        self.open_session()
    }

    fn read_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<Vec<AppliedMigration>>, DatabaseError>> {
        Box::pin(read_history(self, tables))
    }

    fn read_current<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<AppliedMigration>, DatabaseError>> {
        Box::pin(read_current(self, tables))
    }

    fn history_digest<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Digest, DatabaseError>> {
        Box::pin(history_digest(self, tables))
    }

    fn store_history_digest<'a>(
        &'a self,
        tables: &'a Tables,
        digest: Option<&'a str>,
        process_id: &'a str,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(store_history_digest(self, tables, digest, process_id))
    }

    fn prepare<'a>(&'a self, tables: &'a Tables) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(prepare(self, tables))
    }

    fn prepare_history<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<(), DatabaseError>> {
        Box::pin(prepare_history(self, tables))
    }

    fn read_lock<'a>(
        &'a self,
        tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Option<LockRow>, DatabaseError>> {
        Box::pin(read_lock(self, tables))
    }

    fn write_lock<'a>(
        &'a self,
        tables: &'a Tables,
        write: LockWrite<'a>,
    ) -> BoxFuture<'a, Result<bool, DatabaseError>> {
        Box::pin(write_lock_retried(self, tables, write))
    }

    fn liveness<'a>(
        &'a self,
        _tables: &'a Tables,
    ) -> BoxFuture<'a, Result<Box<dyn LivenessLock>, DatabaseError>> {
        Box::pin(std::future::ready(Ok(
            Box::new(NoSessionLock) as Box<dyn LivenessLock>
        )))
    }

    fn run_job<'a>(
        &'a self,
        session: &'a mut Session,
        tables: &'a Tables,
        job: &'a Job<'a>,
    ) -> BoxFuture<'a, Result<(), JobFailure>> {
        self.run_job_in(session, tables, job)
    }

    fn read_schema<'a>(
        &'a self,
        _postgres_schema: Option<&'a str>,
    ) -> BoxFuture<'a, Result<jetbase_core::schema::Schema, DatabaseError>> {
        let refused = super::text_rows::no_schema_reading(W::NAME);
        Box::pin(std::future::ready(Err(refused)))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.close_pool()
    }
}
