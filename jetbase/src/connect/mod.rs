//! Reaching a database: URLs (their databases, secrets masked), the pooler a server is behind,
//! and the blocking API for programs without an async runtime.

#[cfg(all(
    feature = "blocking",
    any(feature = "postgres", feature = "sqlite", feature = "mysql")
))]
pub mod blocking;
pub(crate) mod pooler;
pub mod url;
