//! `wait_until_current`: for application replicas that start while a migration job runs (a
//! Kubernetes init container, a readiness gate). Polls with the one-query fast path until the
//! database holds every local migration; never takes the lock, never writes.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use jetbase_core::State;

use crate::backend::Database;
use crate::backend::private::SEAL;
use crate::migrator::read_history;
use crate::{Error, Migrator};

/// How often [`Migrator::wait_until_current`] asks, by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);

impl Migrator {
    /// Waits until the database holds every local migration (nothing pending), asking every
    /// second ([`WaitUntilCurrent::poll_every`] to change it), for at most `timeout`. Each
    /// question is the up-to-date check of [`Migrator::run`]: one read-only query, and the
    /// history read only when that query cannot tell. Takes no lock and writes nothing (not even
    /// the history tables, on a database that has none yet).
    ///
    /// ```no_run
    /// # async fn start(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// // A replica of the application: start serving once the migration job is done.
    /// MIGRATOR
    ///     .wait_until_current(&pool, std::time::Duration::from_secs(300))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::NotCurrent`] naming what is still pending when `timeout` runs out;
    /// [`Error::Database`] when the database cannot be read, or does not answer before
    /// `timeout` runs out.
    pub fn wait_until_current<'a, D: Database>(
        &'a self,
        database: &'a D,
        timeout: Duration,
    ) -> WaitUntilCurrent<'a, D> {
        WaitUntilCurrent {
            migrator: self,
            database,
            timeout,
            interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

/// A wait for the database to be current, run by `.await` (see
/// [`Migrator::wait_until_current`]).
#[must_use = "a wait does nothing until it is awaited"]
pub struct WaitUntilCurrent<'a, D: Database> {
    migrator: &'a Migrator,
    database: &'a D,
    timeout: Duration,
    interval: Duration,
}

impl<'a, D: Database> WaitUntilCurrent<'a, D> {
    /// How long to wait between two questions (default 1 s).
    pub fn poll_every(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    async fn execute(self) -> Result<Duration, Error> {
        let started = Instant::now();
        loop {
            // The deadline holds even when the database stops answering (a server that keeps
            // the connection open and never replies): each question gets the time left, and
            // at least a second, so that a timeout of 0 still asks once.
            let left = self
                .timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_secs(1));
            let pending = match tokio::time::timeout(left, self.pending()).await {
                Ok(pending) => pending?,
                Err(_) => {
                    return Err(Error::Database {
                        action: "asking whether the database is current",
                        source: crate::DatabaseError::new(
                            crate::DatabaseErrorKind::Connection,
                            std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                format!(
                                    "no answer before the wait's timeout of {:?}",
                                    self.timeout
                                ),
                            ),
                        ),
                    });
                }
            };
            let waited = started.elapsed();
            if pending.is_empty() {
                return Ok(waited);
            }
            if waited >= self.timeout {
                return Err(Error::NotCurrent { pending, waited });
            }
            let left = self.timeout.saturating_sub(waited);
            tokio::time::sleep(self.interval.min(left)).await;
        }
    }

    /// The local migrations the database does not hold yet (empty: current).
    async fn pending(&self) -> Result<Vec<String>, Error> {
        let tables = self.migrator.tables(self.database)?;
        let digest = self
            .database
            .backend(SEAL)
            .history_digest(&tables)
            .await
            .map_err(Error::database("reading the migration history"))?;
        if crate::history::fast_path::is_up_to_date(self.migrator.expected_digest(), &digest) {
            return Ok(Vec::new());
        }
        let history = read_history(self.database, &tables)
            .await?
            .unwrap_or_default();
        Ok(self
            .migrator
            .status_of(&history)
            .into_iter()
            .filter(|status| status.state == State::Pending)
            .map(|status| status.filename)
            .collect())
    }
}

impl<'a, D: Database> IntoFuture for WaitUntilCurrent<'a, D> {
    /// How long it waited.
    type Output = Result<Duration, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
