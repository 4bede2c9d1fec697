//! The migration lock: the `jetbase_lock` row, taken by compare-and-set so Python Jetbase sees
//! it, plus a liveness lock the server (or kernel) frees when its holder dies, so that a killed
//! holder never blocks the database. Released on every path, including a dropped future.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::backend::tables::Tables;
use crate::backend::{Database, LivenessLock, LockRow, LockWrite};
use crate::migrator::read_history;

/// Every `process_id` jetbase writes starts so; only such rows are ever taken over.
const PROCESS_ID_PREFIX: &str = "jb1:";
/// A lock taken by hand (`jetbase lock`): never taken over.
const MANUAL_PREFIX: &str = "jb1:manual:";

/// A `process_id` for this holder: `jb1:<pid>:<unique>`, at most 36 characters.
pub(crate) fn new_process_id(manual: bool) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let unique = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(40);
    let id = if manual {
        format!("{MANUAL_PREFIX}{unique:016x}")
    } else {
        format!("{PROCESS_ID_PREFIX}{:x}:{unique:016x}", std::process::id())
    };
    id.chars().take(36).collect()
}

/// Whether a holder can be taken over once its liveness lock is free: only jetbase's own,
/// non-manual holders (Python Jetbase's are waited for).
fn can_take_over(process_id: &str) -> bool {
    process_id.starts_with(PROCESS_ID_PREFIX) && !process_id.starts_with(MANUAL_PREFIX)
}

/// The held lock. `release` it; if it is dropped instead (an error path, a panic, a cancelled
/// future), the release is sent to the runtime, and the liveness session is closed either way.
pub(crate) struct LockGuard<D: Database> {
    database: D,
    tables: Tables,
    process_id: String,
    liveness: Option<D::Liveness>,
}

impl<D: Database> LockGuard<D> {
    /// Waits for the lock up to `timeout`.
    pub(crate) async fn acquire(
        database: &D,
        tables: &Tables,
        timeout: Duration,
    ) -> Result<Self, Error> {
        Self::acquire_as(database, tables, timeout, new_process_id(false)).await
    }

    /// Waits for the lock up to `timeout`, writing `process_id` into the row.
    async fn acquire_as(
        database: &D,
        tables: &Tables,
        timeout: Duration,
        process_id: String,
    ) -> Result<Self, Error> {
        let started = Instant::now();
        let mut liveness = database
            .liveness(tables)
            .await
            .map_err(Error::database("opening the lock session"))?;
        let mut delay = Duration::from_millis(20);
        let mut prepared = false;
        loop {
            let alive_holder = !liveness
                .try_lock()
                .await
                .map_err(Error::database("taking the liveness lock"))?;
            if !alive_holder && !prepared {
                // Holding the liveness lock serialises the DDL of concurrent jetbase processes.
                database
                    .prepare(tables)
                    .await
                    .map_err(Error::database("creating the history tables"))?;
                prepared = true;
            }
            if !alive_holder && take_row(database, tables, &process_id).await? {
                return Ok(Self {
                    database: database.clone(),
                    tables: tables.clone(),
                    process_id,
                    liveness: Some(liveness),
                });
            }
            if started.elapsed() >= timeout {
                let row = database
                    .read_lock(tables)
                    .await
                    .map_err(Error::database("reading the lock"))?
                    .unwrap_or(LockRow {
                        is_locked: false,
                        locked_at: None,
                        process_id: None,
                    });
                liveness.unlock().await;
                return Err(Error::LockTimeout {
                    holder: row
                        .process_id
                        .unwrap_or_else(|| "another jetbase process".to_owned()),
                    since: row
                        .locked_at
                        .unwrap_or_else(|| "an unknown time".to_owned()),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(delay.min(timeout.saturating_sub(started.elapsed()))).await;
            delay = (delay * 2).min(Duration::from_millis(250));
        }
    }

    /// Takes the lock by hand (`jetbase lock`): the row says `jb1:manual:...`, outlives this
    /// process and is never taken over; only `Migrator::unlock` frees it. Returns the
    /// `process_id` written.
    pub(crate) async fn acquire_manual(
        database: &D,
        tables: &Tables,
        timeout: Duration,
    ) -> Result<String, Error> {
        let mut guard = Self::acquire_as(database, tables, timeout, new_process_id(true)).await?;
        let process_id = std::mem::take(&mut guard.process_id);
        if let Some(liveness) = guard.liveness.take() {
            liveness.unlock().await;
        }
        Ok(process_id)
    }

    /// Ends a locked run: stores the history digest for the fast path (after a success), then
    /// releases the lock whatever happened. The run's own error comes first.
    pub(crate) async fn finish<T>(self, result: Result<T, Error>) -> Result<T, Error> {
        let mut result = result;
        if result.is_ok() {
            result = store_digest(&self.database, &self.tables, &self.process_id)
                .await
                .and(result);
        }
        let released = self.release().await;
        let outcome = result?;
        released?;
        Ok(outcome)
    }

    /// Frees the row and the liveness lock.
    pub(crate) async fn release(mut self) -> Result<(), Error> {
        let result = self
            .database
            .write_lock(
                &self.tables,
                LockWrite::Release {
                    process_id: &self.process_id,
                },
            )
            .await
            .map_err(Error::database("releasing the lock"));
        if let Some(liveness) = self.liveness.take() {
            liveness.unlock().await;
        }
        result.map(|_| ())
    }
}

/// Re-reads the history and stores its digest for the fast path (under the lock).
async fn store_digest<D: Database>(
    database: &D,
    tables: &Tables,
    process_id: &str,
) -> Result<(), Error> {
    let history = read_history(database, tables).await?.unwrap_or_default();
    let digest = crate::fast_path::stored_digest(&history);
    database
        .store_history_digest(tables, digest.as_deref(), process_id)
        .await
        .map_err(Error::database("storing the history digest"))
}

/// Whether a `process_id` is a lock taken by hand with `jetbase lock`.
pub(crate) fn is_manual(process_id: &str) -> bool {
    process_id.starts_with(MANUAL_PREFIX)
}

/// With the liveness lock held: takes the free row, or the row of a dead jetbase holder.
async fn take_row<D: Database>(
    database: &D,
    tables: &Tables,
    process_id: &str,
) -> Result<bool, Error> {
    if database
        .write_lock(tables, LockWrite::Take { process_id })
        .await
        .map_err(Error::database("taking the lock"))?
    {
        return Ok(true);
    }
    let row = database
        .read_lock(tables)
        .await
        .map_err(Error::database("reading the lock"))?;
    match row.and_then(|row| row.process_id.filter(|_| row.is_locked)) {
        // We hold the liveness lock, which a live jetbase holder would hold: that holder is gone.
        Some(holder) if can_take_over(&holder) => database
            .write_lock(
                tables,
                LockWrite::TakeOver {
                    process_id,
                    from: &holder,
                },
            )
            .await
            .map_err(Error::database("taking over the lock")),
        _ => Ok(false),
    }
}

impl<D: Database> Drop for LockGuard<D> {
    fn drop(&mut self) {
        let Some(liveness) = self.liveness.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to run the release on: closing the liveness session (dropping it) lets
            // the next process take the row over.
            return;
        };
        let database = self.database.clone();
        let tables = self.tables.clone();
        let process_id = std::mem::take(&mut self.process_id);
        runtime.spawn(async move {
            let _ = database
                .write_lock(
                    &tables,
                    LockWrite::Release {
                        process_id: &process_id,
                    },
                )
                .await;
            liveness.unlock().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ids_are_recognisable_and_short() {
        let automatic = new_process_id(false);
        let manual = new_process_id(true);
        assert!(
            automatic.len() <= 36 && manual.len() <= 36,
            "{automatic} {manual}"
        );
        assert!(can_take_over(&automatic));
        assert!(!can_take_over(&manual), "a manual lock is never taken over");
        assert!(
            !can_take_over("3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            "Python Jetbase's uuid"
        );
        assert_ne!(new_process_id(false), new_process_id(false));
    }
}
