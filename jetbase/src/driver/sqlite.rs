//! SQLite: `sqlx::SqlitePool`. The liveness lock is an OS file lock on `<database>.jetbase-lock`
//! beside the database file, which the kernel frees when the holder dies.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use jetbase_core::{AppliedMigration, Dialect};
use sqlx::SqlitePool;

use super::sql::Tables;
use super::{LivenessLock, forward_database_methods, shared_driver};

shared_driver!(SqlitePool, sqlx::SqliteConnection, Dialect::Sqlite);

/// Reads the history as one JSON value (see `Tables::read_history_json`).
async fn read_history(
    pool: &SqlitePool,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, sqlx::Error> {
    let mut own_columns = true;
    let mut result = sqlx::query_scalar::<_, String>(&tables.read_history_json(true))
        .fetch_one(pool)
        .await;
    if let Err(error) = &result
        && super::is_missing_column(error, Dialect::Sqlite)
    {
        // A table Python Jetbase created, which jetbase has not extended yet.
        own_columns = false;
        result = sqlx::query_scalar::<_, String>(&tables.read_history_json(false))
            .fetch_one(pool)
            .await;
    }
    let json = match result {
        Ok(json) => json,
        Err(error) if super::is_missing_table(&error, Dialect::Sqlite) => return Ok(None),
        Err(error) => return Err(error),
    };
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
    rows.iter()
        .map(|row| applied_from_json(row, own_columns))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// One history row from its JSON array.
fn applied_from_json(
    row: &[serde_json::Value],
    own_columns: bool,
) -> Result<AppliedMigration, sqlx::Error> {
    use serde_json::Value;
    let bad = |what: &str| sqlx::Error::Decode(format!("history row: {what}").into());
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
        success: own_columns
            .then(|| match row.get(8) {
                Some(Value::Bool(b)) => Some(*b),
                Some(Value::Number(n)) => n.as_i64().map(|n| n != 0),
                _ => None,
            })
            .flatten(),
    })
}

/// The lock file, or nothing for an in-memory database (which only this process can reach).
pub struct SqliteLiveness {
    path: Option<PathBuf>,
    file: Option<File>,
}

impl LivenessLock for SqliteLiveness {
    async fn try_lock(&mut self) -> Result<bool, sqlx::Error> {
        let Some(path) = &self.path else {
            return Ok(true);
        };
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(sqlx::Error::Io)?;
        match file.try_lock() {
            Ok(()) => {
                self.file = Some(file);
                Ok(true)
            }
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(error)) => Err(sqlx::Error::Io(error)),
        }
    }

    async fn unlock(self) {
        if let Some(file) = self.file {
            let _ = file.unlock();
        }
    }
}

impl super::Database for SqlitePool {
    type Session = super::Session<sqlx::Sqlite>;
    type Liveness = SqliteLiveness;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn liveness(&self, _tables: &Tables) -> Result<SqliteLiveness, sqlx::Error> {
        let options = self.connect_options();
        let filename = options.get_filename();
        let in_memory = filename.as_os_str().is_empty()
            || filename.to_string_lossy().starts_with(':')
            || filename.to_string_lossy().starts_with("file:");
        let path = (!in_memory).then(|| {
            let mut name = filename.as_os_str().to_owned();
            name.push(".jetbase-lock");
            PathBuf::from(name)
        });
        Ok(SqliteLiveness { path, file: None })
    }

    forward_database_methods!();

    async fn begin_run(&self, session: &mut Self::Session) -> Result<(), sqlx::Error> {
        session.begin_run().await
    }

    async fn commit_run(&self, session: &mut Self::Session) -> Result<(), sqlx::Error> {
        session.commit_run().await
    }
}
