//! The test databases through sqlx 0.8 (feature `sqlx-0_8`).

pub use super::{
    Database, Dialect, Query, TestDb, int_type, server_url, unique_name, with_database,
};
pub use ::sqlx_0_8 as sqlx;

/// Dynamic SQL, as sqlx 0.8 takes it.
pub fn text(sql: &str) -> &str {
    sql
}

#[path = "pools.rs"]
mod pools;
#[allow(unused_imports)]
pub use pools::{mysql, postgres, sqlite};
