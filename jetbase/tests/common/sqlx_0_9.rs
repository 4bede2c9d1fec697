//! The test databases through sqlx 0.9.

pub use super::{
    Database, Dialect, Query, TestDb, int_type, server_url, unique_name, with_database,
};
pub use ::sqlx;

/// Dynamic SQL, as sqlx 0.9 takes it.
pub fn text(sql: &str) -> sqlx::AssertSqlSafe<&str> {
    sqlx::AssertSqlSafe(sql)
}

#[path = "pools.rs"]
mod pools;
#[allow(unused_imports)]
pub use pools::{galera, mysql, pgbouncer, postgres, postgres18, sqlite};
