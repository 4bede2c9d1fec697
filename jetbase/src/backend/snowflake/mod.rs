//! Snowflake: its spelling of the history and lock tables (here, driver-free, as Python Jetbase
//! 0.18.1 creates them), and with feature `snowflake` the client: the URL and login
//! (`options.rs`, `key_pair.rs`), the HTTP protocol of Snowflake's connectors (`protocol.rs`),
//! Arrow results (`arrow.rs`) and the [`Database`](super::Database) (`pool.rs`).
//!
//! Snowflake commits DDL by itself and has no lock that dies with its session: every migration
//! runs as a no-transaction one does elsewhere (its history row first, marked unfinished, then
//! its statements, then the row completed), and the migration lock is a lease (see `lock/mod.rs`).

use jetbase_core::Dialect;

use super::DatabaseErrorKind;
use super::tables::EngineSql;

#[cfg(feature = "snowflake")]
mod arrow;
#[cfg(feature = "snowflake")]
mod key_pair;
#[cfg(feature = "snowflake")]
pub(crate) mod options;
#[cfg(feature = "snowflake")]
pub(crate) mod pool;
#[cfg(feature = "snowflake")]
mod protocol;

/// Snowflake's SQL.
pub(crate) struct SnowflakeSql;

impl EngineSql for SnowflakeSql {
    fn dialect(&self) -> Dialect {
        Dialect::Snowflake
    }

    /// Snowflake's error codes: 002003 "does not exist or not authorized", 000904 "invalid
    /// identifier"; SQLSTATE 42S02 and 42S22 where a stand-in gives those; 390xxx are login and
    /// session errors.
    fn classify(&self, code: Option<&str>, message: &str) -> DatabaseErrorKind {
        match code {
            Some("002003" | "42S02") => DatabaseErrorKind::MissingTable,
            Some("000904" | "42S22") => DatabaseErrorKind::MissingColumn,
            Some(code) if code.starts_with("390") || code.starts_with("08") => {
                DatabaseErrorKind::Connection
            }
            // Some stand-ins report a missing column as a binder error without a code of its own.
            _ if message.contains("Referenced column") && message.contains("not found") => {
                DatabaseErrorKind::MissingColumn
            }
            _ => DatabaseErrorKind::Query,
        }
    }

    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP()"
    }

    fn text_cast(&self) -> &'static str {
        "VARCHAR"
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("DATEADD(second, -{seconds}, CURRENT_TIMESTAMP())")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed INT AUTOINCREMENT PRIMARY KEY,\n    \
             version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
             migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP() NOT NULL,\n    \
             checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT,\n    success BOOLEAN\n)"
        )
    }

    fn create_lock(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    id INTEGER PRIMARY KEY,\n    \
             is_locked BOOLEAN NOT NULL DEFAULT FALSE,\n    locked_at TIMESTAMP_NTZ,\n    process_id VARCHAR(36),\n    \
             history_digest VARCHAR(100)\n)"
        )
    }

    fn init_lock_row(&self, table: &str) -> String {
        format!(
            "MERGE INTO {table} AS target\nUSING (SELECT 1 AS id, FALSE AS is_locked) AS source\n\
             ON target.id = source.id\nWHEN NOT MATCHED THEN\n    INSERT (id, is_locked) VALUES (source.id, source.is_locked)"
        )
    }

    /// Unquoted names are stored upper-cased.
    fn columns(&self, table: &str, _schema: Option<&str>) -> String {
        format!(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_schema = CURRENT_SCHEMA() AND table_name = '{}'",
            table.to_ascii_uppercase()
        )
    }

    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "BIGINT",
            "history_digest" => "VARCHAR(100)",
            _ => "BOOLEAN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::tables::Tables;

    #[test]
    fn tables_are_python_jetbases() {
        let tables = Tables::new(Dialect::Snowflake, Some("ignored"));
        assert_eq!(tables.schema, None, "Snowflake's schema comes from the URL");
        let create = tables.create_migrations();
        assert!(create.contains("order_executed INT AUTOINCREMENT PRIMARY KEY"));
        assert!(create.contains("applied_at TIMESTAMP_NTZ DEFAULT CURRENT_TIMESTAMP() NOT NULL"));
        assert!(
            tables
                .init_lock_row()
                .starts_with("MERGE INTO \"JETBASE_LOCK\" AS target")
        );
        assert!(
            tables
                .take_over_expired_lock(60)
                .contains("locked_at < DATEADD(second, -60, CURRENT_TIMESTAMP())")
        );
    }

    #[test]
    fn errors_are_classified_by_snowflakes_codes() {
        let sql = SnowflakeSql;
        assert_eq!(
            sql.classify(
                Some("002003"),
                "Object 'X' does not exist or not authorized."
            ),
            DatabaseErrorKind::MissingTable
        );
        assert_eq!(
            sql.classify(Some("000904"), "invalid identifier 'SUCCESS'"),
            DatabaseErrorKind::MissingColumn
        );
        assert_eq!(
            sql.classify(Some("390112"), "Your session has expired."),
            DatabaseErrorKind::Connection
        );
        assert_eq!(
            sql.classify(Some("001003"), "syntax error"),
            DatabaseErrorKind::Query
        );
    }
}
