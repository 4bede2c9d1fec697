//! [`Rollback`]: the builder of a rollback, and what it plans.

use std::borrow::Cow;
use std::future::IntoFuture;

use jetbase_core::{AppliedMigration, Migration, RollbackOptions};

use super::locked_run::LockedRun;
use super::retry::Retry;
use super::{Planned, Progress, RunFuture, RunSettings, parse_target};
use crate::backend::{Database, RowWrite};
use crate::events::{self, Operation};
use crate::history::kept_rollbacks;
use crate::migrator::read_history;
use crate::{Direction, Error, Migrator, Report};

/// A rollback, configured by its methods and run by `.await` (see [`Migrator::rollback`]).
///
/// # Errors
///
/// Awaiting it returns [`Error::Validation`] (a `to_version` that is not applied, a migration
/// whose file is gone; nothing run), [`Error::Refused`] (a migration without rollback SQL, with
/// [`Rollback::refuse_without_rollback_sql`]), [`Error::LockTimeout`], [`Error::MigrationFailed`],
/// [`Error::Split`], [`Error::InvalidVersion`] or [`Error::Database`].
#[must_use = "a rollback does nothing until it is awaited"]
pub struct Rollback<'a, D: Database> {
    migrator: &'a Migrator,
    database: &'a D,
    options: RollbackOptions,
    refuse_without_rollback_sql: bool,
    settings: RunSettings<'a>,
}

impl<'a, D: Database> Rollback<'a, D> {
    pub(crate) fn new(migrator: &'a Migrator, database: &'a D) -> Self {
        Self {
            migrator,
            database,
            options: RollbackOptions::default(),
            refuse_without_rollback_sql: false,
            settings: RunSettings::default(),
        }
    }

    /// Refuses, before anything runs, when a migration to roll back has no rollback SQL
    /// (`refuse`: true): rolling it back would only remove its history row and leave what it
    /// made (its tables, their data) in place, so that the next upgrade fails on them. By
    /// default such a migration's row is removed, as Python Jetbase does.
    ///
    /// ```no_run
    /// # async fn undo(pool: sqlx::SqlitePool) -> Result<(), jetbase::Error> {
    /// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let report = MIGRATOR
    ///     .rollback(&pool)
    ///     .refuse_without_rollback_sql(true)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn refuse_without_rollback_sql(mut self, refuse: bool) -> Self {
        self.refuse_without_rollback_sql = refuse;
        self
    }

    /// Rolls back the last `count` applied versioned migrations (default 1).
    pub fn count(mut self, count: usize) -> Self {
        self.options.count = Some(count);
        self
    }

    /// Rolls back everything applied after `version`; `version` stays applied.
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.settings.to_version = Some(version.into());
        self
    }

    /// Calls `callback` before each migration starts (not in a dry run), for a progress bar.
    pub fn on_progress(mut self, callback: impl Fn(Progress<'_>) + Send + Sync + 'a) -> Self {
        self.settings.progress = Some(Box::new(callback));
        self
    }

    /// Calls `callback` when a migration that could not get a table lock in time was rolled
    /// back and is about to be tried again (its `retries`), before the pause.
    pub fn on_retry(mut self, callback: impl Fn(Retry<'_>) + Send + Sync + 'a) -> Self {
        self.settings.retry = Some(Box::new(callback));
        self
    }

    /// Returns the SQL that would run, and changes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.settings.dry_run = dry_run;
        self
    }

    async fn execute(self) -> Result<Report, Error> {
        let dialect = self.database.dialect();
        events::in_span(Operation::Rollback, dialect, self.execute_in_span()).await
    }

    async fn execute_in_span(mut self) -> Result<Report, Error> {
        self.options.to_version = parse_target(self.settings.to_version.as_deref())?;
        let database = self.database;
        let tables = self.migrator.tables(database)?;
        let Some(history) = read_history(database, &tables).await? else {
            return Ok(Report::default());
        };
        // Rows whose file is gone are rolled back with what they keep, where they keep it:
        // read for the rows this rollback undoes only (an unrelated row's text is not read).
        let local = self.migrator.migrations();
        // A plan error is the plan's to report, under the lock: nothing to read here then.
        let chosen = jetbase_core::rollback_rows(&history, &self.options).unwrap_or_default();
        let without_file = kept_rollbacks::without_file(local, chosen);
        let mut migrations: Cow<'_, [Migration]> = Cow::Borrowed(local);
        for (_, kept) in kept_rollbacks::read(database, &tables, &without_file).await? {
            if let Some(migration) = kept {
                migrations.to_mut().push(migration);
            }
        }
        let run = LockedRun {
            migrator: self.migrator,
            tables: &tables,
            direction: Direction::Rollback,
            settings: &self.settings,
        };
        run.execute(database, &history, |history| {
            self.plan(&migrations, history)
        })
        .await
    }

    /// The migrations to roll back on `history`, each with its history write.
    fn plan<'m>(
        &self,
        local: &'m [Migration],
        history: &[AppliedMigration],
    ) -> Result<Vec<Planned<'m>>, Error> {
        let steps = jetbase_core::plan_rollback(local, history, &self.options)
            .map_err(|problems| Error::Validation { problems })?;
        if self.refuse_without_rollback_sql {
            let without: Vec<&str> = steps
                .iter()
                .map(|step| &local[step.index])
                .filter(|migration| !migration.has_rollback_sql())
                .map(Migration::filename)
                .collect();
            if !without.is_empty() {
                return Err(Error::Refused {
                    operation: "rollback",
                    message: format!(
                        "{} {} no rollback SQL: rolling back would remove the history row and \
                         leave what {} made (tables, data) in place, and the next upgrade would \
                         fail on it. Write a `-- rollback` section, or drop what it made by hand \
                         and roll back without this check; nothing was run",
                        without.join(", "),
                        if without.len() == 1 { "has" } else { "have" },
                        if without.len() == 1 { "it" } else { "they" },
                    ),
                });
            }
        }
        Ok(steps
            .iter()
            .map(|step| {
                let row = RowWrite::Delete {
                    order_executed: step.row.order_executed,
                };
                (&local[step.index], row)
            })
            .collect())
    }
}

impl<'a, D: Database> IntoFuture for Rollback<'a, D> {
    type Output = Result<Report, Error>;
    type IntoFuture = RunFuture<'a>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
