//! Trying again after a race lost to another process, on the databases without a session lock
//! to serialise their writers (the warehouses): processes that start together run the same
//! idempotent DDL at once, and the one that loses on the catalog tries again; a lock holder's
//! own write that conflicted with a contender's failed attempt is written again.

use std::future::Future;
use std::time::Duration;

use super::DatabaseError;

/// How often and how patiently to try again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Patience {
    /// Tries after the first.
    pub retries: u32,
    /// The pause before the `n`th retry is `n` steps, plus a random part of one step so that
    /// processes which lost together do not try again together.
    pub step: Duration,
}

/// Table creation racing its twin in another process (four more tries, 50 ms steps).
pub(crate) const TABLE_CREATION: Patience = Patience {
    retries: 4,
    step: Duration::from_millis(50),
};

/// Runs `attempt` again while it fails with an error `lost_race` accepts, up to
/// `patience.retries` more times, pausing a little longer each time.
pub(crate) async fn retrying<T, Attempt, Done>(
    patience: Patience,
    lost_race: impl Fn(&DatabaseError) -> bool,
    attempt: Attempt,
) -> Result<T, DatabaseError>
where
    Attempt: Fn() -> Done,
    Done: Future<Output = Result<T, DatabaseError>>,
{
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Err(error) if tries < patience.retries && lost_race(&error) => {
                tries += 1;
                let jitter = patience.step.mul_f64(fastrand::f64());
                tokio::time::sleep(patience.step * tries + jitter).await;
            }
            result => return result,
        }
    }
}

/// A query error on table creation: the catalog write conflict of a race lost to a twin.
pub(crate) fn is_query_error(error: &DatabaseError) -> bool {
    error.kind() == super::DatabaseErrorKind::Query
}
