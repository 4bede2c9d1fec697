//! [`Upgrade`]: the builder of an upgrade, and what it plans.

use std::future::IntoFuture;

use jetbase_core::{AppliedMigration, Migration, NewerDatabase, Record, UpgradeOptions, Version};

use super::locked_run::LockedRun;
use super::retry::Retry;
use super::{
    Planned, Progress, RunFuture, RunSettings, check_sections, parse_target,
    refuse_session_settings,
};
use crate::backend::private::SEAL;
use crate::backend::{Database, RowWrite};
use crate::events::{self, Operation};
use crate::history::kept_rollbacks;
use crate::migrator::read_history;
use crate::{Direction, Error, Migrator, Report};

/// An upgrade, configured by its methods and run by `.await` (see [`Migrator::upgrade`]).
///
/// ```no_run
/// # async fn start(pool: sqlx::SqlitePool) -> Result<(), jetbase::Error> {
/// # static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// let plan = MIGRATOR.upgrade(&pool).count(2).dry_run(true).await?;
/// for migration in &plan.migrations {
///     println!("{} would run {} statements", migration.filename, migration.sql.len());
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// Awaiting it returns [`Error::Validation`] (nothing run), [`Error::LockTimeout`],
/// [`Error::MigrationFailed`] (earlier migrations of the run stay applied), [`Error::Split`],
/// [`Error::Placeholder`] (a `${name}` without a value; nothing run), [`Error::Refused`] (with
/// [`NewerDatabase::RollBack`], a newer migration that cannot be rolled back; nothing run),
/// [`Error::InvalidVersion`] or [`Error::Database`].
#[must_use = "an upgrade does nothing until it is awaited"]
pub struct Upgrade<'a, D: Database> {
    pub(crate) migrator: &'a Migrator,
    pub(crate) database: &'a D,
    pub(crate) options: UpgradeOptions,
    pub(crate) settings: RunSettings<'a>,
}

impl<'a, D: Database> Upgrade<'a, D> {
    pub(crate) fn new(migrator: &'a Migrator, database: &'a D) -> Self {
        Self {
            migrator,
            database,
            options: UpgradeOptions {
                newer_database: migrator.newer_database(),
                ..UpgradeOptions::default()
            },
            settings: RunSettings::default(),
        }
    }

    /// Applies at most `count` pending versioned migrations (repeatables still run).
    pub fn count(mut self, count: usize) -> Self {
        self.options.count = Some(count);
        self
    }

    /// Applies pending versioned migrations up to and including `version`.
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.settings.to_version = Some(version.into());
        self
    }

    /// Returns the SQL that would run, and changes nothing (not even the history tables).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.settings.dry_run = dry_run;
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

    /// Skips every validation.
    pub fn skip_validation(mut self, skip: bool) -> Self {
        self.options.skip_validation = skip;
        self
    }

    /// Skips the check that applied files are unchanged.
    pub fn skip_checksum_validation(mut self, skip: bool) -> Self {
        self.options.skip_checksum_validation = skip;
        self
    }

    /// Skips the check that applied files still exist.
    pub fn skip_file_validation(mut self, skip: bool) -> Self {
        self.options.skip_file_validation = skip;
        self
    }

    /// Allows pending versions below the latest applied one.
    pub fn out_of_order(mut self, allow: bool) -> Self {
        self.options.out_of_order = allow;
        self
    }

    async fn execute(self) -> Result<Report, Error> {
        let dialect = self.database.dialect();
        events::in_span(Operation::Upgrade, dialect, self.execute_in_span()).await
    }

    async fn execute_in_span(mut self) -> Result<Report, Error> {
        self.options.to_version = parse_target(self.settings.to_version.as_deref())?;
        let database = self.database;
        let tables = self.migrator.tables(database)?;
        // The fast path: one read-only query, no lock, no DDL.
        let digest = database
            .backend(SEAL)
            .history_digest(&tables)
            .await
            .map_err(Error::database("reading the migration history"))?;
        if self.options.to_version.is_none()
            && crate::history::fast_path::is_up_to_date(self.migrator.expected_digest(), &digest)
        {
            events::up_to_date(self.migrator.migrations().len());
            return Ok(Report::default());
        }
        let mut history = read_history(database, &tables).await?.unwrap_or_default();
        let mut rolled_back = Report::default();
        let newer = jetbase_core::newer_rows(self.migrator.migrations(), &history);
        if !newer.is_empty() {
            match self.options.newer_database {
                NewerDatabase::Ignore => events::newer_ignored(&newer),
                NewerDatabase::RollBack => {
                    // What the upgrade then runs is validated (and its placeholders checked)
                    // first: nothing is rolled back for an upgrade that would be refused.
                    let planned = self.plan(&history)?;
                    check_sections(
                        planned.iter().map(|(migration, _)| *migration),
                        database.dialect(),
                        Direction::Upgrade,
                        self.migrator.placeholders(),
                    )?;
                    if tables.transaction_pooled() {
                        refuse_session_settings(&planned, &tables, self.migrator.default_limits())?;
                    }
                    rolled_back = self.roll_back_newer(&tables, &history).await?;
                    if !rolled_back.dry_run {
                        history = read_history(database, &tables).await?.unwrap_or_default();
                    }
                }
                // Reported by the plan, with everything else wrong.
                _ => {}
            }
        }
        let run = LockedRun {
            migrator: self.migrator,
            tables: &tables,
            direction: Direction::Upgrade,
            settings: &self.settings,
        };
        let mut report = run
            .execute(database, &history, |history| self.plan(history))
            .await?;
        if !rolled_back.migrations.is_empty() {
            rolled_back.migrations.append(&mut report.migrations);
            report.migrations = rolled_back.migrations;
            report.dry_run |= rolled_back.dry_run;
        }
        Ok(report)
    }

    /// `roll-back`: the versions a newer release applied, rolled back newest first with the
    /// rollback SQL their rows keep, under the lock (a run of its own before the upgrade's).
    /// Refused before anything runs when one keeps none.
    async fn roll_back_newer(
        &self,
        tables: &crate::backend::tables::Tables,
        history: &[AppliedMigration],
    ) -> Result<Report, Error> {
        let database = self.database;
        let local = self.migrator.migrations();
        let newer = jetbase_core::newer_rows(local, history);
        let kept = kept_rollbacks::read(database, tables, &newer).await?;
        let without: Vec<String> = kept
            .iter()
            .filter(|(_, migration)| migration.is_none())
            .map(|(row, _)| row.filename.clone())
            .collect();
        if !without.is_empty() {
            return Err(Error::Refused {
                operation: "upgrade",
                message: format!(
                    "on_newer_database = roll-back: {} {} no rollback SQL in the history (applied \
                     by Python Jetbase or an older jetbase, or on {}, where jetbase keeps none); \
                     run the release that applied {}, or set on_newer_database to ignore; \
                     nothing was run",
                    without.join(", "),
                    if without.len() == 1 { "keeps" } else { "keep" },
                    database.dialect(),
                    if without.len() == 1 { "it" } else { "them" },
                ),
            });
        }
        let migrations: Vec<(i64, Migration)> = kept
            .into_iter()
            .filter_map(|(row, migration)| migration.map(|m| (row.order_executed, m)))
            .collect();
        // A migration without a rollback section would only lose its row, and leave what it
        // made for the newer release to trip over when it is deployed again.
        let empty: Vec<&str> = migrations
            .iter()
            .filter(|(_, migration)| {
                migration
                    .rollback_statements(database.dialect())
                    .is_ok_and(|statements| statements.is_empty())
            })
            .map(|(_, migration)| migration.filename())
            .collect();
        if !empty.is_empty() {
            return Err(Error::Refused {
                operation: "upgrade",
                message: format!(
                    "on_newer_database = roll-back: {} {} no rollback section, so rolling back \
                     would only remove the history row and leave what {} made; run the release \
                     that applied {}, or set on_newer_database to ignore; nothing was run",
                    empty.join(", "),
                    if empty.len() == 1 { "has" } else { "have" },
                    if empty.len() == 1 { "it" } else { "they" },
                    if empty.len() == 1 { "it" } else { "them" },
                ),
            });
        }
        check_sections(
            migrations.iter().map(|(_, migration)| migration),
            database.dialect(),
            Direction::Rollback,
            self.migrator.placeholders(),
        )?;
        events::newer_rolling_back(&newer);
        let run = LockedRun {
            migrator: self.migrator,
            tables,
            direction: Direction::Rollback,
            settings: &self.settings,
        };
        // Under the lock, the rows still there (another process may have rolled them back).
        let plan = |history: &[AppliedMigration]| -> Result<Vec<Planned<'_>>, Error> {
            Ok(jetbase_core::newer_rows(local, history)
                .into_iter()
                .filter_map(|row| {
                    migrations
                        .iter()
                        .find(|(order, _)| *order == row.order_executed)
                        .map(|(order, migration)| {
                            (
                                migration,
                                RowWrite::Delete {
                                    order_executed: *order,
                                },
                            )
                        })
                })
                .collect())
        };
        run.execute(database, history, plan).await
    }

    /// The migrations to apply on `history`, each with its history write.
    pub(crate) fn plan(&self, history: &[AppliedMigration]) -> Result<Vec<Planned<'a>>, Error> {
        let local = self.migrator.migrations();
        let steps = jetbase_core::plan_upgrade(local, history, &self.options)
            .map_err(|problems| Error::Validation { problems })?;
        Ok(steps
            .iter()
            .map(|step| {
                let migration = &local[step.index];
                let row = match step.record {
                    Record::Insert => RowWrite::Insert {
                        version: migration.version().map(Version::as_str),
                        description: migration.description(),
                        filename: migration.filename(),
                        kind: migration.kind(),
                        checksum: migration.checksum(),
                        // Set as it runs (see `LockedRun::apply`).
                        rollback: None,
                    },
                    Record::Update => RowWrite::Update {
                        filename: migration.filename(),
                        kind: migration.kind(),
                        checksum: migration.checksum(),
                    },
                };
                (migration, row)
            })
            .collect())
    }
}

impl<'a, D: Database> IntoFuture for Upgrade<'a, D> {
    type Output = Result<Report, Error>;
    type IntoFuture = RunFuture<'a>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
