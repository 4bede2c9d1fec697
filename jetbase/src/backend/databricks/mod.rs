//! Databricks: its spelling of the history and lock tables (here, driver-free, as Python Jetbase
//! 0.18.1 creates them), and with feature `databricks` the client: the URL (`options.rs`), the
//! SQL Statement Execution API 2.0 (`api.rs`) and the [`Database`](super::Database) (`pool.rs`).
//!
//! Each statement commits by itself and no lock dies with a session: every migration runs
//! row-first (see `row_first.rs`) and the migration lock is a lease (see `lock/mod.rs`).

use jetbase_core::Dialect;

use super::DatabaseErrorKind;
use super::tables::EngineSql;

#[cfg(feature = "databricks")]
mod api;
#[cfg(feature = "databricks")]
pub(crate) mod options;
#[cfg(feature = "databricks")]
pub(crate) mod pool;

/// Databricks' SQL (Spark SQL).
pub(crate) struct DatabricksSql;

impl EngineSql for DatabricksSql {
    fn dialect(&self) -> Dialect {
        Dialect::Databricks
    }

    /// By SQLSTATE (Databricks reports it with every error class), else by the error class at
    /// the start of the message, else by the API's error code.
    fn classify(&self, code: Option<&str>, message: &str) -> DatabaseErrorKind {
        let class = message
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .map_or("", |(class, _)| class);
        match code {
            // TABLE_OR_VIEW_NOT_FOUND, SCHEMA_NOT_FOUND (the schema holding the table).
            Some("42P01" | "42704") => DatabaseErrorKind::MissingTable,
            // UNRESOLVED_COLUMN.
            Some("42703") => DatabaseErrorKind::MissingColumn,
            Some(code) if code.starts_with("08") => DatabaseErrorKind::Connection,
            Some(
                "UNAUTHENTICATED"
                | "PERMISSION_DENIED"
                | "TEMPORARILY_UNAVAILABLE"
                | "WORKSPACE_TEMPORARILY_UNAVAILABLE"
                | "SERVICE_UNDER_MAINTENANCE",
            ) => DatabaseErrorKind::Connection,
            _ if class == "TABLE_OR_VIEW_NOT_FOUND" || class == "SCHEMA_NOT_FOUND" => {
                DatabaseErrorKind::MissingTable
            }
            _ if class.starts_with("UNRESOLVED_COLUMN") => DatabaseErrorKind::MissingColumn,
            _ => DatabaseErrorKind::Query,
        }
    }

    /// `:p1`, `:p2`...: the API binds parameters by name.
    fn placeholder(&self, n: usize) -> String {
        format!(":p{n}")
    }

    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP()"
    }

    fn text_cast(&self) -> &'static str {
        "STRING"
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("CURRENT_TIMESTAMP() - INTERVAL {seconds} SECONDS")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed BIGINT GENERATED ALWAYS AS IDENTITY,\n    \
             version STRING,\n    description STRING NOT NULL,\n    filename STRING NOT NULL,\n    \
             migration_type STRING NOT NULL,\n    applied_at TIMESTAMP NOT NULL,\n    \
             checksum STRING NOT NULL,\n    execution_ms BIGINT,\n    success BOOLEAN\n)"
        )
    }

    fn create_lock(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    id INT,\n    is_locked BOOLEAN NOT NULL,\n    \
             locked_at TIMESTAMP,\n    process_id STRING,\n    history_digest STRING\n)"
        )
    }

    fn init_lock_row(&self, table: &str) -> String {
        format!(
            "MERGE INTO {table} AS target\nUSING (SELECT 1 AS id, FALSE AS is_locked) AS source\n\
             ON target.id = source.id\nWHEN NOT MATCHED THEN\n    INSERT (id, is_locked) VALUES (source.id, source.is_locked)"
        )
    }

    /// `DESCRIBE TABLE`: the column names first (then, after a `#` row, partitioning).
    fn columns(&self, table: &str, _schema: Option<&str>) -> String {
        format!("DESCRIBE TABLE {table}")
    }

    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "BIGINT",
            "history_digest" => "STRING",
            _ => "BOOLEAN",
        }
    }

    /// `applied_at` has no default here (as in Python Jetbase's table): the row sets it.
    fn insert_row(&self, table: &str, columns: &str, values: &str) -> String {
        format!(
            "INSERT INTO {table} ({columns}, applied_at) VALUES ({values}, {})",
            self.now()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::tables::Tables;

    #[test]
    fn tables_are_python_jetbases() {
        let tables = Tables::new(Dialect::Databricks, Some("ignored"));
        assert_eq!(tables.schema, None, "Databricks' schema comes from the URL");
        let create = tables.create_migrations();
        assert!(create.contains("order_executed BIGINT GENERATED ALWAYS AS IDENTITY"));
        assert!(create.contains("applied_at TIMESTAMP NOT NULL"));
        assert!(
            tables
                .row_write(
                    &crate::backend::RowWrite::Insert {
                        version: Some("1"),
                        description: "first",
                        filename: "V1__first.sql",
                        kind: jetbase_core::MigrationKind::Versioned,
                        checksum: "abc",
                        rollback: None,
                    },
                    None,
                    false
                )
                .0
                .ends_with("VALUES (:p1, :p2, :p3, :p4, :p5, :p6, :p7, CURRENT_TIMESTAMP())")
        );
        assert!(
            tables
                .take_over_expired_lock(60)
                .contains("locked_at < CURRENT_TIMESTAMP() - INTERVAL 60 SECONDS")
        );
    }

    #[test]
    fn errors_are_classified_by_sqlstate_and_error_class() {
        let sql = DatabricksSql;
        let missing =
            "[TABLE_OR_VIEW_NOT_FOUND] The table or view `jetbase_migrations` cannot be found.";
        assert_eq!(
            sql.classify(Some("42P01"), missing),
            DatabaseErrorKind::MissingTable
        );
        assert_eq!(sql.classify(None, missing), DatabaseErrorKind::MissingTable);
        assert_eq!(
            sql.classify(
                Some("42703"),
                "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column ... `success` cannot be resolved."
            ),
            DatabaseErrorKind::MissingColumn
        );
        assert_eq!(
            sql.classify(Some("UNAUTHENTICATED"), "Invalid access token."),
            DatabaseErrorKind::Connection
        );
        assert_eq!(
            sql.classify(Some("42601"), "[PARSE_SYNTAX_ERROR] Syntax error"),
            DatabaseErrorKind::Query
        );
    }
}
