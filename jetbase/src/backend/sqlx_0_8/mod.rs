//! The sqlx backend compiled against sqlx 0.8 (feature `sqlx-0_8`): each engine's `pool.rs` and
//! `introspect.rs`, and through them `sqlx/runner.rs`, see this module's `sqlx`.

pub(crate) use ::sqlx_0_8 as sqlx;

/// SQL text built at run time, as sqlx 0.8 takes it: a plain `&str`.
pub(crate) fn text(sql: &str) -> &str {
    sql
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
