//! MySQL and MariaDB: `sqlx::MySqlPool`. The liveness lock is `GET_LOCK` with a zero timeout,
//! polled on a connection of its own; the server frees it when that connection dies.

use jetbase_core::Dialect;
use sqlx::{Connection as _, MySqlConnection, MySqlPool};

use super::sql::Tables;
use super::{LivenessLock, forward_database_methods, shared_driver};

use self::read_history_rows as read_history;

shared_driver!(MySqlPool, MySqlConnection, Dialect::MySql);

/// A named lock held on a connection that is not returned to the pool.
pub struct MySqlLiveness {
    connection: MySqlConnection,
}

/// The lock name: server-wide in MySQL, so it names the database.
const LOCK_NAME: &str = "CONCAT('jetbase:', DATABASE())";

impl LivenessLock for MySqlLiveness {
    async fn try_lock(&mut self) -> Result<bool, sqlx::Error> {
        let taken: Option<i64> =
            sqlx::query_scalar(&format!("SELECT CAST(GET_LOCK({LOCK_NAME}, 0) AS SIGNED)"))
                .fetch_one(&mut self.connection)
                .await?;
        Ok(taken == Some(1))
    }

    async fn unlock(mut self) {
        let _ = sqlx::query(&format!("SELECT RELEASE_LOCK({LOCK_NAME})"))
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}

impl super::Database for MySqlPool {
    type Session = super::Session<sqlx::MySql>;
    type Liveness = MySqlLiveness;

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn liveness(&self, _tables: &Tables) -> Result<MySqlLiveness, sqlx::Error> {
        Ok(MySqlLiveness {
            connection: self.acquire().await?.detach(),
        })
    }

    forward_database_methods!();
}
