//! The errors of the `jetbase` crate.

pub(crate) mod database;

use std::time::Duration;

use jetbase_core::{PlanError, ScanError, SplitError, VersionError};

use crate::error::database::DatabaseError;

/// What can go wrong in jetbase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The migrations directory could not be read, or some of its files are invalid.
    #[error("the migrations in `{}` cannot be used", .source.directory.display())]
    Migrations {
        /// Every problem found in the directory.
        #[source]
        source: ScanError,
    },
    /// A database call failed outside a migration (reading the history, creating the tables, the
    /// lock).
    #[error("database error while {action}")]
    Database {
        /// What jetbase was doing.
        action: &'static str,
        /// The database's error (the driver's error is its source).
        #[source]
        source: DatabaseError,
    },
    /// Validation found problems; nothing was run.
    #[error("{}", list("validation failed, nothing was run", problems))]
    Validation {
        /// Every problem found.
        problems: Vec<PlanError>,
    },
    /// A `to_version` option that is not a version.
    #[error("invalid to_version")]
    InvalidVersion {
        /// Why it is invalid.
        #[source]
        source: VersionError,
    },
    /// A migration's SQL cannot be split into statements for this database.
    #[error("`{filename}` cannot be split into statements for {dialect}")]
    Split {
        /// The file.
        filename: String,
        /// The database's dialect.
        dialect: String,
        /// What is open.
        #[source]
        source: SplitError,
    },
    /// A migration's statement has a `${name}` placeholder with no value configured (while at
    /// least one is). Found before anything runs.
    #[error(
        "`{filename}`, line {line}: ${{{name}}} has no value; configure one (placeholders \
         configured: {}), or write $${{{name}}} for the text itself; nothing was run",
        .configured.join(", ")
    )]
    Placeholder {
        /// The file.
        filename: String,
        /// The line of the `${name}` in the file.
        line: usize,
        /// The name, as written.
        name: String,
        /// The names that have a value.
        configured: Vec<String>,
    },
    /// A migration failed. The ones before it in the run stay applied.
    #[error(
        "{direction} of `{filename}` failed at line {line}: {statement}{}{}{}",
        .lock_wait.as_deref().map(LockWait::explain).unwrap_or_default(),
        failure_outcome(*.transactional, *.partially_applied),
        applied_before_summary(.applied_before, *.direction)
    )]
    MigrationFailed {
        /// Whether it was upgrading or rolling back.
        direction: Direction,
        /// The file.
        filename: String,
        /// The failing statement's line in the file (0 when the history write failed).
        line: usize,
        /// The failing statement, shortened.
        statement: String,
        /// True on databases without transactional DDL (MySQL/MariaDB) or for no-transaction
        /// migrations, when statements before the failing one ran.
        partially_applied: bool,
        /// False for a `-- jetbase: no-transaction` migration, whose history row now says
        /// it failed.
        transactional: bool,
        /// The migrations this run completed before the failure.
        applied_before: Vec<String>,
        /// Set when it failed because it could not get a table lock in time.
        lock_wait: Option<Box<LockWait>>,
        /// The database's error (the driver's error is its source).
        #[source]
        source: DatabaseError,
    },
    /// A database URL whose scheme is unknown, or whose feature is not enabled.
    #[error(
        "`{url}` is not a database URL jetbase can use: expected postgres://, sqlite:, mysql://, \
         snowflake://, clickhouse:// or databricks:// (with the crate's `postgres`, `sqlite`, \
         `mysql`, `snowflake`, `clickhouse` or `databricks` feature)"
    )]
    UnsupportedUrl {
        /// The URL, password masked.
        url: String,
    },
    /// The `blocking` API could not start its runtime.
    #[error("cannot start the runtime of the blocking API")]
    Runtime {
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// This process held the lock by a lease and stopped renewing it for longer than its expiry
    /// (a stall, a lost network): another process may have taken the lock over meanwhile.
    #[error(
        "the migration lock held as {process_id} was taken over while this run held it (its lease \
         was not renewed in time); another process may have run migrations meanwhile: check \
         `jetbase status` before going on"
    )]
    LockLost {
        /// This process's `process_id`.
        process_id: String,
    },
    /// Every migration of the run was applied (or rolled back), and the history says so;
    /// what came after failed: storing the history's digest, releasing the lock, or the lease
    /// found lost. The database holds the migrations: do not run them by hand.
    #[error(
        "{} {} {} ({}{}), and the history says so, but finishing the run failed",
        .done.len(),
        if .done.len() == 1 { "migration was" } else { "migrations were" },
        match .direction { Direction::Upgrade => "applied", Direction::Rollback => "rolled back" },
        .done.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if .done.len() > 5 { ", ..." } else { "" }
    )]
    AfterRun {
        /// Which way the run went.
        direction: Direction,
        /// The files applied or rolled back, in order.
        done: Vec<String>,
        /// What failed afterwards.
        source: Box<Error>,
    },
    /// `wait_until_current` ran out of time with migrations still pending.
    #[error(
        "the database is not current after {waited:?}: {} migration{} pending ({}{})",
        .pending.len(),
        if .pending.len() == 1 { "" } else { "s" },
        .pending.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if .pending.len() > 5 { ", ..." } else { "" }
    )]
    NotCurrent {
        /// The files the database does not hold yet.
        pending: Vec<String>,
        /// How long it waited.
        waited: Duration,
    },
    /// `baseline` cannot record what it was asked to; nothing was written.
    #[error("baseline refused: {message}")]
    BaselineRefused {
        /// Why, and what to do.
        message: String,
    },
    /// A rehearsal (`Upgrade::rehearse`) or a rollback check (`Migrator::check_rollbacks`)
    /// cannot run here, or a migration cannot run as it is written through a transaction
    /// pooler; nothing was run.
    #[error("{operation} refused: {message}")]
    Refused {
        /// What was refused: `rehearsal`, `rollback check`, ….
        operation: &'static str,
        /// Why, and what to do.
        message: String,
    },
    /// The server refuses writes (a hot standby, a MySQL/MariaDB server with `read_only`):
    /// nothing was taken or written.
    #[error(
        "this server is a read-only replica ({dialect}): upgrade, rollback, baseline and lock \
         write, and belong on the primary; status, history, validate and wait work here"
    )]
    ReadOnlyServer {
        /// The database.
        dialect: String,
    },
    /// A setting with a value jetbase cannot use.
    #[error("invalid {setting}: {message}")]
    InvalidSetting {
        /// The setting.
        setting: String,
        /// What is wrong with it and what would do.
        message: String,
    },
    /// The lock stayed taken for the whole `lock_timeout`.
    #[error(
        "the migration lock is held by {holder} since {since}; waited {waited:?}. If that process \
         is gone and was Python Jetbase or `jetbase lock`, free it with `jetbase unlock`"
    )]
    LockTimeout {
        /// The `process_id` in the lock row.
        holder: String,
        /// The `locked_at` in the lock row.
        since: String,
        /// How long this process waited.
        waited: Duration,
    },
}

/// A migration that gave up waiting for a lock another session held (its table-lock timeout),
/// as [`Error::MigrationFailed`] tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockWait {
    /// The table of the failing statement, when it names one.
    pub table: Option<String>,
    /// The table-lock timeout in force (`None`: the database's own lock timeout ran out).
    pub timeout: Option<Duration>,
    /// How many times the migration was tried.
    pub attempts: u32,
}

impl LockWait {
    fn explain(&self) -> String {
        let on = self
            .table
            .as_deref()
            .map_or_else(|| "a table".to_owned(), |table| format!("table `{table}`"));
        let within = self.timeout.map_or_else(
            || "within the database's lock timeout".to_owned(),
            |timeout| format!("within its table-lock timeout of {timeout:?}"),
        );
        let tries = match self.attempts {
            1 => " (`-- jetbase: retries=N` tries it again after a pause)".to_owned(),
            attempts => format!(" ({attempts} attempts)"),
        };
        format!(
            "\nit could not get a lock on {on} {within}{tries}: another session holds a lock on it \
             (a long transaction, or a migration of another tool), and the sessions queued \
             behind this migration were let through"
        )
    }
}

/// Which way a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Applying migrations.
    Upgrade,
    /// Rolling them back.
    Rollback,
}

impl Direction {
    /// `upgrade` or `rollback`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Upgrade => "upgrade",
            Self::Rollback => "rollback",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed migration left behind, for its message.
fn failure_outcome(transactional: bool, partially_applied: bool) -> &'static str {
    match (transactional, partially_applied) {
        (false, true) => {
            "\nthe migration is PARTIALLY APPLIED: it ran outside a transaction (no-transaction, or \
             a database whose DDL commits by itself), so the statements before the failing one stay \
             applied, and its history row is marked failed; check them, then roll it back \
             (`jetbase rollback`) or fix it"
        }
        (false, false) => {
            "\nit ran outside a transaction (no-transaction, or a database whose DDL commits by \
             itself): nothing of it was applied, and its history row is marked failed; roll it \
             back or fix it"
        }
        (true, true) => {
            "\nthe migration may be PARTIALLY APPLIED: this database commits DDL implicitly, so \
             statements before the failing one may have taken effect; check them before retrying"
        }
        (true, false) => "\nthe migration was rolled back; nothing of it remains",
    }
}

fn list(headline: &str, problems: &[PlanError]) -> String {
    let mut text = format!(
        "{headline} ({} problem{}):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(&problem.to_string());
    }
    text
}

impl From<ScanError> for Error {
    fn from(source: ScanError) -> Self {
        Self::Migrations { source }
    }
}

impl Error {
    pub(crate) fn database(action: &'static str) -> impl FnOnce(DatabaseError) -> Self {
        move |source| Self::Database { action, source }
    }
}

/// How many migrations in the run went before a failure, and the last few of them: a run of
/// hundreds stays one short line (the whole list is in the error's `applied_before`).
fn applied_before_summary(applied_before: &[String], direction: Direction) -> String {
    const SHOWN: usize = 3;
    let verb = match direction {
        Direction::Upgrade => "applied",
        Direction::Rollback => "rolled back",
    };
    match applied_before.len() {
        0 => String::new(),
        count if count <= SHOWN => format!(
            "\n{verb} before it in this run: {}",
            applied_before.join(", ")
        ),
        count => format!(
            "\n{verb} before it in this run: {count} migrations, the last {} (see `jetbase \
             history`)",
            applied_before[count - SHOWN..].join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_run_before_a_failure_is_counted_not_listed() {
        let files: Vec<String> = (1..=272).map(|n| format!("V{n}__m.sql")).collect();
        assert_eq!(applied_before_summary(&[], Direction::Upgrade), "");
        assert_eq!(
            applied_before_summary(&files[..2], Direction::Upgrade),
            "\napplied before it in this run: V1__m.sql, V2__m.sql"
        );
        assert_eq!(
            applied_before_summary(&files, Direction::Rollback),
            "\nrolled back before it in this run: 272 migrations, the last V270__m.sql, \
             V271__m.sql, V272__m.sql (see `jetbase history`)"
        );
    }
}
