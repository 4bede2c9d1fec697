//! Maintenance: the lock taken by hand (`jetbase lock` / `unlock` / `lock-status`) and the
//! repair of a history that no longer matches the files (`jetbase validate --fix`).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use jetbase_core::State;

use crate::backend::{Database, Job, JobFailure, LockWrite, RowWrite};
use crate::lock::{LockGuard, is_manual};
use crate::migrator::read_history;
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

/// What [`Repair`] changed (or, with `dry_run`, would change) in the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Applied versioned migrations whose edited file was accepted: the history now holds
    /// the file's checksum.
    pub checksums_updated: Vec<RepairedRow>,
    /// History rows whose file is gone, removed from the history (the database is untouched).
    pub rows_removed: Vec<RepairedRow>,
}

impl RepairReport {
    /// True when there was nothing to repair.
    pub fn is_empty(&self) -> bool {
        self.checksums_updated.is_empty() && self.rows_removed.is_empty()
    }
}

/// One history row a [`Repair`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairedRow {
    /// The row's `order_executed`.
    pub order_executed: i64,
    /// The version, for versioned migrations.
    pub version: Option<String>,
    /// The file name.
    pub filename: String,
    /// The checksum the history held.
    pub old_checksum: Option<String>,
    /// The checksum it holds now (`None` for a removed row).
    pub new_checksum: Option<String>,
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
            .backend()
            .lock_is_leased(&tables)
            .await
            .map_err(Error::database("asking how the lock is kept alive"))?;
        // The row stays the answer where the probe cannot be made (a pool behind a
        // transaction pooler it was not told of refuses the probe's prepared statement).
        let run_alive = !leased
            && match database.backend().liveness(&tables).await {
                Ok(liveness) => liveness.held_elsewhere().await.unwrap_or(false),
                Err(_) => false,
            };
        let read = database.backend().read_lock(&tables);
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
            .backend()
            .write_lock(&tables, LockWrite::ForceRelease)
            .await
        {
            Ok(released) => Ok(released),
            Err(error) if error.is_missing_table() => Ok(false),
            Err(error) => Err(Error::database("releasing the lock")(error)),
        }
    }

    /// A repair of the history, as `jetbase validate --fix` does; by default it accepts edited
    /// applied files and forgets rows whose file is gone. Run by `.await`.
    pub fn repair<'a, D: Database>(&'a self, database: &'a D) -> Repair<'a, D> {
        Repair {
            migrator: self,
            database,
            checksums: true,
            files: true,
            dry_run: false,
        }
    }
}

/// A repair of the history, configured by its methods and run by `.await` (see
/// [`Migrator::repair`]). It changes only the history table, never the schema, under the lock.
///
/// ```no_run
/// # async fn fix(pool: sqlx::SqlitePool) -> Result<(), jetbase::Error> {
/// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let report = MIGRATOR.repair(&pool).files(false).await?;
/// for row in &report.checksums_updated {
///     println!("accepted the edit of {}", row.filename);
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// Awaiting it returns [`Error::LockTimeout`] or [`Error::Database`].
#[must_use = "a repair does nothing until it is awaited"]
pub struct Repair<'a, D: Database> {
    migrator: &'a Migrator,
    database: &'a D,
    checksums: bool,
    files: bool,
    dry_run: bool,
}

impl<'a, D: Database> Repair<'a, D> {
    /// Whether to accept edited applied versioned files (store their new checksum).
    pub fn checksums(mut self, repair: bool) -> Self {
        self.checksums = repair;
        self
    }

    /// Whether to remove history rows whose file is gone.
    pub fn files(mut self, repair: bool) -> Self {
        self.files = repair;
        self
    }

    /// Reports what would change, and changes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    fn plan(&self, history: &[jetbase_core::AppliedMigration]) -> RepairReport {
        let local = self.migrator.migrations();
        let mut report = RepairReport {
            dry_run: self.dry_run,
            ..RepairReport::default()
        };
        for entry in jetbase_core::status(local, history) {
            let Some(row) = entry.row else { continue };
            let repaired = |new_checksum: Option<String>| RepairedRow {
                order_executed: row.order_executed,
                version: row.version.clone(),
                filename: row.filename.clone(),
                old_checksum: row.checksum.clone(),
                new_checksum,
            };
            match (entry.state, entry.index) {
                (State::ChecksumDrift, Some(index)) if self.checksums => report
                    .checksums_updated
                    .push(repaired(Some(local[index].checksum().to_owned()))),
                (State::MissingFile, _) if self.files => report.rows_removed.push(repaired(None)),
                _ => {}
            }
        }
        report
    }

    async fn execute(self) -> Result<RepairReport, Error> {
        let database = self.database;
        let tables = self.migrator.tables(database)?;
        let Some(history) = read_history(database, &tables).await? else {
            return Ok(RepairReport {
                dry_run: self.dry_run,
                ..RepairReport::default()
            });
        };
        let planned = self.plan(&history);
        if self.dry_run || planned.is_empty() {
            return Ok(planned);
        }
        let lock = LockGuard::acquire(
            database,
            &tables,
            self.migrator.lock_timeout(),
            self.migrator.lock_lease(),
        )
        .await?;
        let result = self.repair_locked(&tables).await;
        lock.finish(result).await
    }

    async fn repair_locked(
        &self,
        tables: &crate::backend::tables::Tables,
    ) -> Result<RepairReport, Error> {
        let history = read_history(self.database, tables)
            .await?
            .unwrap_or_default();
        let report = self.plan(&history);
        let mut session = self
            .database
            .backend()
            .session()
            .await
            .map_err(Error::database("taking a connection for the repair"))?;
        let mut writes = Vec::new();
        for row in &report.checksums_updated {
            if let Some(checksum) = &row.new_checksum {
                writes.push(RowWrite::SetChecksum {
                    order_executed: row.order_executed,
                    checksum,
                });
            }
        }
        for row in &report.rows_removed {
            writes.push(RowWrite::Delete {
                order_executed: row.order_executed,
            });
        }
        for row in writes {
            let job = Job {
                statements: &[],
                row,
                transactional: true,
                limits: jetbase_core::RunLimits::default(),
            };
            self.database
                .backend()
                .run_job(&mut session, tables, &job)
                .await
                .map_err(|JobFailure { source, .. }| Error::Database {
                    action: "repairing the history",
                    source,
                })?;
        }
        Ok(report)
    }
}

impl<'a, D: Database> IntoFuture for Repair<'a, D> {
    type Output = Result<RepairReport, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<RepairReport, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
