//! The SQL text of the history and lock tables, per database. Pure strings: the drivers only run
//! them. Table definitions are Python Jetbase's, plus jetbase's own nullable columns.

use jetbase_core::Dialect;

use super::RowWrite;

/// jetbase's own nullable columns, added to Python Jetbase's table (never changed or removed).
pub const OWN_COLUMNS: [&str; 2] = ["execution_ms", "success"];

/// jetbase's own nullable column of the lock table: the history digest of the fast path.
pub const OWN_LOCK_COLUMN: &str = "history_digest";

/// The qualified, quoted names of the two tables.
#[derive(Debug, Clone)]
pub struct Tables {
    pub dialect: Dialect,
    pub schema: Option<String>,
    pub migrations: String,
    pub lock: String,
}

impl Tables {
    /// The tables, in `schema` when given (PostgreSQL's `postgres_schema`).
    pub fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        let qualify = |table: &str| match schema {
            Some(schema) => format!("{}.{}", dialect.quote_identifier(schema), table),
            None => table.to_owned(),
        };
        Self {
            dialect,
            schema: schema.map(str::to_owned),
            migrations: qualify("jetbase_migrations"),
            lock: qualify("jetbase_lock"),
        }
    }

    /// The `n`th bind placeholder (1-based).
    fn placeholder(&self, n: usize) -> String {
        match self.dialect {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    }

    fn placeholders(&self, count: usize) -> String {
        (1..=count)
            .map(|n| self.placeholder(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn now(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => "CURRENT_TIMESTAMP",
            Dialect::MySql => "CURRENT_TIMESTAMP(6)",
            _ => "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')",
        }
    }

    /// `CREATE SCHEMA IF NOT EXISTS`, when a schema is set.
    pub fn create_schema(&self) -> Option<String> {
        self.schema.as_deref().map(|schema| {
            format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                self.dialect.quote_identifier(schema)
            )
        })
    }

    /// Python Jetbase's `jetbase_migrations`, with jetbase's columns.
    pub fn create_migrations(&self) -> String {
        let t = &self.migrations;
        match self.dialect {
            Dialect::Postgres => format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    order_executed INT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                 version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
                 migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL,\n    \
                 checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT,\n    success BOOLEAN\n)"
            ),
            Dialect::MySql => format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    order_executed INT AUTO_INCREMENT PRIMARY KEY,\n    \
                 version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
                 migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6) NOT NULL,\n    \
                 checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT NULL,\n    success BOOLEAN NULL\n)"
            ),
            _ => format!(
                "CREATE TABLE IF NOT EXISTS {t} (\n    order_executed INTEGER PRIMARY KEY AUTOINCREMENT,\n    \
                 version TEXT,\n    description TEXT,\n    filename TEXT NOT NULL,\n    migration_type TEXT NOT NULL,\n    \
                 applied_at TEXT DEFAULT (STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')),\n    checksum TEXT,\n    \
                 execution_ms INTEGER,\n    success BOOLEAN\n)"
            ),
        }
    }

    /// Python Jetbase's `jetbase_lock`.
    pub fn create_lock(&self) -> String {
        let t = &self.lock;
        let timestamp = if self.dialect == Dialect::MySql {
            "TIMESTAMP(6) NULL"
        } else {
            "TIMESTAMP"
        };
        let id = if self.dialect == Dialect::MySql {
            "INT"
        } else {
            "INTEGER"
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (\n    id {id} PRIMARY KEY CHECK (id = 1),\n    \
             is_locked BOOLEAN NOT NULL DEFAULT FALSE,\n    locked_at {timestamp},\n    process_id VARCHAR(36),\n    \
             history_digest VARCHAR(100)\n)"
        )
    }

    /// The lock table's single row, if missing (safe when several processes race).
    pub fn init_lock_row(&self) -> String {
        let t = &self.lock;
        match self.dialect {
            Dialect::MySql => format!("INSERT IGNORE INTO {t} (id, is_locked) VALUES (1, FALSE)"),
            Dialect::Postgres => {
                format!(
                    "INSERT INTO {t} (id, is_locked) VALUES (1, FALSE) ON CONFLICT (id) DO NOTHING"
                )
            }
            _ => format!("INSERT OR IGNORE INTO {t} (id, is_locked) VALUES (1, FALSE)"),
        }
    }

    /// The names of a jetbase table's columns (to add jetbase's own where missing).
    pub fn columns(&self, table: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
            Dialect::MySql => format!(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
            _ => format!(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = {} AND table_name = '{table}'",
                match &self.schema {
                    Some(schema) => format!("'{}'", schema.replace('\'', "''")),
                    None => "current_schema()".to_owned(),
                }
            ),
        }
    }

    /// Adds one of jetbase's own columns.
    pub fn add_column(&self, column: &str) -> String {
        let (table, sql_type) = match (column, self.dialect) {
            ("execution_ms", Dialect::Sqlite) => (&self.migrations, "INTEGER"),
            ("execution_ms", _) => (&self.migrations, "BIGINT NULL"),
            ("history_digest", _) => (&self.lock, "VARCHAR(100) NULL"),
            (_, _) => (&self.migrations, "BOOLEAN NULL"),
        };
        format!("ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
    }

    /// The whole history, oldest first, with the columns every database renders alike. Without
    /// `own_columns`, only Python Jetbase's columns (for a table jetbase has not extended yet).
    /// The column list is explicit: a `SELECT *` changes shape when the table is extended, which
    /// stale prepared statements (and SQLite's re-preparation) do not survive.
    pub fn read_history(&self, own_columns: bool) -> String {
        let (order, applied_at) = match self.dialect {
            Dialect::Postgres => ("CAST(order_executed AS BIGINT)", "CAST(applied_at AS TEXT)"),
            Dialect::MySql => ("CAST(order_executed AS SIGNED)", "CAST(applied_at AS CHAR)"),
            _ => (
                "CAST(order_executed AS INTEGER)",
                "CAST(applied_at AS TEXT)",
            ),
        };
        let own = if own_columns {
            ", execution_ms, success"
        } else {
            ""
        };
        format!(
            "SELECT {order} AS jb_order, version, description, filename, migration_type, \
             {applied_at} AS jb_applied_at, checksum{own} FROM {} ORDER BY order_executed",
            self.migrations
        )
    }

    /// SQLite: the history as one JSON array of arrays, in `read_history`'s column order. One
    /// value instead of a row per migration: sqlx hands SQLite rows over one at a time from its
    /// worker thread, which costs more than the query.
    pub fn read_history_json(&self, own_columns: bool) -> String {
        let own = if own_columns {
            ", execution_ms, success"
        } else {
            ""
        };
        format!(
            "SELECT json_group_array(json_array(order_executed, version, description, filename, \
             migration_type, CAST(applied_at AS TEXT), checksum{own})) \
             FROM (SELECT * FROM {} ORDER BY order_executed)",
            self.migrations
        )
    }

    /// The fast path's one query: the history digest jetbase stored in the lock row after its
    /// last upgrade or rollback, and the live row count and highest `order_executed` that prove
    /// the history has not changed since.
    pub fn history_digest(&self) -> String {
        let int = if self.dialect == Dialect::MySql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        format!(
            "SELECT (SELECT history_digest FROM {} WHERE id = 1), CAST(COUNT(*) AS {int}), \
             CAST(COALESCE(MAX(order_executed), 0) AS {int}) FROM {}",
            self.lock, self.migrations
        )
    }

    /// Stores the history digest (digest, process_id) under the lock.
    pub fn store_history_digest(&self) -> String {
        format!(
            "UPDATE {} SET history_digest = {} WHERE id = 1 AND process_id = {}",
            self.lock,
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    /// A new history row: version, description, filename, type, checksum, ms, success.
    pub fn insert_row(&self) -> String {
        if self.dialect == Dialect::Sqlite {
            // Python Jetbase finds the latest version by `ORDER BY applied_at DESC`, and
            // SQLite's default timestamp has whole seconds: rows written in the same second
            // would tie. Each row gets a time after the newest row's (by the primary key, so
            // this costs one lookup), in milliseconds.
            return format!(
                "INSERT INTO {t} (version, description, filename, migration_type, checksum, execution_ms, success, applied_at) \
                 VALUES ({}, STRFTIME('%Y-%m-%d %H:%M:%f', MAX(JULIANDAY('now'), COALESCE((SELECT \
                 JULIANDAY(applied_at) + 1.0 / 86400000 FROM {t} ORDER BY order_executed DESC LIMIT 1), 0))))",
                self.placeholders(7),
                t = self.migrations,
            );
        }
        format!(
            "INSERT INTO {} (version, description, filename, migration_type, checksum, execution_ms, success) VALUES ({})",
            self.migrations,
            self.placeholders(7)
        )
    }

    /// A repeatable's row after it ran again: checksum, ms, success, filename, type.
    pub fn update_repeatable(&self) -> String {
        format!(
            "UPDATE {} SET checksum = {}, applied_at = {}, execution_ms = {}, success = {} \
             WHERE filename = {} AND migration_type = {}",
            self.migrations,
            self.placeholder(1),
            self.now(),
            self.placeholder(2),
            self.placeholder(3),
            self.placeholder(4),
            self.placeholder(5)
        )
    }

    /// Completes a no-transaction migration's row: ms, success, order_executed.
    pub fn complete_row(&self) -> String {
        format!(
            "UPDATE {} SET execution_ms = {}, success = {} WHERE order_executed = {}",
            self.migrations,
            self.placeholder(1),
            self.placeholder(2),
            self.placeholder(3)
        )
    }

    /// The order_executed of the newest row for a file name.
    pub fn find_row(&self) -> String {
        let order = match self.dialect {
            Dialect::Postgres => "CAST(MAX(order_executed) AS BIGINT)",
            Dialect::MySql => "CAST(MAX(order_executed) AS SIGNED)",
            _ => "MAX(order_executed)",
        };
        format!(
            "SELECT {order} FROM {} WHERE filename = {}",
            self.migrations,
            self.placeholder(1)
        )
    }

    /// Removes a row by order_executed.
    pub fn delete_row(&self) -> String {
        format!(
            "DELETE FROM {} WHERE order_executed = {}",
            self.migrations,
            self.placeholder(1)
        )
    }

    /// Takes the free lock row: process_id.
    pub fn take_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = TRUE, locked_at = {}, process_id = {} WHERE id = 1 AND is_locked = FALSE",
            self.lock,
            self.now(),
            self.placeholder(1)
        )
    }

    /// Takes the lock row from a dead holder: new process_id, old process_id.
    pub fn take_over_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = TRUE, locked_at = {}, process_id = {} WHERE id = 1 AND is_locked = TRUE AND process_id = {}",
            self.lock,
            self.now(),
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    /// Frees the lock row if we hold it: process_id.
    pub fn release_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = FALSE, locked_at = NULL, process_id = NULL WHERE id = 1 AND process_id = {}",
            self.lock,
            self.placeholder(1)
        )
    }

    /// Frees the lock row whoever holds it (`jetbase unlock`).
    pub fn force_release_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = FALSE, locked_at = NULL, process_id = NULL \
             WHERE id = 1 AND is_locked = TRUE",
            self.lock
        )
    }

    /// Accepts an applied file's edit: checksum, order_executed.
    pub fn set_checksum(&self) -> String {
        format!(
            "UPDATE {} SET checksum = {} WHERE order_executed = {}",
            self.migrations,
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    /// The lock row: is_locked, locked_at as text, process_id.
    pub fn read_lock(&self) -> String {
        let locked_at = match self.dialect {
            Dialect::MySql => "CAST(locked_at AS CHAR)",
            _ => "CAST(locked_at AS TEXT)",
        };
        format!(
            "SELECT is_locked, {locked_at}, process_id FROM {} WHERE id = 1",
            self.lock
        )
    }

    /// Makes unqualified names in a PostgreSQL migration resolve in the schema, for one transaction.
    pub fn set_local_search_path(&self) -> Option<String> {
        self.schema.as_deref().map(|schema| {
            format!(
                "SET LOCAL search_path TO {}",
                self.dialect.quote_identifier(schema)
            )
        })
    }

    /// The same for a whole session (no-transaction migrations), and its undoing.
    pub fn set_search_path(&self) -> Option<(String, &'static str)> {
        self.schema.as_deref().map(|schema| {
            (
                format!(
                    "SET search_path TO {}",
                    self.dialect.quote_identifier(schema)
                ),
                "RESET search_path",
            )
        })
    }
}

/// A statement with SQL to run before and after it in the same round trip. The statement may
/// end in a line comment, so the separators start on new lines.
pub fn batch<'a>(
    prefix: Option<&str>,
    statement: &'a str,
    suffix: Option<&str>,
) -> std::borrow::Cow<'a, str> {
    if prefix.is_none() && suffix.is_none() {
        return std::borrow::Cow::Borrowed(statement);
    }
    let mut sql = String::new();
    if let Some(prefix) = prefix {
        sql.push_str(prefix);
        sql.push_str(";\n");
    }
    sql.push_str(statement);
    if let Some(suffix) = suffix {
        sql.push_str("\n;\n");
        sql.push_str(suffix);
    }
    std::borrow::Cow::Owned(sql)
}

/// A PostgreSQL dollar-quoted literal: its content is never interpreted, whatever the server's
/// string settings.
fn pg_literal(value: &str) -> String {
    let mut n = 0;
    loop {
        let delimiter = if n == 0 {
            "$jb$".to_owned()
        } else {
            format!("$jb{n}$")
        };
        // The first occurrence of the delimiter must be the closing one.
        let quoted = format!("{delimiter}{value}{delimiter}");
        if quoted[delimiter.len()..].find(&delimiter) == Some(value.len()) {
            return quoted;
        }
        n += 1;
    }
}

impl Tables {
    /// The history write of a transactional migration as plain SQL, to send with the migration's
    /// last statement (PostgreSQL only; elsewhere `None`, and the write is a bound statement).
    /// `execution_ms` is measured by the server from the transaction's start.
    pub fn row_write_sql(&self, row: &RowWrite<'_>) -> Option<String> {
        if self.dialect != Dialect::Postgres {
            return None;
        }
        let ms = "CAST(EXTRACT(EPOCH FROM (clock_timestamp() - now())) * 1000 AS BIGINT)";
        let t = &self.migrations;
        Some(match *row {
            RowWrite::Insert {
                version,
                description,
                filename,
                kind,
                checksum,
            } => format!(
                "INSERT INTO {t} (version, description, filename, migration_type, checksum, execution_ms, success) \
                 VALUES ({}, {}, {}, '{}', {}, {ms}, TRUE)",
                version.map_or_else(|| "NULL".to_owned(), pg_literal),
                pg_literal(description),
                pg_literal(filename),
                kind.as_str(),
                pg_literal(checksum)
            ),
            RowWrite::Update {
                filename,
                kind,
                checksum,
            } => format!(
                "UPDATE {t} SET checksum = {}, applied_at = CURRENT_TIMESTAMP, execution_ms = {ms}, success = TRUE \
                 WHERE filename = {} AND migration_type = '{}'",
                pg_literal(checksum),
                pg_literal(filename),
                kind.as_str()
            ),
            RowWrite::Delete { order_executed } => {
                format!("DELETE FROM {t} WHERE order_executed = {order_executed}")
            }
            RowWrite::SetChecksum {
                order_executed,
                checksum,
            } => format!(
                "UPDATE {t} SET checksum = {} WHERE order_executed = {order_executed}",
                pg_literal(checksum)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(
            Dialect::Postgres.quote_identifier("we\"ird"),
            "\"we\"\"ird\""
        );
        assert_eq!(Dialect::MySql.quote_identifier("we`ird"), "`we``ird`");
        let tables = Tables::new(Dialect::Postgres, Some("app schema"));
        assert_eq!(tables.migrations, "\"app schema\".jetbase_migrations");
        assert!(
            tables
                .columns("jetbase_lock")
                .contains("table_schema = 'app schema'")
        );
    }

    #[test]
    fn dollar_literals_never_end_early() {
        assert_eq!(pg_literal("it's"), "$jb$it's$jb$");
        assert_eq!(pg_literal("a$jb$b"), "$jb1$a$jb$b$jb1$");
        assert_eq!(pg_literal("ends with $"), "$jb$ends with $$jb$");
        assert_eq!(pg_literal("x$jb"), "$jb1$x$jb$jb1$");
    }

    #[test]
    fn batches_start_separators_on_new_lines() {
        assert_eq!(
            batch(None, "SELECT 1 -- c", Some("SELECT 2")),
            "SELECT 1 -- c\n;\nSELECT 2"
        );
        assert_eq!(batch(Some("SET x"), "SELECT 1", None), "SET x;\nSELECT 1");
        assert_eq!(batch(None, "SELECT 1", None), "SELECT 1");
    }

    #[test]
    fn placeholders_per_dialect() {
        assert!(
            Tables::new(Dialect::Postgres, None)
                .insert_row()
                .ends_with("($1, $2, $3, $4, $5, $6, $7)")
        );
        assert!(
            Tables::new(Dialect::MySql, None)
                .insert_row()
                .ends_with("(?, ?, ?, ?, ?, ?, ?)")
        );
    }
}
