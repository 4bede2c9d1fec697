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
use std::time::Instant;

use jetbase_core::AppliedMigration;

use super::lost_races;
use super::tables::{OWN_COLUMNS, OWN_LOCK_COLUMN, Tables};
use super::text_rows::{
    self, TextRow, applied_migration, boolean, cell, elapsed_ms, integer, text,
};
use super::{DatabaseError, Digest, Job, JobFailure, LockRow, LockWrite, RowWrite};

/// A bound value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind<'a> {
    Text(Option<&'a str>),
    Integer(Option<i64>),
    Boolean(bool),
}

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
/// made (see `Database::prepare`). Every statement is idempotent; without a session lock to
/// serialise them, processes that start together run them at once, and a statement that lost a
/// race with its twin (a write conflict) is retried.
pub(crate) async fn prepare(
    database: &impl Statements,
    tables: &Tables,
) -> Result<(), DatabaseError> {
    lost_races::retrying(|| prepare_lock(database, tables)).await
}

/// Under the lock: the history table, or jetbase's columns on one Python Jetbase made (see
/// `Database::prepare_history`); a race lost to another tool's DDL is retried.
pub(crate) async fn prepare_history(
    database: &impl Statements,
    tables: &Tables,
) -> Result<(), DatabaseError> {
    lost_races::retrying(|| async {
        database.run(&tables.create_migrations(), &[]).await?;
        add_own_columns(database, tables, "jetbase_migrations", &OWN_COLUMNS).await
    })
    .await
}

async fn prepare_lock(database: &impl Statements, tables: &Tables) -> Result<(), DatabaseError> {
    database.run(&tables.create_lock(), &[]).await?;
    add_own_columns(database, tables, "jetbase_lock", &[OWN_LOCK_COLUMN]).await?;
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
    match *row {
        RowWrite::Insert {
            version,
            description,
            filename,
            kind,
            checksum,
        } => {
            let binds = [
                Bind::Text(version),
                Bind::Text(Some(description)),
                Bind::Text(Some(filename)),
                Bind::Text(Some(kind.as_str())),
                Bind::Text(Some(checksum)),
                Bind::Integer(None),
                Bind::Boolean(success),
            ];
            database.run(&tables.insert_row(), &binds).await?;
        }
        RowWrite::Update {
            filename,
            kind,
            checksum,
        } => {
            let binds = [
                Bind::Text(Some(checksum)),
                Bind::Integer(None),
                Bind::Boolean(success),
                Bind::Text(Some(filename)),
                Bind::Text(Some(kind.as_str())),
            ];
            database.run(&tables.update_repeatable(), &binds).await?;
        }
        RowWrite::Delete { order_executed } => {
            let binds = [Bind::Integer(Some(order_executed))];
            database.run(&tables.delete_row(), &binds).await?;
        }
        RowWrite::SetChecksum {
            order_executed,
            checksum,
        } => {
            let binds = [
                Bind::Text(Some(checksum)),
                Bind::Integer(Some(order_executed)),
            ];
            database.run(&tables.set_checksum(), &binds).await?;
        }
    }
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
