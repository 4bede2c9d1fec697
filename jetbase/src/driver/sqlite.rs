//! SQLite: `sqlx::SqlitePool`. The liveness lock is an OS file lock on `<database>.jetbase-lock`
//! beside the database file, which the kernel frees when the holder dies.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use jetbase_core::Dialect;
use sqlx::SqlitePool;

use super::sql::Tables;
use super::{LivenessLock, forward_database_methods, shared_driver};

shared_driver!(SqlitePool, sqlx::SqliteConnection, Dialect::Sqlite);

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
}
