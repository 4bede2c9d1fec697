//! The sqlx backend compiled against sqlx 0.9 (feature `sqlx-0_9`, on by default): each engine's `pool.rs` and
//! `introspect.rs`, and through them `sqlx/runner.rs`, see this module's `sqlx`.

pub(crate) use ::sqlx;

/// SQL text built at run time, as sqlx 0.9 takes it: it asks for `AssertSqlSafe` around text
/// that is not a literal (jetbase quotes every name and binds every value).
pub(crate) fn text(sql: &str) -> sqlx::AssertSqlSafe<&str> {
    sqlx::AssertSqlSafe(sql)
}

#[cfg(feature = "mysql")]
#[path = "../mysql/pool.rs"]
mod mysql;
#[cfg(feature = "postgres")]
#[path = "../postgres/pool.rs"]
mod postgres;
#[cfg(feature = "sqlite")]
#[path = "../sqlite/pool.rs"]
mod sqlite;
