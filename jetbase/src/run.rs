//! The upgrade and rollback builders, and the apply loop they share.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use jetbase_core::{
    AppliedMigration, Dialect, Migration, MigrationKind, PlanError, Record, RollbackOptions,
    RunLimits, Statement, UpgradeOptions, Version,
};

use crate::backend::tables::Tables;
use crate::backend::{Database, DatabaseErrorKind, Job, JobFailure, RowWrite, Session};
use crate::error::LockWait;
use crate::lock::LockGuard;
use crate::migrator::read_history;
use crate::retry::{Retry, locked_table, wait_after};
use crate::{Direction, Error, Migrator, Report, ReportEntry};

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
/// [`Error::InvalidVersion`] or [`Error::Database`].
#[must_use = "an upgrade does nothing until it is awaited"]
pub struct Upgrade<'a, D: Database> {
    pub(crate) migrator: &'a Migrator,
    pub(crate) database: &'a D,
    pub(crate) options: UpgradeOptions,
    pub(crate) to_version: Option<String>,
    dry_run: bool,
    pub(crate) progress: Option<ProgressFn<'a>>,
    retry: Option<RetryFn<'a>>,
}

impl<'a, D: Database> Upgrade<'a, D> {
    pub(crate) fn new(migrator: &'a Migrator, database: &'a D) -> Self {
        Self {
            migrator,
            database,
            options: UpgradeOptions::default(),
            to_version: None,
            dry_run: false,
            progress: None,
            retry: None,
        }
    }

    /// Applies at most `count` pending versioned migrations (repeatables still run).
    pub fn count(mut self, count: usize) -> Self {
        self.options.count = Some(count);
        self
    }

    /// Applies pending versioned migrations up to and including `version`.
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.to_version = Some(version.into());
        self
    }

    /// Returns the SQL that would run, and changes nothing (not even the history tables).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Calls `callback` before each migration starts (not in a dry run), for a progress bar.
    pub fn on_progress(mut self, callback: impl Fn(Progress<'_>) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// Calls `callback` when a migration that could not get a table lock in time was rolled
    /// back and is about to be tried again (its `retries`), before the pause.
    pub fn on_retry(mut self, callback: impl Fn(Retry<'_>) + Send + Sync + 'a) -> Self {
        self.retry = Some(Box::new(callback));
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

    async fn execute(mut self) -> Result<Report, Error> {
        self.options.to_version = parse_target(self.to_version.as_deref())?;
        let database = self.database;
        let tables = self.migrator.tables(database)?;
        // The fast path: one read-only query, no lock, no DDL.
        let digest = database
            .backend()
            .history_digest(&tables)
            .await
            .map_err(Error::database("reading the migration history"))?;
        if self.options.to_version.is_none()
            && crate::fast_path::is_up_to_date(self.migrator.expected_digest(), &digest)
        {
            return Ok(Report::default());
        }
        let history = read_history(database, &tables).await?.unwrap_or_default();
        let run = LockedRun {
            migrator: self.migrator,
            tables: &tables,
            direction: Direction::Upgrade,
            dry_run: self.dry_run,
            progress: self.progress.as_ref(),
            retry: self.retry.as_ref(),
        };
        run.execute(database, &history, |history| self.plan(history))
            .await
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
    to_version: Option<String>,
    dry_run: bool,
    refuse_without_rollback_sql: bool,
    progress: Option<ProgressFn<'a>>,
    retry: Option<RetryFn<'a>>,
}

impl<'a, D: Database> Rollback<'a, D> {
    pub(crate) fn new(migrator: &'a Migrator, database: &'a D) -> Self {
        Self {
            migrator,
            database,
            options: RollbackOptions::default(),
            to_version: None,
            dry_run: false,
            refuse_without_rollback_sql: false,
            progress: None,
            retry: None,
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
        self.to_version = Some(version.into());
        self
    }

    /// Calls `callback` before each migration starts (not in a dry run), for a progress bar.
    pub fn on_progress(mut self, callback: impl Fn(Progress<'_>) + Send + Sync + 'a) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// Calls `callback` when a migration that could not get a table lock in time was rolled
    /// back and is about to be tried again (its `retries`), before the pause.
    pub fn on_retry(mut self, callback: impl Fn(Retry<'_>) + Send + Sync + 'a) -> Self {
        self.retry = Some(Box::new(callback));
        self
    }

    /// Returns the SQL that would run, and changes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    async fn execute(mut self) -> Result<Report, Error> {
        self.options.to_version = parse_target(self.to_version.as_deref())?;
        let database = self.database;
        let tables = self.migrator.tables(database)?;
        let Some(history) = read_history(database, &tables).await? else {
            return Ok(Report::default());
        };
        let run = LockedRun {
            migrator: self.migrator,
            tables: &tables,
            direction: Direction::Rollback,
            dry_run: self.dry_run,
            progress: self.progress.as_ref(),
            retry: self.retry.as_ref(),
        };
        run.execute(database, &history, |history| self.plan(history))
            .await
    }

    /// The migrations to roll back on `history`, each with its history write.
    fn plan(&self, history: &[AppliedMigration]) -> Result<Vec<Planned<'a>>, Error> {
        let local = self.migrator.migrations();
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

/// A migration of a run, with its history write.
pub(crate) type Planned<'m> = (&'m Migration, RowWrite<'m>);

/// The skeleton upgrade and rollback share: plan on the history read → (nothing to do, or a
/// dry run: done) → lock → read again and re-plan (another process may have run while this one
/// waited) → apply → store the history digest → release the lock.
struct LockedRun<'r, 'p> {
    migrator: &'r Migrator,
    tables: &'r Tables,
    direction: Direction,
    dry_run: bool,
    progress: Option<&'r ProgressFn<'p>>,
    retry: Option<&'r RetryFn<'p>>,
}

impl LockedRun<'_, '_> {
    async fn execute<'m, D: Database>(
        &self,
        database: &D,
        history: &[AppliedMigration],
        plan: impl Fn(&[AppliedMigration]) -> Result<Vec<Planned<'m>>, Error> + Send + Sync,
    ) -> Result<Report, Error> {
        let planned = match plan(history) {
            Ok(planned) if planned.is_empty() => return Ok(Report::default()),
            Ok(planned) => planned,
            // An unfinished row may be a migration another process is running right now (its
            // row is written first where migrations run outside a transaction): the plan under
            // the lock decides, once that process is done.
            Err(Error::Validation { problems })
                if !self.dry_run
                    && problems
                        .iter()
                        .all(|problem| matches!(problem, PlanError::Failed { .. })) =>
            {
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        if self.dry_run {
            return dry_run_report(
                planned.iter().map(|(migration, _)| *migration),
                database.dialect(),
                self.direction,
            );
        }
        let lock = LockGuard::acquire(
            database,
            self.tables,
            self.migrator.lock_timeout(),
            self.migrator.lock_lease(),
        )
        .await?;
        let process_id = lock.process_id().to_owned();
        let result = async {
            let history = read_history(database, self.tables)
                .await?
                .unwrap_or_default();
            self.apply(database, plan(&history)?, &process_id).await
        }
        .await;
        // What ran is said even when finishing fails (a dropped lock table, a lost lease): the
        // caller must not take a failed run for one that changed nothing.
        let done: Vec<String> = result.as_ref().map_or_else(
            |_| Vec::new(),
            |report| {
                report
                    .migrations
                    .iter()
                    .map(|entry| entry.filename.clone())
                    .collect()
            },
        );
        lock.finish(result).await.map_err(|error| match error {
            error if !done.is_empty() && !matches!(error, Error::AfterRun { .. }) => {
                Error::AfterRun {
                    direction: self.direction,
                    done,
                    source: Box::new(error),
                }
            }
            error => error,
        })
    }

    /// Runs each migration with its history write, in order, on one session and inside the
    /// run's transaction where the database has one (see `Backend::begin_run`). What ran before
    /// a failure stays applied.
    async fn apply<D: Database>(
        &self,
        database: &D,
        planned: Vec<Planned<'_>>,
        process_id: &str,
    ) -> Result<Report, Error> {
        if self.tables.transaction_pooled() {
            refuse_session_settings(&planned, self.tables, self.migrator.default_limits())?;
        }
        let mut session = open_session(database).await?;
        // So that a process taking over after this one died can end this session (behind a
        // transaction pooler, the server session running its transaction).
        database
            .backend()
            .mark_session(&mut session, self.tables, process_id)
            .await
            .map_err(Error::database("marking the run's session"))?;
        begin_run(database, &mut session).await?;
        let mut report = Report::default();
        let total = planned.len();
        let result = async {
            for (done, (migration, row)) in planned.into_iter().enumerate() {
                let statements = split(migration, database.dialect(), self.direction)?;
                report_progress(self.progress, done, total, migration.filename());
                let one = OneMigration {
                    migration,
                    statements: &statements,
                    row,
                    direction: self.direction,
                    tables: self.tables,
                    limits: migration.limits().or(self.migrator.default_limits()),
                    retry: self.retry,
                };
                let duration = one.run(database, &mut session, &report).await?;
                report.migrations.push(ReportEntry::new(
                    migration,
                    duration,
                    statements.len(),
                    Vec::new(),
                ));
            }
            Ok(())
        }
        .await;
        commit_run(database, &mut session, result).await?;
        database
            .backend()
            .unmark_session(&mut session)
            .await
            .map_err(Error::database("lifting the run session's mark"))?;
        Ok(report)
    }
}

/// Behind a transaction pooler each statement of a `no-transaction` migration may run on another
/// server session, so nothing set on a session reaches them: such a migration that needs the
/// `search_path` of `postgres_schema`, or a timeout, is refused before anything runs.
fn refuse_session_settings(
    planned: &[Planned<'_>],
    tables: &Tables,
    defaults: RunLimits,
) -> Result<(), Error> {
    for (migration, _) in planned.iter().filter(|(m, _)| m.no_transaction()) {
        let limits = migration.limits().or(defaults);
        let mut needs = Vec::new();
        if let Some(schema) = &tables.schema {
            needs.push(format!("the search_path of postgres_schema {schema:?}"));
        }
        if limits.lock_timeout().is_some() {
            needs.push("a table-lock timeout".to_owned());
        }
        if limits.run_timeout().is_some() {
            needs.push("a statement timeout".to_owned());
        }
        if !needs.is_empty() {
            return Err(Error::Refused {
                operation: "a no-transaction migration behind a transaction pooler",
                message: format!(
                    "{} runs its statements outside a transaction, each on whichever server                      session the pooler gives, so {} cannot be set for them; qualify its names                      or drop its timeouts, or run it on a direct connection (without pooler =                      \"transaction\"); nothing was run",
                    migration.filename(),
                    needs.join(" and ")
                ),
            });
        }
    }
    Ok(())
}

/// The connection the migrations of one run are applied on, one after the other.
pub(crate) async fn open_session<D: Database>(database: &D) -> Result<Session, Error> {
    database
        .backend()
        .session()
        .await
        .map_err(Error::database("taking a connection for the migrations"))
}

/// Opens the run's transaction where the database gains from one (see `Backend::begin_run`).
async fn begin_run<D: Database>(database: &D, session: &mut Session) -> Result<(), Error> {
    database
        .backend()
        .begin_run(session)
        .await
        .map_err(Error::database("starting the run's transaction"))
}

/// Commits what the run applied, also when a migration failed (the failed one was rolled back
/// to its savepoint; the ones before it stay applied). A failed commit loses them all, and
/// says so instead of the migration's error.
async fn commit_run<D: Database>(
    database: &D,
    session: &mut Session,
    result: Result<(), Error>,
) -> Result<(), Error> {
    database
        .backend()
        .commit_run(session)
        .await
        .map_err(Error::database(
            "committing this run's migrations (none of them is applied)",
        ))?;
    result
}

pub(crate) fn parse_target(text: Option<&str>) -> Result<Option<Version>, Error> {
    text.map(Version::parse)
        .transpose()
        .map_err(|source| Error::InvalidVersion { source })
}

/// The statements of the section `direction` runs: upgrade or rollback.
pub(crate) fn split(
    migration: &Migration,
    dialect: Dialect,
    direction: Direction,
) -> Result<Vec<Statement<'_>>, Error> {
    let statements = match direction {
        Direction::Upgrade => migration.upgrade_statements(dialect),
        Direction::Rollback => migration.rollback_statements(dialect),
    };
    statements.map_err(|source| Error::Split {
        filename: migration.filename().to_owned(),
        dialect: dialect.to_string(),
        source,
    })
}

fn dry_run_report<'m>(
    migrations: impl Iterator<Item = &'m Migration>,
    dialect: Dialect,
    direction: Direction,
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run: true,
        migrations: Vec::new(),
    };
    for migration in migrations {
        let sql: Vec<String> = split(migration, dialect, direction)?
            .iter()
            .map(|statement| statement.sql.to_owned())
            .collect();
        report
            .migrations
            .push(ReportEntry::new(migration, Duration::ZERO, sql.len(), sql));
    }
    Ok(report)
}

/// One migration of a run: its statements, its history write, its limits.
pub(crate) struct OneMigration<'a, 'p> {
    pub(crate) migration: &'a Migration,
    pub(crate) statements: &'a [Statement<'a>],
    pub(crate) row: RowWrite<'a>,
    pub(crate) direction: Direction,
    pub(crate) tables: &'a Tables,
    /// The file's limits, the migrator's defaults filling in.
    pub(crate) limits: RunLimits,
    pub(crate) retry: Option<&'a RetryFn<'p>>,
}

impl OneMigration<'_, '_> {
    /// Runs the statements with the history write, again after a pause while it fails for a
    /// lock it could not get in time and has retries left; turns a failure into an error that
    /// names the file, line and statement, and says what the failure left behind.
    pub(crate) async fn run<D: Database>(
        self,
        database: &D,
        session: &mut Session,
        report: &Report,
    ) -> Result<Duration, Error> {
        let transactional =
            !self.migration.no_transaction() && database.capabilities().transactions;
        let attempts = self.limits.retries.unwrap_or(0).saturating_add(1);
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let job = Job {
                statements: self.statements,
                row: self.row.clone(),
                transactional,
                limits: self.limits,
            };
            let Err(JobFailure { statement, source }) =
                database.backend().run_job(session, self.tables, &job).await
            else {
                return Ok(started.elapsed());
            };
            let failed = statement.and_then(|index| self.statements.get(index));
            // A failure of the bookkeeping (no statement index) may come after every statement
            // ran (the history write): where nothing rolls them back, that is not "nothing
            // remains".
            let ran_before = statement.map_or(!self.statements.is_empty(), |index| index > 0);
            // Statements before the failing one stay applied where nothing rolls them back:
            // outside a transaction, or where DDL commits by itself.
            let kept_by_database = database.capabilities().implicit_commit_ddl;
            let partially_applied = ran_before && (kept_by_database || !transactional);
            let lock_wait = (source.kind() == DatabaseErrorKind::LockTimeout).then(|| {
                Box::new(LockWait {
                    table: failed.and_then(|statement| locked_table(statement.sql)),
                    timeout: self.limits.lock_timeout(),
                    attempts: attempt,
                })
            });
            // Tried again only where the failure left nothing behind.
            if let Some(lock_wait) = &lock_wait
                && transactional
                && !partially_applied
                && attempt < attempts
            {
                let wait = wait_after(attempt);
                if let Some(callback) = self.retry {
                    callback(Retry {
                        filename: self.migration.filename(),
                        attempt,
                        attempts,
                        wait,
                        table: lock_wait.table.as_deref(),
                        message: &source.to_string(),
                    });
                }
                tokio::time::sleep(wait).await;
                restart_run(database, session).await?;
                attempt += 1;
                continue;
            }
            return Err(Error::MigrationFailed {
                direction: self.direction,
                filename: self.migration.filename().to_owned(),
                line: failed.map_or(0, |s| s.line),
                statement: failed.map_or_else(
                    || "(writing the history row)".to_owned(),
                    |s| shorten(s.sql),
                ),
                partially_applied,
                transactional,
                applied_before: report
                    .migrations
                    .iter()
                    .map(|entry| entry.filename.clone())
                    .collect(),
                lock_wait,
                source,
            });
        }
    }
}

/// Before a retry, the run's transaction (SQLite's) is committed and opened again: the ones
/// before stay applied as they would anyway, and the new transaction sees what the session that
/// held the lock committed meanwhile. A no-op where runs have no transaction of their own.
async fn restart_run<D: Database>(database: &D, session: &mut Session) -> Result<(), Error> {
    database
        .backend()
        .commit_run(session)
        .await
        .map_err(Error::database(
            "committing this run's migrations before a retry",
        ))?;
    begin_run(database, session).await
}

/// The first 200 characters of a statement, on one line.
fn shorten(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        format!("{}...", flat.chars().take(200).collect::<String>())
    } else {
        flat
    }
}

/// Whether a report entry is a versioned migration (helper for callers counting them).
impl ReportEntry {
    /// True for versioned migrations.
    pub fn is_versioned(&self) -> bool {
        self.kind == MigrationKind::Versioned
    }
}
