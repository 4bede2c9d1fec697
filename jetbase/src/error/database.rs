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
    /// The driver's error, or a [`Reworded`] holding it.
    source: Box<dyn StdError + Send + Sync + 'static>,
}

/// A driver's error shown in jetbase's words, where the driver's own text misleads (kept
/// inside the one box, so that every `Result` carrying a `DatabaseError` stays small).
#[derive(Debug)]
struct Reworded {
    message: String,
    driver: Box<dyn StdError + Send + Sync + 'static>,
}

impl fmt::Display for Reworded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Reworded {}

impl DatabaseError {
    /// An error of `kind`, caused by the driver's `source`.
    pub fn new(
        kind: DatabaseErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// An error of `kind` from a driver whose error holds the database's `server_message`:
    /// shown as the driver shows it, without the ` at line N` sqlx appends to a PostgreSQL
    /// error (the line of the server's own source file that raised it, which reads as a line of
    /// the migration).
    #[cfg_attr(
        not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn from_driver(
        kind: DatabaseErrorKind,
        driver: impl StdError + Send + Sync + 'static,
        server_message: Option<&str>,
    ) -> Self {
        let shown = driver.to_string();
        let without_line = server_message
            .filter(|message| !message.is_empty())
            .and_then(|message| {
                let end = shown.rfind(message)? + message.len();
                let line = shown[end..].strip_prefix(" at line ")?;
                (!line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| shown[..end].to_owned())
            });
        let error = Self::new(kind, driver);
        match without_line {
            Some(message) => error.shown_as(message),
            None => error,
        }
    }

    /// The same error, shown as `message` (the driver's error stays the source).
    fn shown_as(self, message: String) -> Self {
        let driver = match self.source.downcast::<Reworded>() {
            Ok(reworded) => reworded.driver,
            Err(driver) => driver,
        };
        Self {
            kind: self.kind,
            source: Box::new(Reworded { message, driver }),
        }
    }

    /// The driver's own error, under a rewording if there is one.
    fn driver(&self) -> &(dyn StdError + Send + Sync + 'static) {
        match self.source.downcast_ref::<Reworded>() {
            Some(reworded) => reworded.driver.as_ref(),
            None => self.source.as_ref(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> DatabaseErrorKind {
        self.kind
    }

    /// The driver's error.
    pub fn driver_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.driver()
    }

    /// The driver's error as `E` (for example `sqlx::Error`), if it is one.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.driver().downcast_ref::<E>()
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
        fmt::Display::fmt(&self.source, f)
    }
}

impl StdError for DatabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.driver())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_source_line_is_left_out_and_nothing_else() {
        let pg = std::io::Error::other(
            "error returned from database: relation \"x\" does not exist at line 1164",
        );
        let error = DatabaseError::from_driver(
            DatabaseErrorKind::Query,
            pg,
            Some("relation \"x\" does not exist"),
        );
        assert_eq!(
            error.to_string(),
            "error returned from database: relation \"x\" does not exist"
        );
        assert!(
            error.downcast_ref::<std::io::Error>().is_some(),
            "the driver's error stays"
        );
        // MySQL's own message ends with "at line 1", a line of the statement: kept.
        let mysql = std::io::Error::other("1064 (42000): syntax error near 'x' at line 1");
        let error = DatabaseError::from_driver(
            DatabaseErrorKind::Query,
            mysql,
            Some("syntax error near 'x' at line 1"),
        );
        assert_eq!(
            error.to_string(),
            "1064 (42000): syntax error near 'x' at line 1"
        );
    }

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
