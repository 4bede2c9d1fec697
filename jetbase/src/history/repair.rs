//! The repair of a history that no longer matches the files (`jetbase validate --fix`).

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use jetbase_core::State;

use crate::backend::private::SEAL;
use crate::backend::{Database, Job, JobFailure, RowWrite};
use crate::events::{self, Operation};
use crate::lock::LockGuard;
use crate::migrator::read_history;
use crate::{Error, Migrator};

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
                (State::MissingFile | State::Newer, _) if self.files => {
                    report.rows_removed.push(repaired(None));
                }
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
        events::planned(planned.checksums_updated.len() + planned.rows_removed.len());
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
            .backend(SEAL)
            .session()
            .await
            .map_err(Error::database("taking a connection for the repair"))?;
        // An accepted edit keeps the edited file's rollback too (what a rollback without the
        // file would run).
        let kept: Vec<Option<String>> = report
            .checksums_updated
            .iter()
            .map(|row| {
                let version = row
                    .version
                    .as_deref()
                    .and_then(|text| jetbase_core::Version::parse(text).ok());
                self.migrator
                    .migrations()
                    .iter()
                    .find(|migration| version.is_some() && migration.version() == version.as_ref())
                    .and_then(|migration| {
                        crate::backend::tables::kept_rollback(self.database.dialect(), migration)
                    })
            })
            .collect();
        let mut writes = Vec::new();
        for (row, kept) in report.checksums_updated.iter().zip(&kept) {
            if let Some(checksum) = &row.new_checksum {
                writes.push(RowWrite::SetChecksum {
                    order_executed: row.order_executed,
                    checksum,
                    rollback: kept.as_deref(),
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
                .backend(SEAL)
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
        let dialect = self.database.dialect();
        Box::pin(events::in_span(Operation::Repair, dialect, self.execute()))
    }
}
