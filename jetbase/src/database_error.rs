//! [`DatabaseError`]: what a database said, in jetbase's own type, whatever the driver.

use std::error::Error as StdError;
use std::fmt;

/// What kind of failure a [`DatabaseError`] is, as far as jetbase decides anything on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DatabaseErrorKind {
    /// A table (or the schema holding it) does not exist.
    MissingTable,
    /// A column does not exist.
    MissingColumn,
    /// The connection could not be made, was lost, or the pool is closed.
    Connection,
    /// A value read back could not be decoded.
    Decode,
    /// A file beside the database could not be used (SQLite's lock file).
    Io,
    /// The database cannot do what was asked (make-migrations' catalog reading on Snowflake).
    Unsupported,
    /// A statement gave up waiting for a lock held by another session: PostgreSQL's
    /// `lock_timeout` (55P03), MySQL/MariaDB's lock wait timeouts (1205), SQLite's busy timeout
    /// (`SQLITE_BUSY`). What a migration's `retries` try again.
    LockTimeout,
    /// Anything else the database reported: a syntax error, a constraint, a permission.
    Query,
}

/// An error from the database or its driver: a [`DatabaseErrorKind`] plus the driver's own
/// error as [`source`](StdError::source), so that callers can still downcast to it:
///
/// ```
/// # #[cfg(feature = "sqlx-0_9")] {
/// # fn check(error: &jetbase::Error) {
/// use std::error::Error as _;
///
/// if let Some(driver) = error.source().and_then(|e| e.source()) {
///     if let Some(sqlx_error) = driver.downcast_ref::<jetbase::sqlx::Error>() {
///         eprintln!("sqlx said: {sqlx_error}");
///     }
/// }
/// # }
/// # }
/// ```
#[derive(Debug)]
pub struct DatabaseError {
    kind: DatabaseErrorKind,
    source: Box<dyn StdError + Send + Sync + 'static>,
    /// What to show instead of the driver's own text, where that misleads.
    message: Option<String>,
}

impl DatabaseError {
    /// An error of `kind`, caused by the driver's `source`.
    pub fn new(
        kind: DatabaseErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
            message: None,
        }
    }

    /// The same error, shown as `message` (the driver's error stays the source).
    #[cfg_attr(
        not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn shown_as(mut self, message: String) -> Self {
        self.message = Some(message);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> DatabaseErrorKind {
        self.kind
    }

    /// The driver's error.
    pub fn driver_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.source.as_ref()
    }

    /// The driver's error as `E` (for example `sqlx::Error`), if it is one.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.source.downcast_ref::<E>()
    }

    pub(crate) fn is_missing_table(&self) -> bool {
        self.kind == DatabaseErrorKind::MissingTable
    }

    #[cfg_attr(
        not(any(
            feature = "postgres",
            feature = "sqlite",
            feature = "mysql",
            feature = "snowflake",
            feature = "clickhouse",
            feature = "databricks"
        )),
        allow(dead_code)
    )]
    pub(crate) fn is_missing_column(&self) -> bool {
        self.kind == DatabaseErrorKind::MissingColumn
    }
}

impl fmt::Display for DatabaseError {
    /// The driver's message, as it gave it (where it misleads, as jetbase words it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => f.write_str(message),
            None => fmt::Display::fmt(&self.source, f),
        }
    }
}

impl StdError for DatabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_error_stays_reachable() {
        let io = std::io::Error::other("disk full");
        let error = DatabaseError::new(DatabaseErrorKind::Io, io);
        assert_eq!(error.kind(), DatabaseErrorKind::Io);
        assert_eq!(error.to_string(), "disk full");
        assert!(error.downcast_ref::<std::io::Error>().is_some());
        assert!(
            error
                .source()
                .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        );
    }
}
