//! The same calls for programs without an async runtime (feature `blocking`).
//!
//! [`connect`] opens a database from its URL on a small runtime of its own; every call then
//! blocks until it is done.
//!
//! ```no_run
//! static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
//!
//! let database = jetbase::blocking::connect("sqlite://app.db?mode=rwc")?;
//! let report = database.run(&MIGRATOR)?;
//! println!("applied {}", report.migrations.len());
//! // Any builder: configure it, then block on it.
//! database.block_on(MIGRATOR.rollback(database.pool()).count(1))?;
//! # Ok::<(), jetbase::Error>(())
//! ```

use std::future::IntoFuture;

use jetbase_core::{AppliedMigration, PlanError};

use crate::{AnyPool, Error, MigrationStatus, Migrator, Report};

/// A database connection with the runtime that drives it.
#[derive(Debug)]
pub struct BlockingDatabase {
    runtime: tokio::runtime::Runtime,
    pool: AnyPool,
}

/// Connects to `url` (`postgres://`, `sqlite:`, `mysql://`, each with its feature).
///
/// # Errors
///
/// [`Error::UnsupportedUrl`], [`Error::Database`] when the connection fails, or
/// [`Error::Runtime`] when no runtime could be started.
pub fn connect(url: &str) -> Result<BlockingDatabase, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Runtime { source })?;
    let pool = runtime.block_on(AnyPool::connect(url))?;
    Ok(BlockingDatabase { runtime, pool })
}

impl BlockingDatabase {
    /// The pool, for building an upgrade or rollback to pass to [`BlockingDatabase::block_on`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs an upgrade, rollback or any other future to completion.
    pub fn block_on<F: IntoFuture>(&self, future: F) -> F::Output {
        self.runtime.block_on(future.into_future())
    }

    /// [`Migrator::run`], blocking.
    ///
    /// # Errors
    ///
    /// As for [`Migrator::run`].
    pub fn run(&self, migrator: &Migrator) -> Result<Report, Error> {
        self.block_on(migrator.run(&self.pool))
    }

    /// [`Migrator::status`], blocking.
    ///
    /// # Errors
    ///
    /// As for [`Migrator::status`].
    pub fn status(&self, migrator: &Migrator) -> Result<Vec<MigrationStatus>, Error> {
        self.block_on(migrator.status(&self.pool))
    }

    /// [`Migrator::history`], blocking.
    ///
    /// # Errors
    ///
    /// As for [`Migrator::history`].
    pub fn history(&self, migrator: &Migrator) -> Result<Vec<AppliedMigration>, Error> {
        self.block_on(migrator.history(&self.pool))
    }

    /// [`Migrator::validate`], blocking.
    ///
    /// # Errors
    ///
    /// As for [`Migrator::validate`].
    pub fn validate(&self, migrator: &Migrator) -> Result<Vec<PlanError>, Error> {
        self.block_on(migrator.validate(&self.pool))
    }
}

impl Drop for BlockingDatabase {
    fn drop(&mut self) {
        self.runtime.block_on(self.pool.close());
    }
}
