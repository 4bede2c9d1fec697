//! The migration lock: the `jetbase_lock` row, taken by compare-and-set so Python Jetbase sees
//! it, plus a liveness lock the server (or kernel) frees when its holder dies, so that a killed
//! holder never blocks the database. Released on every path, including a dropped future.
//!
//! Where the database has no lock that dies with its session (the warehouses; a Galera cluster,
//! whose `GET_LOCK` is one node's; a server behind a transaction pooler), the holder's liveness
//! is a *lease*: while it holds the row, a task renews `locked_at` every
//! [`LockLease::renew_every`]; a jetbase holder whose `locked_at` is older than
//! [`LockLease::expires_after`] is dead, and its row is taken over by a compare-and-set on its
//! `process_id` and stale `locked_at`, which exactly one of several waiting processes wins.

pub(crate) mod lease;
pub(crate) mod manual;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::backend::private::SEAL;
use crate::backend::tables::Tables;
use crate::backend::{Database, LivenessLock, LockRow, LockWrite};
use crate::events;
use crate::lock::lease::LockLease;
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

/// A wait for the lock in progress: if it is dropped before it ends (a cancelled future), the
/// process's claim is withdrawn in the background. (A `Release` of a row this process does not
/// hold changes nothing.)
struct Waiting<D: Database> {
    database: D,
    tables: Tables,
    process_id: String,
    armed: bool,
}

impl<D: Database> Waiting<D> {
    fn new(database: &D, tables: &Tables, process_id: &str) -> Self {
        Self {
            database: database.clone(),
            tables: tables.clone(),
            process_id: process_id.to_owned(),
            armed: true,
        }
    }

    /// The wait ended (the lock taken, or the timeout's own withdrawal sent).
    fn done(mut self) {
        self.armed = false;
    }
}

impl<D: Database> Drop for Waiting<D> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let database = self.database.clone();
        let tables = self.tables.clone();
        let process_id = std::mem::take(&mut self.process_id);
        runtime.spawn(async move {
            let _ = database
                .backend(SEAL)
                .write_lock(
                    &tables,
                    LockWrite::Release {
                        process_id: &process_id,
                    },
                )
                .await;
        });
    }
}

/// The held lock. `release` it; if it is dropped instead (an error path, a panic, a cancelled
/// future), the release is sent to the runtime, and the liveness session is closed either way.
pub(crate) struct LockGuard<D: Database> {
    database: D,
    tables: Tables,
    process_id: String,
    liveness: Option<Box<dyn LivenessLock>>,
    /// The task renewing the lease (databases without session locks).
    renewal: Option<Renewal>,
}

/// The lease renewal task of a held lock, and whether it lost the lock.
struct Renewal {
    task: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl Renewal {
    /// Renews the lease of `process_id` every `lease.renew_every` until stopped. A renewal that
    /// changes no row means the lock was taken over (this process stalled past the expiry):
    /// `lost` is set, and the run fails when it ends rather than report success.
    fn start<D: Database>(
        database: &D,
        tables: &Tables,
        process_id: &str,
        lease: LockLease,
    ) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let (database, tables, process_id) =
            (database.clone(), tables.clone(), process_id.to_owned());
        let flag = Arc::clone(&lost);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease.renew_every()).await;
                let renewed = database
                    .backend(SEAL)
                    .write_lock(
                        &tables,
                        LockWrite::Renew {
                            process_id: &process_id,
                        },
                    )
                    .await;
                // A failed request is retried at the next interval: the lease outlives a few.
                if let Ok(false) = renewed {
                    flag.store(true, Ordering::SeqCst);
                    return;
                }
            }
        });
        Self { task, lost }
    }

    /// Stops renewing; true if the lock was lost meanwhile.
    fn stop(self) -> bool {
        self.task.abort();
        self.lost.load(Ordering::SeqCst)
    }
}

impl<D: Database> LockGuard<D> {
    /// Waits for the lock up to `timeout`.
    pub(crate) async fn acquire(
        database: &D,
        tables: &Tables,
        timeout: Duration,
        lease: LockLease,
    ) -> Result<Self, Error> {
        Self::acquire_as(database, tables, timeout, lease, new_process_id(false)).await
    }

    /// Waits for the lock up to `timeout`, writing `process_id` into the row.
    async fn acquire_as(
        database: &D,
        tables: &Tables,
        timeout: Duration,
        lease: LockLease,
        process_id: String,
    ) -> Result<Self, Error> {
        // A replica refuses the lock row's writes anyway: say so before taking anything.
        if database
            .backend(SEAL)
            .is_read_only()
            .await
            .map_err(Error::database("asking whether the server is read-only"))?
        {
            return Err(Error::ReadOnlyServer {
                dialect: database.dialect().to_string(),
            });
        }
        let leased = database
            .backend(SEAL)
            .lock_is_leased(tables)
            .await
            .map_err(Error::database("asking how the lock is kept alive"))?;
        let started = Instant::now();
        // Where the lock is a lease, no session lock says whether the holder lives.
        let mut liveness = match leased {
            true => None,
            false => Some(
                database
                    .backend(SEAL)
                    .liveness(tables)
                    .await
                    .map_err(Error::database("opening the lock session"))?,
            ),
        };
        let mut delay = Duration::from_millis(20);
        let mut prepared = false;
        let mut races = RacesLost::default();
        // Where waiting leaves a trace (ClickHouse's claims), a wait cut short withdraws it.
        let mut waiting = leased.then(|| Waiting::new(database, tables, &process_id));
        // Whether this run has said that it waits (once, at the first wait).
        let mut announced = false;
        loop {
            let alive_holder = match liveness.as_mut() {
                Some(liveness) => !liveness
                    .try_lock()
                    .await
                    .map_err(Error::database("taking the liveness lock"))?,
                None => false,
            };
            if !alive_holder && !prepared {
                // The lock table and row (the history table is created by the holder, under
                // the lock). Holding the liveness lock serialises the DDL of concurrent jetbase
                // processes; without one, a process that loses a race creating them (a Galera
                // certification conflict, PostgreSQL's catalog) tries again.
                let outcome = database.backend(SEAL).prepare(tables).await.map(|()| true);
                prepared = races.judge(outcome, leased, "creating the lock table")?;
            }
            let expiry = leased.then_some(lease.expires_after());
            if prepared
                && !alive_holder
                && take_row(database, tables, &process_id, expiry, &mut races).await?
            {
                // A manual lock is never renewed: it is never taken over either.
                let renewal = (leased && !is_manual(&process_id))
                    .then(|| Renewal::start(database, tables, &process_id, lease));
                if let Some(waiting) = waiting.take() {
                    waiting.done();
                }
                events::lock_taken(announced.then(|| started.elapsed()));
                let guard = Self {
                    database: database.clone(),
                    tables: tables.clone(),
                    process_id,
                    liveness,
                    renewal,
                };
                // The history table is the holder's alone to create or extend.
                let prepared = database
                    .backend(SEAL)
                    .prepare_history(tables)
                    .await
                    .map_err(Error::database("creating the history table"));
                return match prepared {
                    Ok(()) => Ok(guard),
                    Err(error) => {
                        let _ = guard.release().await;
                        Err(error)
                    }
                };
            }
            if started.elapsed() >= timeout {
                let row = database
                    .backend(SEAL)
                    .read_lock(tables)
                    .await
                    .map_err(Error::database("reading the lock"))?
                    .unwrap_or(LockRow {
                        is_locked: false,
                        locked_at: None,
                        process_id: None,
                    });
                // Withdraws this process's claim where the lock is a queue of claims
                // (ClickHouse); elsewhere the row is not ours and nothing changes.
                if let Some(waiting) = waiting.take() {
                    waiting.done();
                }
                let _ = database
                    .backend(SEAL)
                    .write_lock(
                        tables,
                        LockWrite::Release {
                            process_id: &process_id,
                        },
                    )
                    .await;
                if let Some(liveness) = liveness {
                    liveness.unlock().await;
                }
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
            if !announced {
                announced = true;
                announce_wait(database, tables).await;
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
        let mut guard = Self::acquire_as(
            database,
            tables,
            timeout,
            LockLease::default(),
            new_process_id(true),
        )
        .await?;
        let process_id = std::mem::take(&mut guard.process_id);
        if let Some(liveness) = guard.liveness.take() {
            liveness.unlock().await;
        }
        Ok(process_id)
    }

    /// Ends a locked run: stores the history digest for the fast path (after a success), then
    /// releases the lock whatever happened. The run's own error comes first.
    pub(crate) async fn finish<T>(mut self, result: Result<T, Error>) -> Result<T, Error> {
        let mut result = result;
        if self.renewal.take().is_some_and(Renewal::stop) && result.is_ok() {
            result = Err(Error::LockLost {
                process_id: self.process_id.clone(),
            });
        }
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

    /// The `process_id` written into the lock row.
    pub(crate) fn process_id(&self) -> &str {
        &self.process_id
    }

    /// Frees the row and the liveness lock.
    pub(crate) async fn release(mut self) -> Result<(), Error> {
        if let Some(renewal) = self.renewal.take() {
            renewal.stop();
        }
        let result = self
            .database
            .backend(SEAL)
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
        // Released: nothing is left for `drop` to do.
        self.process_id.clear();
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
    let digest = crate::history::fast_path::stored_digest(&history);
    database
        .backend(SEAL)
        .store_history_digest(tables, digest.as_deref(), process_id)
        .await
        .map_err(Error::database("storing the history digest"))
}

/// Whether a `process_id` is a lock taken by hand with `jetbase lock`.
pub(crate) fn is_manual(process_id: &str) -> bool {
    process_id.starts_with(MANUAL_PREFIX)
}

/// Compare-and-set writes on the lock row (and the creation of the tables) that failed because
/// another process wrote at the same moment. Without a session lock to serialise the contenders
/// (Snowflake; a Galera cluster, whose nodes certify each commit against the others' and fail
/// the loser's with error 1213; PostgreSQL behind a transaction pooler, whose catalog refuses a
/// second `CREATE TABLE IF NOT EXISTS` of the same table at the same moment), the loser's
/// statement fails instead of changing nothing: that is a
/// lost race, tried again at the next poll; only a run of such failures is an error.
#[derive(Default)]
struct RacesLost(u32);

impl RacesLost {
    const LIMIT: u32 = 8;

    /// The outcome of a compare-and-set: a failure is a lost race while the limit lasts.
    fn judge(
        &mut self,
        outcome: Result<bool, crate::DatabaseError>,
        leased: bool,
        action: &'static str,
    ) -> Result<bool, Error> {
        match outcome {
            Ok(changed) => {
                self.0 = 0;
                Ok(changed)
            }
            Err(error)
                if leased
                    && self.0 < Self::LIMIT
                    && error.kind() != crate::DatabaseErrorKind::Connection =>
            {
                self.0 += 1;
                Ok(false)
            }
            Err(error) => Err(Error::database(action)(error)),
        }
    }
}

/// Tells the logs that the run waits for the lock, naming the holder and since when (read from
/// the lock row, only when someone listens; a failed read names no one).
async fn announce_wait<D: Database>(database: &D, tables: &Tables) {
    if !events::lock_wait_is_logged() {
        return;
    }
    let row = database
        .backend(SEAL)
        .read_lock(tables)
        .await
        .ok()
        .flatten();
    let row = row.filter(|row| row.is_locked);
    events::lock_waiting(
        row.as_ref().and_then(|row| row.process_id.as_deref()),
        row.as_ref().and_then(|row| row.locked_at.as_deref()),
    );
}

/// With the liveness lock held: takes the free row, or the row of a dead jetbase holder. With
/// `lease_expiry` (databases without session locks), a holder is dead when its lease expired.
async fn take_row<D: Database>(
    database: &D,
    tables: &Tables,
    process_id: &str,
    lease_expiry: Option<Duration>,
    races: &mut RacesLost,
) -> Result<bool, Error> {
    let leased = lease_expiry.is_some();
    let taken = database
        .backend(SEAL)
        .write_lock(tables, LockWrite::Take { process_id })
        .await;
    if races.judge(taken, leased, "taking the lock")? {
        return Ok(true);
    }
    let row = database
        .backend(SEAL)
        .read_lock(tables)
        .await
        .map_err(Error::database("reading the lock"))?;
    match row.and_then(|row| row.process_id.filter(|_| row.is_locked)) {
        // A write whose answer was lost (a failed request that did reach the server) took it.
        Some(holder) if holder == process_id => Ok(true),
        Some(holder) if can_take_over(&holder) => {
            let write = match lease_expiry {
                // Only if its lease expired: the database compares `locked_at` with its clock.
                Some(expiry) => LockWrite::TakeOverExpired {
                    process_id,
                    from: &holder,
                    lease_seconds: expiry.as_secs(),
                },
                // We hold the liveness lock, which a live jetbase holder would hold: it is gone.
                None => LockWrite::TakeOver {
                    process_id,
                    from: &holder,
                },
            };
            let taken = database.backend(SEAL).write_lock(tables, write).await;
            let taken = races.judge(taken, leased, "taking over the lock")?;
            if taken {
                events::lock_taken_over(&holder, leased);
                // The dead holder's run session may still be running a statement, or hold an
                // open transaction, and the table locks that go with it: end it, where the user
                // may, instead of letting this run wait behind it. (Where the lock is a lease,
                // a holder that merely stalled past it lost the lock: its work must not commit
                // either.)
                let _ = database.backend(SEAL).end_sessions_of(&holder).await;
            }
            Ok(taken)
        }
        _ => Ok(false),
    }
}

impl<D: Database> Drop for LockGuard<D> {
    fn drop(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.stop();
        }
        // Released already (or handed over by `acquire_manual`).
        if self.process_id.is_empty() {
            return;
        }
        // (None where the lock is a lease.)
        let liveness = self.liveness.take();
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
                .backend(SEAL)
                .write_lock(
                    &tables,
                    LockWrite::Release {
                        process_id: &process_id,
                    },
                )
                .await;
            if let Some(liveness) = liveness {
                liveness.unlock().await;
            }
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
