//! MySQL and MariaDB: their spelling of the history and lock tables (here, driver-free), the sqlx
//! pool (`pool.rs`: `GET_LOCK` as the liveness lock) and the catalog queries (`introspect.rs`).
//! `pool.rs` and `introspect.rs` are compiled once per sqlx major, from `backend/sqlx_0_9` and
//! `backend/sqlx_0_8`.

use jetbase_core::Dialect;

use super::DatabaseErrorKind;
use super::tables::EngineSql;

/// MySQL's and MariaDB's SQL.
pub(crate) struct MySqlSql;

impl EngineSql for MySqlSql {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn classify(&self, code: Option<&str>, _message: &str) -> DatabaseErrorKind {
        match code {
            // ER_NO_SUCH_TABLE
            Some("42S02") => DatabaseErrorKind::MissingTable,
            // ER_BAD_FIELD_ERROR
            Some("42S22") => DatabaseErrorKind::MissingColumn,
            Some(code) if code.starts_with("08") => DatabaseErrorKind::Connection,
            _ => DatabaseErrorKind::Query,
        }
    }

    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP(6)"
    }

    fn integer_cast(&self) -> &'static str {
        "SIGNED"
    }

    fn text_cast(&self) -> &'static str {
        "CHAR"
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("CURRENT_TIMESTAMP(6) - INTERVAL {seconds} SECOND")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed INT AUTO_INCREMENT PRIMARY KEY,\n    \
             version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
             migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6) NOT NULL,\n    \
             checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT NULL,\n    success BOOLEAN NULL\n)"
        )
    }

    fn create_lock(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    id INT PRIMARY KEY CHECK (id = 1),\n    \
             is_locked BOOLEAN NOT NULL DEFAULT FALSE,\n    locked_at TIMESTAMP(6) NULL,\n    process_id VARCHAR(36),\n    \
             history_digest VARCHAR(100)\n)"
        )
    }

    fn init_lock_row(&self, table: &str) -> String {
        format!("INSERT IGNORE INTO {table} (id, is_locked) VALUES (1, FALSE)")
    }

    fn columns(&self, table: &str, _schema: Option<&str>) -> String {
        format!(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = '{table}'"
        )
    }
}

/// The name of the `GET_LOCK` lock: server-wide in MySQL, so it names the database.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) const LOCK_NAME: &str = "CONCAT('jetbase:', DATABASE())";
