//! SQLite: its spelling of the history and lock tables (here, driver-free), its sqlx pool
//! (`pool.rs`: an OS file lock beside the database as the liveness lock, the history read as one
//! JSON value) and its catalog queries (`introspect.rs`). `pool.rs` and `introspect.rs` are
//! compiled once per sqlx major, from `backend/sqlx_0_9` and `backend/sqlx_0_8`.

use jetbase_core::{Dialect, RunLimits};

use super::DatabaseErrorKind;
use super::tables::{EngineSql, LimitsSql};

/// SQLite's SQL.
pub(crate) struct SqliteSql;

/// SQLite's clock, in milliseconds, as its default `applied_at` writes it.
const NOW: &str = "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')";

/// The busy timeout sqlx gives SQLite connections, which a migration's own is reset to.
const SQLX_BUSY_TIMEOUT_MS: u64 = 5_000;

impl EngineSql for SqliteSql {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    /// SQLite has no SQLSTATE: its messages are stable and say what is missing.
    fn classify(&self, _code: Option<&str>, message: &str) -> DatabaseErrorKind {
        if message.contains("no such table") {
            DatabaseErrorKind::MissingTable
        } else if message.contains("no such column") {
            DatabaseErrorKind::MissingColumn
        } else if message.contains("database is locked")
            || message.contains("database table is locked")
        {
            // SQLITE_BUSY (the busy timeout ran out) and SQLITE_LOCKED.
            DatabaseErrorKind::LockTimeout
        } else {
            DatabaseErrorKind::Query
        }
    }

    /// The busy timeout: how long a statement waits for another connection's write lock on the
    /// database file (SQLite locks the whole file, not a table). Back to sqlx's default, 5 s,
    /// after the migration. SQLite has no statement timeout.
    fn limits_sql(&self, limits: &RunLimits, _in_transaction: bool) -> Option<LimitsSql> {
        limits.lock_timeout().map(|timeout| LimitsSql {
            set: format!("PRAGMA busy_timeout = {}", timeout.as_millis()),
            reset: Some(format!("PRAGMA busy_timeout = {SQLX_BUSY_TIMEOUT_MS}")),
        })
    }

    fn now(&self) -> &'static str {
        NOW
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW', '-{seconds} seconds')")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed INTEGER PRIMARY KEY AUTOINCREMENT,\n    \
             version TEXT,\n    description TEXT,\n    filename TEXT NOT NULL,\n    migration_type TEXT NOT NULL,\n    \
             applied_at TEXT DEFAULT ({NOW}),\n    checksum TEXT,\n    \
             execution_ms INTEGER,\n    success BOOLEAN,\n    rollback_sql TEXT\n)"
        )
    }

    fn init_lock_row(&self, table: &str) -> String {
        format!("INSERT OR IGNORE INTO {table} (id, is_locked) VALUES (1, FALSE)")
    }

    fn columns(&self, table: &str, _schema: Option<&str>) -> String {
        format!("SELECT name FROM pragma_table_info('{table}')")
    }

    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "INTEGER",
            "history_digest" => "VARCHAR(100) NULL",
            crate::backend::tables::ROLLBACK_COLUMN => "TEXT NULL",
            _ => "BOOLEAN NULL",
        }
    }

    /// Python Jetbase finds the latest version by `ORDER BY applied_at DESC`, and SQLite's
    /// default timestamp has whole seconds: rows written in the same second would tie. Each row
    /// gets a time after the newest row's (by the primary key, so this costs one lookup), in
    /// milliseconds.
    fn insert_row(&self, table: &str, columns: &str, values: &str) -> String {
        format!(
            "INSERT INTO {table} ({columns}, applied_at) \
             VALUES ({values}, STRFTIME('%Y-%m-%d %H:%M:%f', MAX(JULIANDAY('now'), COALESCE((SELECT \
             JULIANDAY(applied_at) + 1.0 / 86400000 FROM {table} ORDER BY order_executed DESC LIMIT 1), 0))))"
        )
    }
}

/// The versioned rows' `order_executed`, version and (with `own_columns`) success as one JSON
/// array of arrays: what `current` picks the highest version from, in one value rather than a
/// row at a time (see `read_history_json`).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn read_versions_json(table: &str, own_columns: bool) -> String {
    let own = if own_columns { ", success" } else { "" };
    format!(
        "SELECT json_group_array(json_array(order_executed, version{own})) FROM {table} \
         WHERE migration_type = 'VERSIONED'"
    )
}

/// The history as one JSON array of arrays, in the order of `Tables::read_history`'s columns.
/// One value instead of a row per migration: sqlx hands SQLite rows over one at a time from its
/// worker thread, which costs more than the query.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn read_history_json(table: &str, own_columns: bool) -> String {
    let own = if own_columns {
        ", execution_ms, success"
    } else {
        ""
    };
    format!(
        "SELECT json_group_array(json_array(order_executed, version, description, filename, \
         migration_type, CAST(applied_at AS TEXT), checksum{own})) \
         FROM (SELECT * FROM {table} ORDER BY order_executed)"
    )
}
