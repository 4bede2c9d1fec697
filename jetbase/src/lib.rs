//! Jetbase: database migrations for Rust applications.
//!
//! Migrations are plain SQL files (`V1__create_users.sql`, with an upgrade and a rollback
//! section). [`embed!`] compiles a migrations directory into the binary, validated and
//! checksummed at build time; [`Migrator::from_dir`] reads the same files at run time.
//! Files, checksums and history tables are compatible with Python Jetbase.
//!
//! ```
//! # // The doctests run from the `jetbase` crate, whose tests hold the shared vectors.
//! static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
//!
//! let first = &MIGRATOR.migrations()[0];
//! assert_eq!(first.filename(), "V1__create_users_table.sql");
//! assert_eq!(first.version().map(|v| v.as_str()), Some("1"));
//! assert_eq!(first.checksum().len(), 64);
//! ```

// Without a database feature the backend's shared code has no user.
// Each database's sqlx code is compiled once per sqlx major, from the same files: see
// `backend/sqlx/runner.rs`.
#![allow(clippy::duplicate_mod)]

pub mod adopt;
#[cfg_attr(
    not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
    allow(dead_code, unused_imports)
)]
mod backend;
pub mod build;
mod checks;
mod connect;
mod error;
mod events;
#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
pub mod fleet;
mod history;
mod lock;
mod migrator;
mod run;
pub mod schema;
#[cfg(feature = "testing")]
// Without a database to make test databases on (no `sqlx-0_9` with `postgres`, `sqlite` or
// `mysql`), `create` can only refuse: what serves the engines is then unused.
#[cfg_attr(
    not(all(
        feature = "sqlx-0_9",
        any(feature = "postgres", feature = "sqlite", feature = "mysql")
    )),
    allow(dead_code, unused_variables, unreachable_code)
)]
pub mod testing;

#[cfg(all(
    feature = "blocking",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
pub use connect::blocking;
pub use connect::url;

pub use backend::any::{AnyPool, SqliteAccess};
#[cfg(feature = "clickhouse")]
pub use backend::clickhouse::pool::ClickHousePool;
#[cfg(feature = "databricks")]
pub use backend::databricks::pool::DatabricksPool;
#[cfg(all(
    feature = "sqlx-0_9",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
pub use backend::scratch_database::ScratchDatabase;
#[cfg(feature = "snowflake")]
pub use backend::snowflake::pool::SnowflakePool;
pub use backend::{Database, DatabaseError, DatabaseErrorKind, TableLock};
pub use checks::check_rollback::{
    CheckRollbacks, CheckStep, CheckedMigration, RollbackCheck, StepFailure,
};
pub use checks::drift::{Drift, DriftKind};
pub use connect::pooler::Pooler;
pub use error::{Direction, Error, LockWait};
pub use history::repair::{Repair, RepairReport, RepairedRow};
pub use history::wait::{DEFAULT_POLL_INTERVAL, WaitUntilCurrent};
pub use lock::lease::LockLease;
pub use lock::manual::LockStatus;
pub use migrator::{DEFAULT_LOCK_TIMEOUT, Migrator};
pub use run::rehearse::{Rehearsal, RehearsalFailure, RehearsedMigration};
pub use run::report::{MigrationStatus, Report, ReportEntry};
pub use run::retry::Retry;
pub use run::{Progress, Rollback, RunFuture, Upgrade};
pub use schema::Model;
/// sqlx 0.9, whose pools `run` accepts (feature `sqlx-0_9`, the default; with feature
/// `sqlx-0_8`, sqlx 0.8's pools are accepted too).
#[cfg(feature = "sqlx-0_9")]
pub use sqlx;

#[doc(hidden)]
pub use jetbase_core::StaticMigrationParts;
pub use jetbase_core::{
    AppliedMigration, Capabilities, Dialect, Migration, MigrationKind, NewerDatabase, Placeholders,
    PlanError, RunLimits, ScanError, SourceError, SplitError, State, Statement, Version,
    VersionError,
};

/// Compiles a migrations directory into the binary.
///
/// `embed!()` reads `jetbase/migrations` relative to the crate's `Cargo.toml`;
/// `embed!("path")` reads another directory (relative to the crate, or absolute). Every file is
/// parsed and checksummed at compile time, and every problem (bad names, duplicate versions,
/// non-UTF-8 files, unknown directives, empty files, unterminated quotes) is a compile error
/// naming the file, all of them in one build. The result is a constant [`Migrator`]:
///
/// ```
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
/// assert_eq!(MIGRATOR.migrations().len(), 16);
/// ```
///
/// Editing an embedded file rebuilds the crate by itself. So that adding or removing a file does
/// too, call [`build::rerun_if_migrations_change`] from the crate's `build.rs`.
pub use jetbase_macros::embed;

/// Derives [`Model`] (the trait of the same name documents the `#[jetbase(...)]` attributes).
pub use jetbase_macros::Model;

/// A test on a fresh database with the migrations applied (feature `testing`): the async
/// function is given a pool on a copy of a template the migrations were applied to once (see
/// [`testing`]). The server is `DATABASE_URL`; SQLite needs none.
///
/// ```no_run
/// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
///
/// #[jetbase::test(migrator = MIGRATOR)]
/// async fn signup_creates_a_user(pool: sqlx::SqlitePool) {
///     sqlx::query("SELECT 1").execute(&pool).await.unwrap();
/// }
/// ```
///
/// The pool is `sqlx::PgPool`, `sqlx::SqlitePool`, `sqlx::MySqlPool` (sqlx 0.9) or
/// [`AnyPool`]. Options: `migrator = PATH` (a static [`Migrator`]; default: `embed!()` of
/// `jetbase/migrations`), `migrations = false` (an empty database), `to_version = "3"`,
/// `fixtures("tests/fixtures/users.sql", …)` (SQL files relative to `Cargo.toml`, run after the
/// migrations). The function may return `()` or `Result<(), E>`. A passing test's database is
/// dropped; a failing one's is kept and named on stderr.
///
/// # Errors
///
/// A function that is not `async`, takes no pool or more than one argument, or a pool type
/// jetbase cannot make (a compile error on it); at run time the test fails, naming what to
/// fix, when `DATABASE_URL` is unset or unreachable, or the user may not create databases.
#[cfg(feature = "testing")]
pub use jetbase_macros::test;
