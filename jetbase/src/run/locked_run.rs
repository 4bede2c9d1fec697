//! The apply loop upgrade and rollback share ([`LockedRun`]), one migration of it
//! ([`OneMigration`]), and the session the run's migrations are applied on.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use jetbase_core::{
    AppliedMigration, Dialect, Migration, Placeholders, PlanError, RunLimits, Statement, Version,
};

use super::retry::{Retry, locked_table, wait_after};
use super::{Planned, RetryFn, RunSettings, report_progress};
use crate::backend::private::SEAL;
use crate::backend::tables::{Tables, kept_rollback};
use crate::backend::{Database, DatabaseErrorKind, Job, JobFailure, RowWrite, Session};
use crate::error::LockWait;
use crate::events;
use crate::lock::LockGuard;
use crate::migrator::read_history;
use crate::{Direction, Error, Migrator, Report, ReportEntry};

/// The skeleton upgrade and rollback share: plan on the history read → (nothing to do, or a
/// dry run: done) → lock → read again and re-plan (another process may have run while this one
/// waited) → apply → store the history digest → release the lock.
pub(crate) struct LockedRun<'r, 'p> {
    pub(crate) migrator: &'r Migrator,
    pub(crate) tables: &'r Tables,
    pub(crate) direction: Direction,
    pub(crate) settings: &'r RunSettings<'p>,
}

impl LockedRun<'_, '_> {
    pub(crate) async fn execute<'m, D: Database>(
        &self,
        database: &D,
        history: &[AppliedMigration],
        plan: impl Fn(&[AppliedMigration]) -> Result<Vec<Planned<'m>>, Error> + Send + Sync,
    ) -> Result<Report, Error> {
        let planned = match plan(history) {
            Ok(planned) if planned.is_empty() => {
                events::planned(0);
                return Ok(Report::default());
            }
            Ok(planned) => planned,
            // An unfinished row may be a migration another process is running right now (its
            // row is written first where migrations run outside a transaction): the plan under
            // the lock decides, once that process is done.
            Err(Error::Validation { problems })
                if !self.settings.dry_run
                    && problems
                        .iter()
                        .all(|problem| matches!(problem, PlanError::Failed { .. })) =>
            {
                Vec::new()
            }
            Err(error) => return Err(error),
        };
        if self.settings.dry_run {
            events::planned(planned.len());
            return dry_run_report(
                planned.iter().map(|(migration, _)| *migration),
                database.dialect(),
                self.direction,
                self.migrator.placeholders(),
            );
        }
        check_placeholders(
            planned.iter().map(|(migration, _)| *migration),
            database.dialect(),
            self.direction,
            self.migrator.placeholders(),
        )?;
        events::placeholders(self.migrator.placeholders());
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
    pub(crate) async fn apply<D: Database>(
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
            .backend(SEAL)
            .mark_session(&mut session, self.tables, process_id)
            .await
            .map_err(Error::database("marking the run's session"))?;
        begin_run(database, &mut session).await?;
        let mut report = Report::default();
        let total = planned.len();
        events::planned(total);
        let result = async {
            for (done, (migration, row)) in planned.into_iter().enumerate() {
                let kept = match self.direction {
                    Direction::Upgrade => kept_rollback(database.dialect(), migration),
                    Direction::Rollback => None,
                };
                // A new row keeps it (the row's borrows shortened to `kept`'s).
                let mut row = row;
                if let RowWrite::Insert { rollback, .. } = &mut row {
                    *rollback = kept.as_deref();
                }
                // Not one of the migrator's files: rebuilt from its history row.
                if self.direction == Direction::Rollback
                    && !self.migrator.migrations().iter().any(|own| {
                        own.version() == migration.version()
                            && own.filename() == migration.filename()
                    })
                {
                    events::kept_rollback(migration.filename());
                }
                let section = split(
                    migration,
                    database.dialect(),
                    self.direction,
                    self.migrator.placeholders(),
                )?;
                let statements = section.statements();
                report_progress(
                    self.settings.progress.as_ref(),
                    done,
                    total,
                    migration.filename(),
                );
                let one = OneMigration {
                    migration,
                    statements: &statements,
                    written: section.written(),
                    row,
                    direction: self.direction,
                    tables: self.tables,
                    limits: migration.limits().or(self.migrator.default_limits()),
                    retry: self.settings.retry.as_ref(),
                };
                let duration = one.run(database, &mut session, &report).await?;
                events::migration_done(
                    self.direction,
                    migration,
                    duration,
                    !migration.no_transaction() && database.capabilities().transactions,
                );
                report.migrations.push(ReportEntry::new(
                    migration,
                    self.direction,
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
            .backend(SEAL)
            .unmark_session(&mut session)
            .await
            .map_err(Error::database("lifting the run session's mark"))?;
        Ok(report)
    }
}

/// Behind a transaction pooler each statement of a `no-transaction` migration may run on another
/// server session, so nothing set on a session reaches them: such a migration that needs the
/// `search_path` of `postgres_schema`, or a timeout, is refused before anything runs.
pub(crate) fn refuse_session_settings(
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
        .backend(SEAL)
        .session()
        .await
        .map_err(Error::database("taking a connection for the migrations"))
}

/// Opens the run's transaction where the database gains from one (see `Backend::begin_run`).
pub(crate) async fn begin_run<D: Database>(
    database: &D,
    session: &mut Session,
) -> Result<(), Error> {
    database
        .backend(SEAL)
        .begin_run(session)
        .await
        .map_err(Error::database("starting the run's transaction"))
}

/// Commits what the run applied, also when a migration failed (the failed one was rolled back
/// to its savepoint; the ones before it stay applied). A failed commit loses them all, and
/// says so instead of the migration's error.
pub(crate) async fn commit_run<D: Database>(
    database: &D,
    session: &mut Session,
    result: Result<(), Error>,
) -> Result<(), Error> {
    database
        .backend(SEAL)
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

/// The statements of the section `direction` runs (upgrade or rollback), with `placeholders`
/// put in: each statement as the file has it where none is configured or none appears.
pub(crate) struct Section<'m> {
    split: Vec<Statement<'m>>,
    texts: Vec<Cow<'m, str>>,
}

impl<'m> Section<'m> {
    /// The statements as the file has them, placeholders not put in: what an error shows (a
    /// value may be a secret).
    pub(crate) fn written(&self) -> &[Statement<'m>] {
        &self.split
    }

    /// The statements as they are sent, each with its line in the file.
    pub(crate) fn statements(&self) -> Vec<Statement<'_>> {
        self.split
            .iter()
            .zip(&self.texts)
            .map(|(statement, text)| Statement {
                sql: text,
                offset: statement.offset,
                line: statement.line,
            })
            .collect()
    }
}

/// The section `direction` runs of `migration`, split for `dialect`, placeholders put in.
pub(crate) fn split<'m>(
    migration: &'m Migration,
    dialect: Dialect,
    direction: Direction,
    placeholders: &Placeholders,
) -> Result<Section<'m>, Error> {
    let statements = match direction {
        Direction::Upgrade => migration.upgrade_statements(dialect),
        Direction::Rollback => migration.rollback_statements(dialect),
    };
    let split = statements.map_err(|source| Error::Split {
        filename: migration.filename().to_owned(),
        dialect: dialect.to_string(),
        source,
    })?;
    let texts = split
        .iter()
        .map(|statement| {
            placeholders
                .substitute(statement.sql, statement.line)
                .map_err(|unknown| Error::Placeholder {
                    filename: migration.filename().to_owned(),
                    line: unknown.line,
                    name: unknown.name,
                    configured: placeholders.names().map(str::to_owned).collect(),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Section { split, texts })
}

/// Every statement `migrations` would run in `direction` splits for `dialect` and has a value
/// for each of its placeholders: what a run that changes something first (a roll-back before
/// an upgrade) checks of everything it will run, before it starts.
pub(crate) fn check_sections<'m>(
    migrations: impl IntoIterator<Item = &'m Migration>,
    dialect: Dialect,
    direction: Direction,
    placeholders: &Placeholders,
) -> Result<(), Error> {
    for migration in migrations {
        split(migration, dialect, direction, placeholders)?;
    }
    Ok(())
}

/// Every statement `migrations` would run in `direction` has a value for each of its
/// placeholders: checked before anything runs (nothing to check while none is configured).
pub(crate) fn check_placeholders<'m>(
    migrations: impl IntoIterator<Item = &'m Migration>,
    dialect: Dialect,
    direction: Direction,
    placeholders: &Placeholders,
) -> Result<(), Error> {
    if placeholders.is_empty() {
        return Ok(());
    }
    for migration in migrations {
        split(migration, dialect, direction, placeholders)?;
    }
    Ok(())
}

pub(crate) fn dry_run_report<'m>(
    migrations: impl Iterator<Item = &'m Migration>,
    dialect: Dialect,
    direction: Direction,
    placeholders: &Placeholders,
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run: true,
        migrations: Vec::new(),
    };
    for migration in migrations {
        let sql: Vec<String> = split(migration, dialect, direction, placeholders)?
            .statements()
            .iter()
            .map(|statement| statement.sql.to_owned())
            .collect();
        report.migrations.push(ReportEntry::new(
            migration,
            direction,
            Duration::ZERO,
            sql.len(),
            sql,
        ));
    }
    Ok(report)
}

/// One migration of a run: its statements, its history write, its limits.
pub(crate) struct OneMigration<'a, 'p> {
    pub(crate) migration: &'a Migration,
    pub(crate) statements: &'a [Statement<'a>],
    /// The same statements as the file has them (see [`Section::written`]), for errors.
    pub(crate) written: &'a [Statement<'a>],
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
            for statement in self.statements {
                events::statement(self.migration.filename(), statement.line, statement.sql);
            }
            let started = Instant::now();
            let job = Job {
                statements: self.statements,
                row: self.row.clone(),
                transactional,
                limits: self.limits,
            };
            let Err(JobFailure { statement, source }) = database
                .backend(SEAL)
                .run_job(session, self.tables, &job)
                .await
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
                    // The statement as written: a placeholder's value may be a secret.
                    table: statement
                        .and_then(|index| self.written.get(index))
                        .and_then(|statement| locked_table(statement.sql)),
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
                events::retrying(
                    self.migration.filename(),
                    attempt,
                    attempts,
                    wait,
                    lock_wait.table.as_deref(),
                );
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
            if partially_applied {
                events::partially_applied(self.migration.filename(), failed.map_or(0, |s| s.line));
            }
            return Err(Error::MigrationFailed {
                direction: self.direction,
                filename: self.migration.filename().to_owned(),
                line: failed.map_or(0, |s| s.line),
                statement: statement
                    .and_then(|index| self.written.get(index))
                    .map_or_else(
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
pub(crate) async fn restart_run<D: Database>(
    database: &D,
    session: &mut Session,
) -> Result<(), Error> {
    database
        .backend(SEAL)
        .commit_run(session)
        .await
        .map_err(Error::database(
            "committing this run's migrations before a retry",
        ))?;
    begin_run(database, session).await
}

/// The first 200 characters of a statement, on one line.
pub(crate) fn shorten(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        format!("{}...", flat.chars().take(200).collect::<String>())
    } else {
        flat
    }
}
