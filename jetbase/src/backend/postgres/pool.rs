//! PostgreSQL through sqlx's `PgPool` (compiled once per sqlx major). The liveness lock is a
//! session-level advisory lock, polled with `pg_try_advisory_lock` on a connection of its own.

use jetbase_core::{AppliedMigration, Dialect};

use super::{sqlx, text};
use crate::backend::tables::Tables;
use crate::backend::{BoxFuture, DatabaseError, LivenessLock};
use sqlx::Connection as _;

type Db = sqlx::Postgres;
type Pool = sqlx::PgPool;
type Connection = sqlx::PgConnection;
const DIALECT: Dialect = Dialect::Postgres;
/// Each migration is its own transaction, sent with its history write in one round trip.
const RUN_IN_ONE_TRANSACTION: bool = false;

#[path = "introspect.rs"]
mod introspect;
#[path = "../sqlx/runner.rs"]
mod runner;

/// A rehearsal runs on PostgreSQL itself, in a transaction rolled back at the end.
#[allow(clippy::unused_async)]
async fn sandbox_copy(_pool: &Pool) -> Result<Option<crate::backend::SandboxCopy>, sqlx::Error> {
    Ok(None)
}

/// An advisory lock held on a connection that is not returned to the pool.
pub struct Liveness {
    connection: Connection,
    key: i64,
    /// Taken on an earlier try: advisory locks stack, and each further take would need an
    /// unlock of its own, the lock then outliving `unlock` until the session ends.
    held: bool,
}

impl LivenessLock for Liveness {
    fn try_lock(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(async move {
            if self.held {
                return Ok(true);
            }
            let taken: bool = sqlx::query_scalar(text("SELECT pg_try_advisory_lock($1)"))
                .bind(self.key)
                .fetch_one(&mut self.connection)
                .await
                .map_err(runner::database_error)?;
            self.held = taken;
            Ok(taken)
        })
    }

    fn unlock(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let _ = sqlx::query(text("SELECT pg_advisory_unlock($1)"))
                .bind(self.key)
                .execute(&mut self.connection)
                .await;
            let _ = self.connection.close().await;
        })
    }
}

async fn liveness(pool: &Pool, tables: &Tables) -> Result<Liveness, sqlx::Error> {
    Ok(Liveness {
        connection: pool.acquire().await?.detach(),
        key: crate::backend::postgres::advisory_key(
            tables.schema.as_deref(),
            tables.custom_lock_name(),
        ),
        held: false,
    })
}

async fn read_history(
    pool: &Pool,
    tables: &Tables,
) -> Result<Option<Vec<AppliedMigration>>, DatabaseError> {
    runner::read_history_rows(pool, tables).await
}

async fn highest_version(
    connection: &mut Connection,
    tables: &Tables,
    own_columns: bool,
) -> Result<Option<i64>, DatabaseError> {
    runner::stream_highest_version(connection, tables, own_columns).await
}
