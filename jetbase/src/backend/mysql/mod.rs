//! MySQL and MariaDB: their spelling of the history and lock tables (here, driver-free), the sqlx
//! pool (`pool.rs`: `GET_LOCK` as the liveness lock) and the catalog queries (`introspect.rs`).
//! `pool.rs` and `introspect.rs` are compiled once per sqlx major, from `backend/sqlx_0_9` and
//! `backend/sqlx_0_8`.

use jetbase_core::{Dialect, RunLimits};

use super::DatabaseErrorKind;
use super::tables::{EngineSql, LimitsSql, SessionMark};

/// MySQL's and MariaDB's SQL.
pub(crate) struct MySqlSql;

impl EngineSql for MySqlSql {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    /// A named lock the run's session holds while it runs migrations: the server frees it with
    /// the session, so `IS_USED_LOCK` names a live session of that holder or none.
    fn mark_session_sql(&self, process_id: &str) -> Option<SessionMark> {
        let name = run_session_lock(process_id);
        Some(SessionMark {
            mark: format!("DO GET_LOCK({name}, 0)"),
            unmark: format!("DO RELEASE_LOCK({name})"),
            in_transaction: None,
        })
    }

    fn end_sessions_sql(&self, process_id: &str) -> Option<String> {
        Some(format!(
            "SELECT CAST(IS_USED_LOCK({}) AS SIGNED) FROM DUAL WHERE IS_USED_LOCK({0}) <> CONNECTION_ID()",
            run_session_lock(process_id)
        ))
    }

    fn kill_session_sql(&self, id: i64) -> Option<String> {
        Some(format!("KILL {id}"))
    }

    /// `read_only` (a replica, or a server set read-only); users with SUPER could still write,
    /// but a migration belongs on the primary.
    fn read_only_sql(&self) -> Option<&'static str> {
        Some("SELECT CAST(@@global.read_only AS CHAR)")
    }

    /// A Galera node (MariaDB Galera Cluster, Percona XtraDB Cluster) has `wsrep_on`; MySQL
    /// has no such variable and returns no row.
    fn cluster_sql(&self) -> Option<&'static str> {
        Some("SHOW VARIABLES LIKE 'wsrep_on'")
    }

    fn classify(&self, code: Option<&str>, message: &str) -> DatabaseErrorKind {
        // ER_LOCK_WAIT_TIMEOUT (1205) has the generic SQLSTATE HY000: its message is stable,
        // for metadata locks (`lock_wait_timeout`) and row locks (`innodb_lock_wait_timeout`).
        if message.starts_with("Lock wait timeout exceeded") {
            return DatabaseErrorKind::LockTimeout;
        }
        match code {
            // ER_NO_SUCH_TABLE
            Some("42S02") => DatabaseErrorKind::MissingTable,
            // ER_BAD_FIELD_ERROR
            Some("42S22") => DatabaseErrorKind::MissingColumn,
            Some(code) if code.starts_with("08") => DatabaseErrorKind::Connection,
            _ => DatabaseErrorKind::Query,
        }
    }

    /// `lock_wait_timeout` (metadata locks: what DDL waits for) and `innodb_lock_wait_timeout`
    /// (row locks), in whole seconds rounded up; MariaDB's `max_statement_time` in a MariaDB-only
    /// executable comment (MySQL has no timeout for DDL, and reads it as a comment). Session
    /// settings, back to the server's defaults after the migration.
    fn limits_sql(&self, limits: &RunLimits, _in_transaction: bool) -> Option<LimitsSql> {
        if limits.lock_timeout().is_none() && limits.run_timeout().is_none() {
            return None;
        }
        // A user variable first, so that the statement is valid with either part alone.
        let mut set = String::from("SET @jetbase_migration_limits = 1");
        let mut reset = String::from("SET @jetbase_migration_limits = NULL");
        if let Some(timeout) = limits.lock_timeout() {
            let seconds = timeout.as_millis().div_ceil(1000).max(1);
            set.push_str(&format!(
                ", SESSION lock_wait_timeout = {seconds}, SESSION innodb_lock_wait_timeout = {seconds}"
            ));
            reset.push_str(
                ", SESSION lock_wait_timeout = DEFAULT, SESSION innodb_lock_wait_timeout = DEFAULT",
            );
        }
        if let Some(timeout) = limits.run_timeout() {
            set.push_str(&format!(
                " /*M!100101 , SESSION max_statement_time = {:.3} */",
                timeout.as_secs_f64()
            ));
            reset.push_str(" /*M!100101 , SESSION max_statement_time = DEFAULT */");
        }
        Some(LimitsSql {
            set,
            reset: Some(reset),
        })
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

    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "BIGINT NULL",
            "history_digest" => "VARCHAR(100) NULL",
            // TEXT holds 64 KiB; a rollback section may be longer. Any text: the table's
            // character set may be latin1 (MariaDB's default before 11.6) or utf8mb3.
            crate::backend::tables::ROLLBACK_COLUMN => "LONGTEXT CHARACTER SET utf8mb4 NULL",
            _ => "BOOLEAN NULL",
        }
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed INT AUTO_INCREMENT PRIMARY KEY,\n    \
             version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
             migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6) NOT NULL,\n    \
             checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT NULL,\n    success BOOLEAN NULL,\n    rollback_sql LONGTEXT CHARACTER SET utf8mb4 NULL\n)"
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
/// The named lock of a holder's run session, as a SQL literal (at most 64 characters: a
/// `process_id` has at most 36). The holder comes from the lock row, which anyone who may
/// write it controls: written as a hex literal, which no `sql_mode` reads differently.
fn run_session_lock(process_id: &str) -> String {
    Dialect::MySql.string_literal(&format!("jetbase_run:{process_id}"))
}

/// The liveness lock's name, as SQL: one per database (`GET_LOCK` names are server-wide) and
/// lock table. A lock table of its own (a plain identifier, checked before) is hashed in, so
/// the name stays within `GET_LOCK`'s 64 characters; the default's name is what it always was.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn liveness_lock_name(lock_table: Option<&str>) -> String {
    match lock_table {
        None => "CONCAT('jetbase:', DATABASE())".to_owned(),
        Some(table) => format!("CONCAT('jetbase:', SHA1(CONCAT(DATABASE(), ':{table}')))"),
    }
}
