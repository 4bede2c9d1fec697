//! PostgreSQL: `sqlx::PgPool`. The liveness lock is a session-level advisory lock, polled with
//! `pg_try_advisory_lock` on a connection of its own.

use jetbase_core::Dialect;
use sqlx::{Connection as _, PgConnection, PgPool};

use super::sql::Tables;
use super::{LivenessLock, forward_database_methods, shared_driver};

use self::read_history_rows as read_history;

shared_driver!(PgPool, PgConnection, Dialect::Postgres);

/// An advisory lock held on a connection that is not returned to the pool.
pub struct PgLiveness {
    connection: PgConnection,
    key: i64,
}

impl LivenessLock for PgLiveness {
    async fn try_lock(&mut self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(self.key)
            .fetch_one(&mut self.connection)
            .await
    }

    async fn unlock(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}

/// A stable 64-bit key per schema (FNV-1a), so that two schemas migrate independently.
fn advisory_key(tables: &Tables) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let name = format!("jetbase:{}", tables.schema.as_deref().unwrap_or(""));
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

impl super::Database for PgPool {
    type Session = super::Session<sqlx::Postgres>;
    type Liveness = PgLiveness;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn liveness(&self, tables: &Tables) -> Result<PgLiveness, sqlx::Error> {
        Ok(PgLiveness {
            connection: self.acquire().await?.detach(),
            key: advisory_key(tables),
        })
    }

    forward_database_methods!();
}
