//! MySQL and MariaDB through sqlx's `MySqlPool` (compiled once per sqlx major). The liveness
//! lock is `GET_LOCK` with a zero timeout, polled on a connection of its own; the server frees
//! it when that connection dies.

use jetbase_core::{AppliedMigration, Dialect};

use super::{sqlx, text};
use crate::backend::mysql::liveness_lock_name;
use crate::backend::tables::Tables;
use crate::backend::{BoxFuture, DatabaseError, LivenessLock};
use sqlx::Connection as _;

type Db = sqlx::MySql;
type Pool = sqlx::MySqlPool;
type Connection = sqlx::MySqlConnection;
const DIALECT: Dialect = Dialect::MySql;
/// DDL commits by itself here: one transaction around the run would hold nothing together.
const RUN_IN_ONE_TRANSACTION: bool = false;

#[path = "introspect.rs"]
mod introspect;
#[path = "../sqlx/runner.rs"]
mod runner;

/// MySQL/MariaDB has no rehearsal (its DDL commits by itself).
#[allow(clippy::unused_async)]
async fn sandbox_copy(_pool: &Pool) -> Result<Option<crate::backend::SandboxCopy>, sqlx::Error> {
    Ok(None)
}

/// A named lock held on a connection that is not returned to the pool.
pub struct Liveness {
    connection: Connection,
    /// `GET_LOCK`'s name, as SQL (see `liveness_lock_name`).
    name: String,
    /// Taken on an earlier try: named locks stack, and each further take would need a
    /// release of its own.
    held: bool,
}

impl LivenessLock for Liveness {
    fn try_lock(&mut self) -> BoxFuture<'_, Result<bool, DatabaseError>> {
        Box::pin(async move {
            if self.held {
                return Ok(true);
            }
            let sql = format!("SELECT CAST(GET_LOCK({}, 0) AS SIGNED)", self.name);
            let taken: Option<i64> = sqlx::query_scalar(text(&sql))
                .fetch_one(&mut self.connection)
                .await
                .map_err(runner::database_error)?;
            self.held = taken == Some(1);
            Ok(self.held)
        })
    }

    fn unlock(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let sql = format!("SELECT RELEASE_LOCK({})", self.name);
            let _ = sqlx::query(text(&sql)).execute(&mut self.connection).await;
            let _ = self.connection.close().await;
        })
    }
}

async fn liveness(pool: &Pool, tables: &Tables) -> Result<Liveness, sqlx::Error> {
    Ok(Liveness {
        connection: pool.acquire().await?.detach(),
        name: liveness_lock_name(tables.custom_lock_name()),
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
