//! SQLite through sqlx's `SqlitePool` (compiled once per sqlx major). The liveness lock is an
//! OS file lock on `<database>.jetbase-lock` beside the database file, which the kernel frees
//! when the holder dies.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use jetbase_core::{AppliedMigration, Dialect};

use super::{sqlx, text};
use crate::backend::current::HighestVersion;
use crate::backend::sandbox::TempFiles;
use crate::backend::sqlite::{read_history_json, read_versions_json};
use crate::backend::tables::Tables;
use crate::backend::{BoxFuture, DatabaseError, DatabaseErrorKind, LivenessLock, SandboxCopy};

type Db = sqlx::Sqlite;
type Pool = sqlx::SqlitePool;
type Connection = sqlx::SqliteConnection;
const DIALECT: Dialect = Dialect::Sqlite;
/// One transaction for the whole run, each migration a savepoint in it: one commit (one set of
/// fsyncs) instead of one per migration.
const RUN_IN_ONE_TRANSACTION: bool = true;

#[path = "introspect.rs"]
mod introspect;
#[path = "../sqlx/runner.rs"]
mod runner;

/// A copy of the database in a temporary file (`VACUUM INTO`: a consistent snapshot, taken
/// without blocking writers for long), opened with the pool's own options: a rehearsal runs
/// there, and the live file is not locked while it does.
async fn sandbox_copy(pool: &Pool) -> Result<Option<SandboxCopy>, sqlx::Error> {
    let files = TempFiles::new("jetbase-rehearsal").map_err(sqlx::Error::Io)?;
    sqlx::query(text("VACUUM INTO ?"))
        .bind(files.path().to_string_lossy().into_owned())
        .execute(pool)
        .await?;
    let options = (*pool.connect_options())
        .clone()
        .filename(files.path())
        .in_memory(false)
        .shared_cache(false)
        .read_only(false)
        .create_if_missing(false);
    let copy = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    Ok(Some(SandboxCopy::new(copy, files)))
}

/// Reads the history as one JSON value (see `read_history_json`).
async fn read_history(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
    let mut own_columns = true;
    let mut result =
        sqlx::query_scalar::<_, String>(text(&read_history_json(&tables.migrations, true)))
            .fetch_one(pool)
            .await
            .map_err(runner::database_error);
    if let Err(error) = &result
        && error.is_missing_column()
    {
        // A table Python Jetbase created, which jetbase has not extended yet.
        own_columns = false;
        result =
            sqlx::query_scalar::<_, String>(text(&read_history_json(&tables.migrations, false)))
                .fetch_one(pool)
                .await
                .map_err(runner::database_error);
    }
    let json = match result {
        Ok(json) => json,
        Err(error) if error.is_missing_table() => return Ok(None),
        Err(error) => return Err(error),
    };
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(&json)
        .map_err(|error| DatabaseError::new(DatabaseErrorKind::Decode, error))?;
    rows.iter()
        .map(|row| applied_from_json(row, own_columns))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The `order_executed` of the highest version's row (see `HighestVersion`), the versioned rows
/// read as one JSON value (see `read_versions_json`).
async fn highest_version(
    connection: &mut Connection,
    tables: &Tables,
    own_columns: bool,
) -> Result<Option<i64>, DatabaseError> {
    use serde_json::Value;
    let json =
        sqlx::query_scalar::<_, String>(text(&read_versions_json(&tables.migrations, own_columns)))
            .fetch_one(&mut *connection)
            .await
            .map_err(runner::database_error)?;
    let rows: Vec<Vec<Value>> = serde_json::from_str(&json)
        .map_err(|error| DatabaseError::new(DatabaseErrorKind::Decode, error))?;
    let mut highest = HighestVersion::default();
    for row in &rows {
        let order_executed = row.first().and_then(Value::as_i64).ok_or_else(|| {
            DatabaseError::new(
                DatabaseErrorKind::Decode,
                "history row: order_executed is not an integer",
            )
        })?;
        let version = match row.get(1) {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        };
        highest.offer(order_executed, version.as_deref(), json_boolean(row.get(2)));
    }
    Ok(highest.order_executed())
}

/// A boolean as SQLite's JSON holds it: `true`/`false`, or an integer.
fn json_boolean(value: Option<&serde_json::Value>) -> Option<bool> {
    match value {
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(serde_json::Value::Number(n)) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// One history row from its JSON array.
fn applied_from_json(
    row: &[serde_json::Value],
    own_columns: bool,
) -> Result<AppliedMigration, DatabaseError> {
    use serde_json::Value;
    let bad =
        |what: &str| DatabaseError::new(DatabaseErrorKind::Decode, format!("history row: {what}"));
    let text = |index: usize| -> Option<String> {
        match row.get(index)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    };
    let integer = |index: usize| row.get(index).and_then(Value::as_i64);
    Ok(AppliedMigration {
        order_executed: integer(0).ok_or_else(|| bad("order_executed is not an integer"))?,
        version: text(1),
        description: text(2).unwrap_or_default(),
        filename: text(3).ok_or_else(|| bad("filename is missing"))?,
        migration_type: text(4).ok_or_else(|| bad("migration_type is missing"))?,
        applied_at: text(5).unwrap_or_default(),
        checksum: text(6),
        execution_ms: own_columns.then(|| integer(7)).flatten(),
        success: own_columns.then(|| json_boolean(row.get(8))).flatten(),
    })
}

/// The lock file, or nothing for an in-memory database (which only this process can reach).
pub struct Liveness {
    path: Option<PathBuf>,
    file: Option<File>,
}

impl Liveness {
    fn try_lock_file(&mut self) -> Result<bool, DatabaseError> {
        let Some(path) = &self.path else {
            return Ok(true);
        };
        // Already ours (taken on an earlier try while the row was held, by hand or by Python
        // Jetbase): a second open file would conflict with our own lock, and the wait would
        // never end.
        if self.file.is_some() {
            return Ok(true);
        }
        let io_error = |error| DatabaseError::new(DatabaseErrorKind::Io, error);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {
                self.file = Some(file);
                Ok(true)
            }
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(error)) => Err(io_error(error)),
        }
    }

    /// Whether another process holds the lock file, without creating it: where there is none,
    /// no run holds it.
    fn held_by_another(&self) -> Result<bool, DatabaseError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        // Read-only is enough for a lock, and all a user who may only read the database has.
        let file = match File::options().read(true).open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(DatabaseError::new(DatabaseErrorKind::Io, error)),
        };
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(false)
            }
            Err(TryLockError::WouldBlock) => Ok(true),
            Err(TryLockError::Error(error)) => {
                Err(DatabaseError::new(DatabaseErrorKind::Io, error))
            }
        }
    }
}

impl LivenessLock for Liveness {
    fn try_lock(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(std::future::ready(self.try_lock_file()))
    }

    fn unlock(self: Box<Self>) -> BoxFuture<'static, ()> {
        if let Some(file) = self.file {
            let _ = file.unlock();
        }
        Box::pin(std::future::ready(()))
    }

    /// As the default, without creating the lock file.
    fn held_elsewhere(self: Box<Self>) -> BoxFuture<'static, Result<bool, DatabaseError>> {
        Box::pin(std::future::ready(self.held_by_another()))
    }
}

async fn liveness(pool: &Pool, tables: &Tables) -> Result<Liveness, sqlx::Error> {
    let options = pool.connect_options();
    let filename = options.get_filename();
    let in_memory = filename.as_os_str().is_empty()
        || filename.to_string_lossy().starts_with(':')
        || filename.to_string_lossy().starts_with("file:");
    let path = (!in_memory).then(|| {
        let mut name = filename.as_os_str().to_owned();
        name.push(".jetbase-lock");
        // A migration set with a lock table of its own has a lock file of its own.
        if let Some(table) = tables.custom_lock_name() {
            name.push("-");
            name.push(table);
        }
        PathBuf::from(name)
    });
    Ok(Liveness { path, file: None })
}
