//! The lock taken by hand (`jetbase lock` / `unlock`) and who holds it (`lock-status`).

use std::time::Duration;

use crate::backend::private::SEAL;
use crate::backend::{Database, LockWrite};
use crate::lock::{LockGuard, is_manual};
use crate::{Error, Migrator};

/// Who holds the migration lock (see [`Migrator::lock_status`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockStatus {
    /// True while an upgrade, a rollback, a repair or `jetbase lock` holds it.
    pub locked: bool,
    /// Since when, as the database renders it.
    pub locked_at: Option<String>,
    /// The holder's `process_id` (`jb1:...` for jetbase, a UUID for Python Jetbase).
    pub process_id: Option<String>,
    /// True when it was taken by hand with `jetbase lock` (only `unlock` frees it).
    pub manual: bool,
}

impl Migrator {
    /// Who holds the migration lock: its row, or a run whose row is not visible yet but which
    /// holds the liveness lock (then only `locked` is known). Creates and changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the lock row cannot be read.
    pub async fn lock_status<D: Database>(&self, database: &D) -> Result<LockStatus, Error> {
        let tables = self.tables(database)?;
        // A live run holds its liveness lock, asked first: on SQLite, reading the row waits
        // while a long migration holds the database's write lock, and reads it unlocked once
        // the run is over.
        let leased = database
            .backend(SEAL)
            .lock_is_leased(&tables)
            .await
            .map_err(Error::database("asking how the lock is kept alive"))?;
        // The row stays the answer where the probe cannot be made (a pool behind a
        // transaction pooler it was not told of refuses the probe's prepared statement).
        let run_alive = !leased
            && match database.backend(SEAL).liveness(&tables).await {
                Ok(liveness) => liveness.held_elsewhere().await.unwrap_or(false),
                Err(_) => false,
            };
        let read = database.backend(SEAL).read_lock(&tables);
        let row = if run_alive {
            // The holder's row, if it can be read at once; else only `locked` is known.
            tokio::time::timeout(Duration::from_millis(500), read)
                .await
                .unwrap_or(Ok(None))
        } else {
            read.await
        };
        let row = match row {
            Ok(row) => row,
            Err(error) if error.is_missing_table() => None,
            Err(error) => return Err(Error::database("reading the lock")(error)),
        };
        Ok(match row.filter(|row| row.is_locked) {
            Some(row) => LockStatus {
                locked: true,
                manual: row.process_id.as_deref().is_some_and(is_manual),
                locked_at: row.locked_at,
                process_id: row.process_id,
            },
            None => LockStatus {
                locked: run_alive,
                ..LockStatus::default()
            },
        })
    }

    /// Takes the lock by hand for a maintenance freeze, as `jetbase lock` does: it outlives this
    /// process, is never taken over, and upgrades, rollbacks and repairs wait for it until
    /// [`Migrator::unlock`] frees it. Waits up to the lock timeout if another process holds
    /// it. Returns the `process_id` written into the lock row.
    ///
    /// # Errors
    ///
    /// [`Error::LockTimeout`] when the lock stayed taken; [`Error::Database`].
    pub async fn lock<D: Database>(&self, database: &D) -> Result<String, Error> {
        let tables = self.tables(database)?;
        LockGuard::acquire_manual(database, &tables, self.lock_timeout()).await
    }

    /// Frees the lock whoever holds it, as `jetbase unlock` does (and Python Jetbase's
    /// `unlock`). Only for a lock taken with [`Migrator::lock`], or a holder known to be gone:
    /// freeing the lock of a running upgrade lets a second one run beside it. Returns true when
    /// the lock was held. Creates nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the lock row cannot be written.
    pub async fn unlock<D: Database>(&self, database: &D) -> Result<bool, Error> {
        let tables = self.tables(database)?;
        match database
            .backend(SEAL)
            .write_lock(&tables, LockWrite::ForceRelease)
            .await
        {
            Ok(released) => Ok(released),
            Err(error) if error.is_missing_table() => Ok(false),
            Err(error) => Err(Error::database("releasing the lock")(error)),
        }
    }
}
