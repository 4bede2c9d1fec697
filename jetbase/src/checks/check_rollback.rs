//! `check-rollback`: each pending versioned migration is applied, rolled back and applied again
//! (up → down → up) somewhere thrown away, and the schema after its rollback is compared with the
//! schema before it: a rollback that forgets an index, a default or a column is found before
//! production needs it.
//!
//! Where it runs: PostgreSQL in one transaction on the database itself (each step a savepoint,
//! rolled back at the end, as a rehearsal); SQLite on a copy of its file; a database whose DDL
//! commits by itself (MySQL/MariaDB) on a scratch database the caller gives
//! ([`CheckRollbacks::on_scratch`]), first brought to the live database's applied version.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use jetbase_core::schema::{Change, Column, Schema, diff};
use jetbase_core::{AppliedMigration, Dialect, Migration, MigrationKind, Version};

use crate::backend::private::SEAL;
use crate::backend::tables::Tables;
use crate::backend::{Database, RowWrite, SandboxMark, Session};
use crate::migrator::read_history;
use crate::run::{OneMigration, check_placeholders, open_session, split};
use crate::{Direction, Error, Migrator, Report};

/// What [`Migrator::check_rollbacks`] found, migration by migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RollbackCheck {
    /// The pending versioned migrations it checked, in order, each with what it found.
    pub migrations: Vec<CheckedMigration>,
    /// The pending migrations it could not check: after one whose upgrade failed (or, on a
    /// scratch database, whose second upgrade failed).
    pub not_reached: Vec<String>,
}

impl RollbackCheck {
    /// True when every pending migration was checked and its rollback restores the schema.
    pub fn passed(&self) -> bool {
        self.not_reached.is_empty() && self.migrations.iter().all(CheckedMigration::restored)
    }
}

/// One migration of a [`RollbackCheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckedMigration {
    /// The version.
    pub version: Option<String>,
    /// The file name.
    pub filename: String,
    /// False when the file has no rollback SQL (then only its upgrade ran).
    pub has_rollback_sql: bool,
    /// How the schema after its rollback differs from the schema before it, each difference in
    /// words (`index ix_users_email on users (email) remains`).
    pub differences: Vec<String>,
    /// The step that failed, if one did.
    pub failure: Option<StepFailure>,
}

impl CheckedMigration {
    /// True when it has rollback SQL, every step ran, and the rollback restored the schema.
    pub fn restored(&self) -> bool {
        self.has_rollback_sql && self.differences.is_empty() && self.failure.is_none()
    }
}

/// A step of up → down → up that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepFailure {
    /// Which step.
    pub step: CheckStep,
    /// The failing statement's line in the file.
    pub line: usize,
    /// The database's error.
    pub message: String,
}

/// The steps of a rollback check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckStep {
    /// The upgrade (its failure ends the check: what follows depends on it).
    Upgrade,
    /// The rollback.
    Rollback,
    /// The upgrade again, after the rollback (it fails when the rollback left something
    /// behind that the upgrade creates).
    UpgradeAgain,
}

impl CheckStep {
    /// `upgrade`, `rollback` or `upgrade again`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Upgrade => "upgrade",
            Self::Rollback => "rollback",
            Self::UpgradeAgain => "upgrade again",
        }
    }
}

impl Migrator {
    /// Checks that each pending versioned migration's rollback undoes it: up → down → up on a
    /// place thrown away afterwards, comparing the schema after the rollback with the schema
    /// before the migration (tables, columns, types, defaults, keys, indexes, foreign keys). The
    /// database itself is left exactly as it was.
    ///
    /// ```no_run
    /// # async fn check(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let check = MIGRATOR.check_rollbacks(&pool).await?;
    /// for migration in &check.migrations {
    ///     println!("{}: restored {}", migration.filename, migration.restored());
    /// }
    /// assert!(check.passed());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`CheckRollbacks`].
    pub fn check_rollbacks<'a, D: Database>(&'a self, database: &'a D) -> CheckRollbacks<'a, D> {
        CheckRollbacks {
            migrator: self,
            database,
            scratch: None,
        }
    }
}

/// A rollback check, run by `.await` (see [`Migrator::check_rollbacks`]).
///
/// # Errors
///
/// Awaiting it returns [`Error::Refused`] on MySQL/MariaDB without
/// [`CheckRollbacks::on_scratch`] and on the warehouses (no schema introspection there), or
/// when a migration to check is `-- jetbase: no-transaction` (PostgreSQL, SQLite);
/// [`Error::Validation`], [`Error::Split`] or [`Error::Database`]. A migration that fails
/// is not an error: it is its [`CheckedMigration::failure`].
#[must_use = "a rollback check does nothing until it is awaited"]
pub struct CheckRollbacks<'a, D: Database> {
    migrator: &'a Migrator,
    database: &'a D,
    scratch: Option<&'a D>,
}

impl<'a, D: Database> CheckRollbacks<'a, D> {
    /// Runs the check on `scratch`, an empty database of the same kind, instead of in a
    /// transaction of the database: required where DDL commits by itself (MySQL/MariaDB). It
    /// is first brought to the database's latest applied version with the migrations
    /// themselves, and left with what the check did (drop it afterwards).
    pub fn on_scratch(mut self, scratch: &'a D) -> Self {
        self.scratch = Some(scratch);
        self
    }

    async fn execute(self) -> Result<RollbackCheck, Error> {
        let database = self.database;
        let dialect = database.dialect();
        if !dialect.capabilities().schema_introspection {
            return Err(refused(format!(
                "{dialect} has no schema introspection in jetbase, so its rollbacks cannot be \
                 compared"
            )));
        }
        let tables = self.migrator.tables(database)?;
        let history = read_history(database, &tables).await?.unwrap_or_default();
        let pending = self.pending(&history)?;
        for direction in [Direction::Upgrade, Direction::Rollback] {
            check_placeholders(
                pending.iter().copied(),
                dialect,
                direction,
                self.migrator.placeholders(),
            )?;
        }
        if let Some(scratch) = self.scratch {
            return self.check_on_scratch(scratch, &history, &pending).await;
        }
        if !database.capabilities().transactional_ddl {
            return Err(refused(format!(
                "{dialect} cannot undo DDL in a transaction: give a scratch database to check \
                 the rollbacks on (`--scratch-url`), which jetbase creates and drops"
            )));
        }
        if let Some(migration) = pending.iter().find(|m| m.no_transaction()) {
            return Err(refused(format!(
                "`{}` is `-- jetbase: no-transaction`: it cannot run inside the check's \
                 transaction; check up to the migration before it, or on a scratch database",
                migration.filename()
            )));
        }
        if pending.is_empty() {
            return Ok(RollbackCheck::default());
        }
        let copy = database
            .backend(SEAL)
            .sandbox_copy()
            .await
            .map_err(Error::database(
                "copying the database for the rollback check",
            ))?;
        match copy {
            Some(copy) => {
                let check = self
                    .check_in_sandbox(&copy.database, &tables, &pending)
                    .await;
                copy.discard().await;
                check
            }
            None => self.check_in_sandbox(database, &tables, &pending).await,
        }
    }

    /// The pending versioned migrations, as an upgrade would apply them.
    fn pending(&self, history: &[AppliedMigration]) -> Result<Vec<&'a Migration>, Error> {
        Ok(self
            .migrator
            .upgrade(self.database)
            .plan(history)?
            .into_iter()
            .map(|(migration, _)| migration)
            .filter(|migration| migration.kind() == MigrationKind::Versioned)
            .collect())
    }

    /// Up → down → up of each migration in savepoints of one transaction rolled back at the
    /// end (`Backend::begin_sandbox`).
    async fn check_in_sandbox<T: Database>(
        &self,
        database: &T,
        tables: &Tables,
        pending: &[&Migration],
    ) -> Result<RollbackCheck, Error> {
        let mut session = open_session(database).await?;
        database
            .backend(SEAL)
            .begin_sandbox(&mut session, tables)
            .await
            .map_err(Error::database("opening the rollback check's transaction"))?;
        let mut steps = SandboxSteps {
            migrator: self.migrator,
            database,
            session: &mut session,
            tables,
        };
        let result = check_each(&mut steps, pending).await;
        let discarded = database
            .backend(SEAL)
            .discard_sandbox(&mut session)
            .await
            .map_err(Error::database("rolling back the rollback check"));
        let check = result?;
        discarded?;
        Ok(check)
    }

    /// Up → down → up of each migration on a scratch database, with the migrator's own upgrade
    /// and rollback.
    async fn check_on_scratch(
        &self,
        scratch: &D,
        history: &[AppliedMigration],
        pending: &[&Migration],
    ) -> Result<RollbackCheck, Error> {
        let latest = history
            .iter()
            .filter_map(|row| row.version.as_deref())
            .filter_map(|text| Version::parse(text).ok())
            .max();
        if let Some(latest) = latest {
            self.migrator
                .upgrade(scratch)
                .to_version(latest.as_str())
                .await?;
        }
        let mut steps = ScratchSteps {
            migrator: self.migrator,
            scratch,
        };
        check_each(&mut steps, pending).await
    }
}

impl<'a, D: Database> IntoFuture for CheckRollbacks<'a, D> {
    type Output = Result<RollbackCheck, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}

fn refused(message: String) -> Error {
    Error::Refused {
        operation: "rollback check",
        message,
    }
}

/// A failed step, before it is told which one.
struct FailedStatement {
    line: usize,
    message: String,
}

/// The steps the check takes, wherever it runs.
trait Steps: Send {
    fn dialect(&self) -> Dialect;
    fn schema(&mut self) -> impl Future<Output = Result<Schema, Error>> + Send;
    fn run(
        &mut self,
        migration: &Migration,
        direction: Direction,
    ) -> impl Future<Output = Result<Result<(), FailedStatement>, Error>> + Send;
    /// Marks the state to come back to if the upgrade again fails; false where it cannot.
    fn mark(&mut self) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Comes back to the mark (`restore`), or forgets it.
    fn unmark(&mut self, restore: bool) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Up → down → up of each migration, in order; an upgrade that fails ends it.
async fn check_each(
    steps: &mut impl Steps,
    pending: &[&Migration],
) -> Result<RollbackCheck, Error> {
    let mut check = RollbackCheck::default();
    for (index, migration) in pending.iter().enumerate() {
        let (checked, go_on) = check_one(steps, migration).await?;
        check.migrations.push(checked);
        if !go_on {
            check.not_reached = pending[index + 1..]
                .iter()
                .map(|m| m.filename().to_owned())
                .collect();
            break;
        }
    }
    Ok(check)
}

/// Up → down → up of one migration; false when what follows cannot be checked.
async fn check_one(
    steps: &mut impl Steps,
    migration: &Migration,
) -> Result<(CheckedMigration, bool), Error> {
    let mut checked = CheckedMigration {
        version: migration.version().map(Version::to_string),
        filename: migration.filename().to_owned(),
        has_rollback_sql: migration.has_rollback_sql(),
        differences: Vec::new(),
        failure: None,
    };
    let failed = |step, failed: FailedStatement| StepFailure {
        step,
        line: failed.line,
        message: failed.message,
    };
    let before = steps.schema().await?;
    if let Err(failure) = steps.run(migration, Direction::Upgrade).await? {
        checked.failure = Some(failed(CheckStep::Upgrade, failure));
        return Ok((checked, false));
    }
    if !checked.has_rollback_sql {
        return Ok((checked, true));
    }
    let marked = steps.mark().await?;
    if let Err(failure) = steps.run(migration, Direction::Rollback).await? {
        // Rolled back to its savepoint, or partly applied where DDL commits by itself.
        checked.failure = Some(failed(CheckStep::Rollback, failure));
        if marked {
            steps.unmark(false).await?;
        }
        return Ok((checked, marked));
    }
    let after = steps.schema().await?;
    checked.differences = diff(&before, &after, steps.dialect())
        .iter()
        .map(remains)
        .collect();
    let again = steps.run(migration, Direction::Upgrade).await?;
    let go_on = again.is_ok() || marked;
    if let Err(failure) = again {
        checked.failure = Some(failed(CheckStep::UpgradeAgain, failure));
    }
    if marked {
        // Back to the migration applied once, for the next ones.
        steps.unmark(checked.failure.is_some()).await?;
    }
    Ok((checked, go_on))
}

/// A difference between the schema before a migration and after its rollback, in words: what
/// the rollback left behind, or took that was there before.
fn remains(change: &Change) -> String {
    // `change` turns the schema after the rollback into the one before it.
    let columns = |columns: &[String]| columns.join(", ");
    let index_kind = |unique: bool| if unique { "unique index" } else { "index" };
    match change {
        Change::DropTable(table) => format!("table {} remains", table.name),
        Change::CreateTable(table) => format!("table {} is gone", table.name),
        Change::DropColumn { table, column } => format!("column {table}.{} remains", column.name),
        Change::AddColumn { table, column } => format!("column {table}.{} is gone", column.name),
        Change::AlterColumn { table, from, to } => {
            format!(
                "column {table}.{} is {}, was {}",
                to.name,
                describe(from),
                describe(to)
            )
        }
        Change::SetPrimaryKey { table, from, to } => format!(
            "primary key of {table} is ({}), was ({})",
            columns(from),
            columns(to)
        ),
        Change::DropIndex { table, index } => format!(
            "{} {} on {table} ({}) remains",
            index_kind(index.unique),
            index.name,
            columns(&index.columns)
        ),
        Change::AddIndex { table, index } => format!(
            "{} {} on {table} ({}) is gone",
            index_kind(index.unique),
            index.name,
            columns(&index.columns)
        ),
        Change::DropForeignKey { table, key } => format!(
            "foreign key {} on {table} ({}) -> {} remains",
            key.name,
            columns(&key.columns),
            key.references_table
        ),
        Change::AddForeignKey { table, key } => format!(
            "foreign key {} on {table} ({}) -> {} is gone",
            key.name,
            columns(&key.columns),
            key.references_table
        ),
        other => other.to_string(),
    }
}

/// A column's type, nullability and default, for [`remains`] (and drift).
pub(crate) fn describe(column: &Column) -> String {
    format!(
        "{}{}, {}",
        column.sql_type,
        if column.nullable { "" } else { " NOT NULL" },
        column.default.as_deref().map_or_else(
            || "no default".to_owned(),
            |default| format!("default {default}")
        )
    )
}

/// The steps in a sandbox: each migration's statements in a savepoint, no history row.
struct SandboxSteps<'s, T: Database> {
    migrator: &'s Migrator,
    database: &'s T,
    session: &'s mut Session,
    tables: &'s Tables,
}

impl<T: Database> Steps for SandboxSteps<'_, T> {
    fn dialect(&self) -> Dialect {
        self.database.dialect()
    }

    async fn schema(&mut self) -> Result<Schema, Error> {
        let schema = self
            .database
            .backend(SEAL)
            .read_schema_in(self.session, self.tables.schema.as_deref())
            .await
            .map_err(Error::database(
                "reading the schema during the rollback check",
            ))?;
        let names = (
            self.tables.migrations_name.as_str(),
            self.tables.lock_name.as_str(),
        );
        Ok(crate::schema::without_tables(schema, names))
    }

    async fn run(
        &mut self,
        migration: &Migration,
        direction: Direction,
    ) -> Result<Result<(), FailedStatement>, Error> {
        let section = split(
            migration,
            self.database.dialect(),
            direction,
            self.migrator.placeholders(),
        )?;
        let statements = section.statements();
        let mut limits = migration.limits().or(self.migrator.default_limits());
        limits.retries = None;
        let one = OneMigration {
            migration,
            statements: &statements,
            written: section.written(),
            // Not written: a sandbox writes no history.
            row: RowWrite::Delete { order_executed: 0 },
            direction,
            tables: self.tables,
            limits,
            retry: None,
        };
        step_result(
            one.run(self.database, self.session, &Report::default())
                .await,
        )
    }

    async fn mark(&mut self) -> Result<bool, Error> {
        self.database
            .backend(SEAL)
            .sandbox_mark(self.session, SandboxMark::Set)
            .await
            .map_err(Error::database("marking the rollback check's place"))?;
        Ok(true)
    }

    async fn unmark(&mut self, restore: bool) -> Result<(), Error> {
        let mark = if restore {
            SandboxMark::Restore
        } else {
            SandboxMark::Release
        };
        self.database
            .backend(SEAL)
            .sandbox_mark(self.session, mark)
            .await
            .map_err(Error::database("returning to the rollback check's place"))
    }
}

/// The steps on a scratch database: the migrator's own upgrade and rollback.
struct ScratchSteps<'s, D: Database> {
    migrator: &'s Migrator,
    scratch: &'s D,
}

impl<D: Database> Steps for ScratchSteps<'_, D> {
    fn dialect(&self) -> Dialect {
        self.scratch.dialect()
    }

    async fn schema(&mut self) -> Result<Schema, Error> {
        let schema = crate::schema::introspect(self.scratch).await?;
        Ok(crate::schema::without_tables(
            schema,
            self.migrator.table_names(),
        ))
    }

    async fn run(
        &mut self,
        migration: &Migration,
        direction: Direction,
    ) -> Result<Result<(), FailedStatement>, Error> {
        let result = match (direction, migration.version()) {
            (Direction::Upgrade, Some(version)) => {
                self.migrator
                    .upgrade(self.scratch)
                    .to_version(version.as_str())
                    .await
            }
            (Direction::Rollback, _) => self.migrator.rollback(self.scratch).count(1).await,
            (Direction::Upgrade, None) => return Ok(Ok(())),
        };
        step_result(result)
    }

    /// A scratch database has no savepoints around DDL: nothing to come back to.
    async fn mark(&mut self) -> Result<bool, Error> {
        Ok(false)
    }

    async fn unmark(&mut self, _restore: bool) -> Result<(), Error> {
        Ok(())
    }
}

/// A migration's failure is the step's outcome; anything else is the check's error.
fn step_result<T>(result: Result<T, Error>) -> Result<Result<(), FailedStatement>, Error> {
    match result {
        Ok(_) => Ok(Ok(())),
        Err(Error::MigrationFailed { line, source, .. }) => Ok(Err(FailedStatement {
            line,
            message: source.to_string(),
        })),
        Err(error) => Err(error),
    }
}
