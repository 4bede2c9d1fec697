//! Retrying the table creation of the databases without a session lock to serialise it (the
//! warehouses): processes that start together run the same idempotent DDL at once, and the one
//! that loses a race with its twin on the catalog (a write conflict) tries again.

use std::future::Future;
use std::time::Duration;

use super::{DatabaseError, DatabaseErrorKind};

/// Runs `attempt` again after a query error, up to four times, pausing a little longer each time.
pub(crate) async fn retrying<Attempt, Done>(attempt: Attempt) -> Result<(), DatabaseError>
where
    Attempt: Fn() -> Done,
    Done: Future<Output = Result<(), DatabaseError>>,
{
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Err(error) if tries < 4 && error.kind() == DatabaseErrorKind::Query => {
                tries += 1;
                tokio::time::sleep(pause(tries)).await;
            }
            result => return result,
        }
    }
}

/// A pause before another try, growing with `tries` and spread by process.
fn pause(tries: u32) -> Duration {
    let jitter = u64::from(std::process::id() % 7) * 10;
    Duration::from_millis(50 * u64::from(tries) + jitter)
}
