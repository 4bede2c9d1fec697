//! `upgrade --rehearse`: the pending migrations run for real and are then undone, and what
//! happened is reported (each migration's time and, on PostgreSQL, the table locks it took).
//!
//! Where it runs is the database's choice (`Backend::sandbox_copy`): SQLite copies its file
//! with `VACUUM INTO` and rehearses on the copy, which is deleted after; PostgreSQL rehearses
//! on the database itself, in one transaction rolled back at the end (each migration a
//! savepoint, no history row written). Databases whose DDL commits by itself (MySQL/MariaDB)
//! and the warehouses are refused: nothing could undo it.

use std::collections::BTreeSet;
use std::time::Duration;

use jetbase_core::Version;

use crate::backend::private::SEAL;
use crate::backend::tables::Tables;
use crate::backend::{Database, Session, TableLock};
use crate::events::{self, Operation};
use crate::migrator::read_history;
use crate::run::{
    OneMigration, Planned, check_placeholders, open_session, parse_target, report_progress, split,
};
use crate::{Direction, Error, Migrator, Report, Upgrade};

/// What a rehearsal did: every migration it ran, and the first failure if one failed. Nothing
/// of it remains in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rehearsal {
    /// True when it ran on a throw-away copy of the database (SQLite), false when in a
    /// transaction rolled back at the end (PostgreSQL).
    pub on_copy: bool,
    /// The migrations that ran, in order (those before the failure, if one failed).
    pub migrations: Vec<RehearsedMigration>,
    /// The migration that failed, which ended the rehearsal.
    pub failure: Option<RehearsalFailure>,
    /// The pending migrations after the failed one, which did not run.
    pub not_reached: Vec<String>,
}

impl Rehearsal {
    /// True when every pending migration ran without error.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// One migration of a [`Rehearsal`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RehearsedMigration {
    /// The version, for versioned migrations.
    pub version: Option<String>,
    /// The file name.
    pub filename: String,
    /// How long its statements took.
    pub duration: Duration,
    /// How many statements it ran.
    pub statements: usize,
    /// The table locks it took (PostgreSQL; empty elsewhere): those its session held after it
    /// and not before it. A lock an earlier migration of the same rehearsal already holds, in
    /// the same mode, is not repeated.
    pub locks: Vec<TableLock>,
}

/// The failed migration of a [`Rehearsal`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RehearsalFailure {
    /// The file.
    pub filename: String,
    /// The failing statement's line in the file.
    pub line: usize,
    /// The failing statement, shortened.
    pub statement: String,
    /// The database's error.
    pub message: String,
}

impl<D: Database> Upgrade<'_, D> {
    /// Rehearses this upgrade instead of running it: every migration it would apply runs for
    /// real, then all of it is undone, and the [`Rehearsal`] says how long each took, which
    /// table locks it took (PostgreSQL) and where the first failure is. History, lock and
    /// schema stay exactly as they were.
    ///
    /// On PostgreSQL it runs in one transaction on the database itself, rolled back at the end:
    /// its locks are real while it runs (as they would be in production), and the history's
    /// rows are not written. On SQLite it runs on a copy of the database file (`VACUUM INTO`),
    /// deleted afterwards. It takes no migration lock.
    ///
    /// ```no_run
    /// # async fn review(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let rehearsal = MIGRATOR.upgrade(&pool).rehearse().await?;
    /// for migration in &rehearsal.migrations {
    ///     let locks: Vec<String> = migration.locks.iter().map(ToString::to_string).collect();
    ///     println!("{} {:?} {}", migration.filename, migration.duration, locks.join(", "));
    /// }
    /// if let Some(failure) = &rehearsal.failure {
    ///     println!("{} fails at line {}: {}", failure.filename, failure.line, failure.message);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] on a database whose DDL cannot be undone (MySQL/MariaDB,
    /// Snowflake, ClickHouse, Databricks), or when a migration to rehearse is
    /// `-- jetbase: no-transaction` (it cannot run inside the rehearsal's transaction);
    /// [`Error::Validation`], [`Error::InvalidVersion`], [`Error::Split`] or
    /// [`Error::Database`]. A failing migration is not an error: it is the rehearsal's
    /// `failure`.
    pub async fn rehearse(self) -> Result<Rehearsal, Error> {
        let dialect = self.database.dialect();
        events::in_span(Operation::Rehearse, dialect, self.rehearse_in_span()).await
    }

    async fn rehearse_in_span(mut self) -> Result<Rehearsal, Error> {
        self.options.to_version = parse_target(self.settings.to_version.as_deref())?;
        let database = self.database;
        let dialect = database.dialect();
        if !database.capabilities().transactional_ddl {
            return Err(Error::Refused {
                operation: "rehearsal",
                message: format!(
                    "{dialect} cannot undo what a migration did (its DDL is not transactional), \
                     so it cannot rehearse one; rehearse on a copy of the database instead"
                ),
            });
        }
        let tables = self.migrator.tables(database)?;
        let history = read_history(database, &tables).await?.unwrap_or_default();
        if self.migrator.newer_database() == jetbase_core::NewerDatabase::RollBack
            && !jetbase_core::newer_rows(self.migrator.migrations(), &history).is_empty()
        {
            return Err(Error::Refused {
                operation: "rehearsal",
                message: "the database holds versions a newer release applied, which this \
                          upgrade rolls back first (on_newer_database = roll-back); a rehearsal \
                          does not rehearse that: rehearse with on_newer_database = ignore"
                    .to_owned(),
            });
        }
        let planned = self.plan(&history)?;
        events::planned(planned.len());
        check_placeholders(
            planned.iter().map(|(migration, _)| *migration),
            database.dialect(),
            Direction::Upgrade,
            self.migrator.placeholders(),
        )?;
        if let Some((migration, _)) = planned.iter().find(|(m, _)| m.no_transaction()) {
            return Err(Error::Refused {
                operation: "rehearsal",
                message: format!(
                    "`{}` is `-- jetbase: no-transaction`: it cannot run inside the rehearsal's \
                     transaction; rehearse up to the migration before it (`--to-version`)",
                    migration.filename()
                ),
            });
        }
        if planned.is_empty() {
            return Ok(Rehearsal::default());
        }
        let copy = database
            .backend(SEAL)
            .sandbox_copy()
            .await
            .map_err(Error::database("copying the database for the rehearsal"))?;
        let sandbox = Sandbox {
            migrator: self.migrator,
            tables: &tables,
            progress: self.settings.progress.as_ref(),
        };
        match copy {
            Some(copy) => {
                let rehearsal = sandbox.rehearse(&copy.database, planned).await;
                copy.discard().await;
                Ok(Rehearsal {
                    on_copy: true,
                    ..rehearsal?
                })
            }
            None => sandbox.rehearse(database, planned).await,
        }
    }
}

/// The migrations of a rehearsal, run in a sandbox (`Backend::begin_sandbox`).
struct Sandbox<'r, 'p> {
    migrator: &'r Migrator,
    tables: &'r Tables,
    progress: Option<&'r crate::run::ProgressFn<'p>>,
}

impl Sandbox<'_, '_> {
    async fn rehearse<D: Database>(
        &self,
        database: &D,
        planned: Vec<Planned<'_>>,
    ) -> Result<Rehearsal, Error> {
        let mut session = open_session(database).await?;
        database
            .backend(SEAL)
            .begin_sandbox(&mut session, self.tables)
            .await
            .map_err(Error::database("opening the rehearsal's transaction"))?;
        let result = self.run_all(database, &mut session, planned).await;
        let discarded = database
            .backend(SEAL)
            .discard_sandbox(&mut session)
            .await
            .map_err(Error::database("rolling back the rehearsal"));
        let rehearsal = result?;
        discarded?;
        Ok(rehearsal)
    }

    async fn run_all<D: Database>(
        &self,
        database: &D,
        session: &mut Session,
        planned: Vec<Planned<'_>>,
    ) -> Result<Rehearsal, Error> {
        let held_locks = async |session: &mut Session| -> Result<BTreeSet<TableLock>, Error> {
            let locks = database
                .backend(SEAL)
                .held_locks(session)
                .await
                .map_err(Error::database("reading the rehearsal's locks"))?;
            Ok(locks.into_iter().collect())
        };
        let mut rehearsal = Rehearsal::default();
        let mut held = held_locks(session).await?;
        let total = planned.len();
        let mut remaining = planned.into_iter().enumerate();
        for (done, (migration, row)) in remaining.by_ref() {
            let section = split(
                migration,
                database.dialect(),
                Direction::Upgrade,
                self.migrator.placeholders(),
            )?;
            let statements = section.statements();
            report_progress(self.progress, done, total, migration.filename());
            let mut limits = migration.limits().or(self.migrator.default_limits());
            // A retry would restart the run's transaction: in a rehearsal, a lock wait is a
            // finding, not something to wait out.
            limits.retries = None;
            let one = OneMigration {
                migration,
                statements: &statements,
                written: section.written(),
                row,
                direction: Direction::Upgrade,
                tables: self.tables,
                limits,
                retry: None,
            };
            match one.run(database, session, &Report::default()).await {
                Ok(duration) => {
                    let now = held_locks(session).await?;
                    rehearsal.migrations.push(RehearsedMigration {
                        version: migration.version().map(Version::to_string),
                        filename: migration.filename().to_owned(),
                        duration,
                        statements: statements.len(),
                        locks: now.difference(&held).cloned().collect(),
                    });
                    held = now;
                }
                Err(Error::MigrationFailed {
                    filename,
                    line,
                    statement,
                    source,
                    ..
                }) => {
                    rehearsal.failure = Some(RehearsalFailure {
                        filename,
                        line,
                        statement,
                        message: source.to_string(),
                    });
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        rehearsal.not_reached = remaining
            .map(|(_, (migration, _))| migration.filename().to_owned())
            .collect();
        Ok(rehearsal)
    }
}
