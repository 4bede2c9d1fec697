//! The upgrade and rollback builders, and the apply loop they share.

pub(crate) mod locked_run;
pub(crate) mod rehearse;
pub(crate) mod report;
pub(crate) mod retry;
mod rollback;
mod upgrade;

pub(crate) use locked_run::{
    OneMigration, check_placeholders, check_sections, open_session, parse_target,
    refuse_session_settings, split,
};
pub use rollback::Rollback;
pub use upgrade::Upgrade;

use std::future::Future;
use std::pin::Pin;

use jetbase_core::Migration;

use crate::backend::{Database, RowWrite};
use crate::run::retry::Retry;
use crate::{Error, Migrator, Report};

/// Where a running upgrade or rollback is, given to the `on_progress` callback before each
/// migration starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress<'m> {
    /// How many migrations of this run have finished.
    pub done: usize,
    /// How many this run applies (or rolls back) in all.
    pub total: usize,
    /// The migration starting now.
    pub filename: &'m str,
}

pub(crate) type ProgressFn<'a> = Box<dyn Fn(Progress<'_>) + Send + Sync + 'a>;
pub(crate) type RetryFn<'a> = Box<dyn Fn(Retry<'_>) + Send + Sync + 'a>;

/// The options an upgrade and a rollback both take (their builders' `to_version`, `dry_run`,
/// `on_progress`, `on_retry`), read by the locked run they share.
#[derive(Default)]
pub(crate) struct RunSettings<'a> {
    pub(crate) to_version: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) progress: Option<ProgressFn<'a>>,
    pub(crate) retry: Option<RetryFn<'a>>,
}

pub(crate) fn report_progress(
    callback: Option<&ProgressFn<'_>>,
    done: usize,
    total: usize,
    filename: &str,
) {
    if let Some(callback) = callback {
        callback(Progress {
            done,
            total,
            filename,
        });
    }
}

/// The future an [`Upgrade`] or a [`Rollback`] becomes when awaited.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<Report, Error>> + Send + 'a>>;

/// Upgrades and rollbacks are built from the migrator (here, beside the builders).
impl Migrator {
    /// Brings the database up to date: the same as [`Migrator::upgrade`] with no options.
    ///
    /// On an up-to-date database this is one read-only query: no lock, no DDL.
    ///
    /// ```no_run
    /// # async fn start(pool: sqlx::SqlitePool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let report = MIGRATOR.run(&pool).await?;
    /// println!("applied {} migrations", report.migrations.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`Upgrade`].
    pub fn run<'a, D: Database>(&'a self, database: &'a D) -> Upgrade<'a, D> {
        self.upgrade(database)
    }

    /// An upgrade with options (`count`, `to_version`, `dry_run`, the validation switches),
    /// run by `.await`.
    pub fn upgrade<'a, D: Database>(&'a self, database: &'a D) -> Upgrade<'a, D> {
        Upgrade::new(self, database)
    }

    /// A rollback with options (`count`, `to_version`, `dry_run`), run by `.await`. By default
    /// it rolls back the last applied versioned migration.
    pub fn rollback<'a, D: Database>(&'a self, database: &'a D) -> Rollback<'a, D> {
        Rollback::new(self, database)
    }
}

/// A migration of a run, with its history write.
pub(crate) type Planned<'m> = (&'m Migration, RowWrite<'m>);
