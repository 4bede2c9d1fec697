//! The SQL text of the history and lock tables. Pure strings: the backends only run them. The
//! statements every database spells alike are written here once; each database's own spellings
//! come from its [`EngineSql`] (in its folder). Table definitions are Python Jetbase's, plus
//! jetbase's own nullable columns.

use std::borrow::Cow;

use jetbase_core::{Dialect, Migration, MigrationKind, RunLimits};

use super::{DatabaseErrorKind, RowWrite};

/// jetbase's own nullable columns, added to Python Jetbase's table (never changed or removed).
pub const OWN_COLUMNS: [&str; 2] = ["execution_ms", "success"];

/// jetbase's own nullable column keeping what rolls a migration back without its file, where
/// the database keeps it (`Capabilities::stored_rollbacks`).
pub const ROLLBACK_COLUMN: &str = "rollback_sql";

/// The condition of a free lock row, which a taker's compare-and-set requires.
const FREE_LOCK: &str = "id = 1 AND is_locked = FALSE";

/// jetbase's own nullable column of the lock table: the history digest of the fast path.
pub const OWN_LOCK_COLUMN: &str = "history_digest";

/// What one database spells its own way. The provided methods are the common spelling; a
/// database overrides what it writes differently.
pub trait EngineSql: Sync {
    /// The database.
    fn dialect(&self) -> Dialect;

    /// What kind of failure an error is, from its SQLSTATE (or the driver's code) and message.
    fn classify(&self, code: Option<&str>, message: &str) -> DatabaseErrorKind;

    /// The `n`th bind placeholder (1-based).
    fn placeholder(&self, _n: usize) -> String {
        "?".to_owned()
    }

    /// The current time, for `applied_at` and `locked_at`.
    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP"
    }

    /// The time `seconds` before now, comparable with `locked_at` (the lock's lease).
    fn seconds_ago(&self, seconds: u64) -> String;

    /// The type an integer is cast to, so that every database hands back a 64-bit integer.
    fn integer_cast(&self) -> &'static str {
        "BIGINT"
    }

    /// The type a timestamp is cast to, to read it as text.
    fn text_cast(&self) -> &'static str {
        "TEXT"
    }

    /// Python Jetbase's `jetbase_migrations`, with jetbase's columns.
    fn create_migrations(&self, table: &str) -> String;

    /// Python Jetbase's `jetbase_lock`, with jetbase's column.
    fn create_lock(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    id INTEGER PRIMARY KEY CHECK (id = 1),\n    \
             is_locked BOOLEAN NOT NULL DEFAULT FALSE,\n    locked_at TIMESTAMP,\n    process_id VARCHAR(36),\n    \
             history_digest VARCHAR(100)\n)"
        )
    }

    /// The lock table's single row, if missing (safe when several processes race).
    fn init_lock_row(&self, table: &str) -> String;

    /// The names of a jetbase table's columns (`schema`: where the tables are, if named).
    fn columns(&self, table: &str, schema: Option<&str>) -> String;

    /// The type of one of jetbase's own columns, when it is added to an existing table.
    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "BIGINT NULL",
            "history_digest" => "VARCHAR(100) NULL",
            ROLLBACK_COLUMN => "TEXT NULL",
            _ => "BOOLEAN NULL",
        }
    }

    /// A new history row: `columns` (version, description, filename, type, checksum, ms,
    /// success, and where kept the rollback) set to `values`.
    fn insert_row(&self, table: &str, columns: &str, values: &str) -> String {
        format!("INSERT INTO {table} ({columns}) VALUES ({values})")
    }

    /// The SQL of the milliseconds since the transaction began, measured by the server: where
    /// the database has it (and writes values into SQL text, see [`EngineSql::inline_values`]),
    /// a transactional migration's history write travels as plain SQL in the round trip of its
    /// last statement (see [`Tables::row_write_sql`]). `None` where the write is a bound
    /// statement of its own.
    fn server_elapsed_ms(&self) -> Option<&'static str> {
        None
    }

    /// The SQL that puts a migration's table-lock and statement timeouts in force on its
    /// session, and the SQL that lifts them after it. `in_transaction`: the migration runs in a
    /// transaction of its own, whose end may lift them by itself (PostgreSQL's `SET LOCAL`).
    /// `None` where the database has no such settings, or `limits` sets none.
    fn limits_sql(&self, _limits: &RunLimits, _in_transaction: bool) -> Option<LimitsSql> {
        None
    }

    /// The SQL that marks a run's session as the one of the holder `process_id`, and the SQL
    /// that lifts the mark, so that whoever takes a dead holder's lock over can find that
    /// session and end it (`end_sessions_sql`). `None` where there is no server session.
    fn mark_session_sql(&self, _process_id: &str) -> Option<SessionMark> {
        None
    }

    /// A query of the ids (one integer column) of the sessions marked for `process_id`, other
    /// than the asking one.
    fn end_sessions_sql(&self, _process_id: &str) -> Option<String> {
        None
    }

    /// The statement that ends session `id`.
    fn kill_session_sql(&self, _id: i64) -> Option<String> {
        None
    }

    /// A query of one text value saying whether the server refuses writes (a hot standby, a
    /// server with `read_only`): anything but `false`, `0` or `OFF` means it does. `None` where
    /// jetbase cannot tell.
    fn read_only_sql(&self) -> Option<&'static str> {
        None
    }

    /// A query of the table locks the session holds, as rows of (qualified table, mode); `None`
    /// where the database does not tell.
    fn held_locks_sql(&self) -> Option<&'static str> {
        None
    }

    /// A query whose rows say whether the server is a node of a multi-primary cluster where
    /// session locks are one node's own (a Galera cluster: `wsrep_on`): a row of (name, value)
    /// whose value is `ON` means it is. `None` where the database has no such cluster.
    fn cluster_sql(&self) -> Option<&'static str> {
        None
    }

    /// `sql` with its placeholders replaced by `values` written as literals, where the database
    /// takes jetbase's statements as plain text (PostgreSQL: one round trip each, nothing
    /// prepared, which a transaction pooler needs); `None` where the values are bound.
    fn inline_values(&self, _sql: &str, _values: &[Value<'_>]) -> Option<String> {
        None
    }
}

/// A value one of jetbase's own statements takes (see [`EngineSql::inline_values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Text(Option<&'a str>),
    Integer(Option<i64>),
    Boolean(bool),
}

/// What a history write sets and matches, each value named by its column, in the order the
/// statement takes them: the one history-row writer, which each database renders (bound
/// placeholders, values written into the SQL, ClickHouse's named parameters).
/// `execution_ms` is `None` where the row is completed later (or measured by the server).
pub fn row_values<'v>(
    row: &RowWrite<'v>,
    execution_ms: Option<i64>,
    success: bool,
) -> Vec<(&'static str, Value<'v>)> {
    match *row {
        RowWrite::Insert {
            version,
            description,
            filename,
            kind,
            checksum,
            rollback,
        } => [
            ("version", Value::Text(version)),
            ("description", Value::Text(Some(description))),
            ("filename", Value::Text(Some(filename))),
            ("migration_type", Value::Text(Some(kind.as_str()))),
            ("checksum", Value::Text(Some(checksum))),
            ("execution_ms", Value::Integer(execution_ms)),
            ("success", Value::Boolean(success)),
        ]
        .into_iter()
        .chain(rollback.map(|text| (ROLLBACK_COLUMN, Value::Text(Some(text)))))
        .collect(),
        RowWrite::Update {
            filename,
            kind,
            checksum,
        } => vec![
            ("checksum", Value::Text(Some(checksum))),
            ("execution_ms", Value::Integer(execution_ms)),
            ("success", Value::Boolean(success)),
            ("filename", Value::Text(Some(filename))),
            ("migration_type", Value::Text(Some(kind.as_str()))),
        ],
        RowWrite::Delete { order_executed } => {
            vec![("order_executed", Value::Integer(Some(order_executed)))]
        }
        RowWrite::SetChecksum {
            order_executed,
            checksum,
            rollback,
        } => std::iter::once(("checksum", Value::Text(Some(checksum))))
            .chain(rollback.map(|text| (ROLLBACK_COLUMN, Value::Text(Some(text)))))
            .chain([("order_executed", Value::Integer(Some(order_executed)))])
            .collect(),
    }
}

/// What a new history row of `migration` keeps to roll it back without its file: versioned
/// migrations, where the database keeps it (`Capabilities::stored_rollbacks`).
pub fn kept_rollback(dialect: Dialect, migration: &Migration) -> Option<String> {
    (dialect.capabilities().stored_rollbacks && migration.kind() == MigrationKind::Versioned)
        .then(|| jetbase_core::stored_rollback(migration))
}

/// A run's session marked as the holder's (see [`EngineSql::mark_session_sql`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMark {
    pub mark: String,
    pub unmark: String,
    /// The mark for one transaction, which its end lifts (PostgreSQL's `SET LOCAL`): behind a
    /// transaction pooler, where a session keeps nothing between transactions. `None` where
    /// the database has no such mark.
    pub in_transaction: Option<String>,
}

/// A migration's timeouts as SQL (see [`EngineSql::limits_sql`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsSql {
    /// Run before the migration's first statement (batched with it where the database can).
    pub set: String,
    /// Run after the migration, success or failure; `None` when the transaction's end lifts
    /// them.
    pub reset: Option<String>,
}

/// The qualified, quoted names of the two tables, and the SQL to use them.
#[derive(Clone)]
pub struct Tables {
    pub schema: Option<String>,
    /// The history table, quoted (and qualified by the schema, if any), for SQL.
    pub migrations: String,
    /// The lock table, the same.
    pub lock: String,
    /// The history table's name as the catalog keeps it (unquoted, unqualified).
    pub migrations_name: String,
    /// The lock table's, the same.
    pub lock_name: String,
    /// After how long without renewal a lock holder is dead, where the lock is a lease.
    pub lease_seconds: u64,
    /// What stands between jetbase and the server (see [`crate::Pooler`]).
    pub pooler: crate::Pooler,
    sql: &'static dyn EngineSql,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables")
            .field("dialect", &self.sql.dialect())
            .field("migrations", &self.migrations)
            .field("lock", &self.lock)
            .finish()
    }
}

impl Tables {
    /// The database these tables are spelled for.
    pub fn dialect(&self) -> Dialect {
        self.sql.dialect()
    }

    /// Python Jetbase's tables, in `schema` when given and the database has schemas
    /// (PostgreSQL's `postgres_schema`; ignored elsewhere).
    pub fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        Self::named(dialect, schema, "jetbase_migrations", "jetbase_lock")
    }

    /// The tables `history` and `lock` (names checked by `TableNames::check`: plain lowercase
    /// identifiers), quoted for every database: Snowflake's in capitals, the name it gives an
    /// unquoted one, so that Python Jetbase's `jetbase_migrations` stays the same table.
    pub fn named(dialect: Dialect, schema: Option<&str>, history: &str, lock: &str) -> Self {
        let sql = super::engine_sql(dialect);
        let schema = schema.filter(|_| dialect.capabilities().named_schemas);
        let qualify = |table: &str| {
            let quoted = match dialect {
                Dialect::Snowflake => dialect.quote_identifier(&table.to_ascii_uppercase()),
                Dialect::Postgres
                | Dialect::Sqlite
                | Dialect::MySql
                | Dialect::ClickHouse
                | Dialect::Databricks => dialect.quote_identifier(table),
            };
            match schema {
                Some(schema) => format!("{}.{quoted}", dialect.quote_identifier(schema)),
                None => quoted,
            }
        };
        Self {
            schema: schema.map(str::to_owned),
            migrations: qualify(history),
            lock: qualify(lock),
            migrations_name: history.to_owned(),
            lock_name: lock.to_owned(),
            lease_seconds: crate::LockLease::DEFAULT.expires_after().as_secs(),
            pooler: crate::Pooler::None,
            sql,
        }
    }

    /// The lock table's name where it is not Python Jetbase's `jetbase_lock`: what a liveness
    /// lock's key adds, so that two migration sets in one database lock independently (and
    /// the default key stays the one every jetbase before it used).
    pub fn custom_lock_name(&self) -> Option<&str> {
        (self.lock_name != "jetbase_lock").then_some(self.lock_name.as_str())
    }

    /// The same tables, with the lease of `lease`.
    pub fn with_lease(mut self, lease: crate::LockLease) -> Self {
        self.lease_seconds = lease.expires_after().as_secs();
        self
    }

    /// The same tables, reached through `pooler`.
    pub fn with_pooler(mut self, pooler: crate::Pooler) -> Self {
        self.pooler = pooler;
        self
    }

    /// Whether sessions keep nothing between transactions (a transaction pooler).
    pub fn transaction_pooled(&self) -> bool {
        self.pooler.is_transaction()
    }

    /// This database's own spellings.
    pub fn sql(&self) -> &'static dyn EngineSql {
        self.sql
    }

    /// A migration's timeouts as SQL (see [`EngineSql::limits_sql`]).
    pub fn limits_sql(&self, limits: &RunLimits, in_transaction: bool) -> Option<LimitsSql> {
        self.sql.limits_sql(limits, in_transaction)
    }

    /// What kind of failure an error is (see [`EngineSql::classify`]).
    pub fn classify(&self, code: Option<&str>, message: &str) -> DatabaseErrorKind {
        self.sql.classify(code, message)
    }

    fn placeholder(&self, n: usize) -> String {
        self.sql.placeholder(n)
    }

    /// `CREATE SCHEMA IF NOT EXISTS`, when a schema is set.
    pub fn create_schema(&self) -> Option<String> {
        self.schema.as_deref().map(|schema| {
            format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                self.sql.dialect().quote_identifier(schema)
            )
        })
    }

    /// Python Jetbase's `jetbase_migrations`, with jetbase's columns.
    pub fn create_migrations(&self) -> String {
        self.sql.create_migrations(&self.migrations)
    }

    /// Python Jetbase's `jetbase_lock`.
    pub fn create_lock(&self) -> String {
        self.sql.create_lock(&self.lock)
    }

    /// The lock table's single row, if missing.
    pub fn init_lock_row(&self) -> String {
        self.sql.init_lock_row(&self.lock)
    }

    /// The names of a jetbase table's columns (to add jetbase's own where missing).
    pub fn columns(&self, table: &str) -> String {
        self.sql.columns(table, self.schema.as_deref())
    }

    /// Adds one of jetbase's own columns.
    pub fn add_column(&self, column: &str) -> String {
        let table = if column == OWN_LOCK_COLUMN {
            &self.lock
        } else {
            &self.migrations
        };
        format!(
            "ALTER TABLE {table} ADD COLUMN {column} {}",
            self.sql.own_column_type(column)
        )
    }

    /// The whole history, oldest first, with the columns every database renders alike. Without
    /// `own_columns`, only Python Jetbase's columns (for a table jetbase has not extended yet).
    /// The column list is explicit: a `SELECT *` changes shape when the table is extended, which
    /// stale prepared statements (and SQLite's re-preparation) do not survive.
    pub fn read_history(&self, own_columns: bool) -> String {
        format!(
            "{} ORDER BY order_executed",
            self.select_history(own_columns)
        )
    }

    /// The one history row with this `order_executed`, in the columns of
    /// [`Tables::read_history`].
    pub fn read_history_row(&self, own_columns: bool, order_executed: i64) -> String {
        format!(
            "{} WHERE order_executed = {order_executed}",
            self.select_history(own_columns)
        )
    }

    /// The versioned rows' `order_executed` and version, and with `own_columns` whether they
    /// finished (`success`), in no order: what `current` picks the highest version from. Dotted
    /// versions have no SQL order every database shares (`1.10` is above `1.9`), so the choice
    /// is made by the reader, row by row, over these three narrow columns.
    pub fn read_versions(&self, own_columns: bool) -> String {
        let own = if own_columns { ", success" } else { "" };
        format!(
            "SELECT CAST(order_executed AS {int}) AS jb_order, version{own} FROM {} \
             WHERE migration_type = 'VERSIONED'",
            self.migrations,
            int = self.sql.integer_cast(),
        )
    }

    fn select_history(&self, own_columns: bool) -> String {
        let own = if own_columns {
            ", execution_ms, success"
        } else {
            ""
        };
        format!(
            "SELECT CAST(order_executed AS {int}) AS jb_order, version, description, filename, migration_type, \
             CAST(applied_at AS {text}) AS jb_applied_at, checksum{own} FROM {}",
            self.migrations,
            int = self.sql.integer_cast(),
            text = self.sql.text_cast(),
        )
    }

    /// The fast path's one query: the history digest jetbase stored in the lock row after its
    /// last upgrade or rollback, and the live row count and highest `order_executed` that prove
    /// the history has not changed since.
    pub fn history_digest(&self) -> String {
        let int = self.sql.integer_cast();
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
        format!(
            "SELECT CAST(MAX(order_executed) AS {}) FROM {} WHERE filename = {}",
            self.sql.integer_cast(),
            self.migrations,
            self.placeholder(1)
        )
    }

    /// Takes the free lock row: process_id.
    pub fn take_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = TRUE, locked_at = {}, process_id = {} WHERE {FREE_LOCK}",
            self.lock,
            self.sql.now(),
            self.placeholder(1)
        )
    }

    /// Takes the lock row from a dead holder: new process_id, old process_id.
    pub fn take_over_lock(&self) -> String {
        format!(
            "UPDATE {} SET is_locked = TRUE, locked_at = {}, process_id = {} WHERE id = 1 AND is_locked = TRUE AND process_id = {}",
            self.lock,
            self.sql.now(),
            self.placeholder(1),
            self.placeholder(2)
        )
    }

    /// Takes the lock row from a holder whose lease expired (it stopped renewing `locked_at`
    /// for `lease_seconds`): new process_id, old process_id. Of several processes that see the
    /// same expired holder, only the first changes the row; the others find another holder.
    pub fn take_over_expired_lock(&self, lease_seconds: u64) -> String {
        format!(
            "UPDATE {} SET is_locked = TRUE, locked_at = {}, process_id = {} WHERE {}",
            self.lock,
            self.sql.now(),
            self.placeholder(1),
            self.expired_lock(2, lease_seconds)
        )
    }

    /// The condition of a lock row held by the process in placeholder `holder` whose lease
    /// expired.
    fn expired_lock(&self, holder: usize, lease_seconds: u64) -> String {
        format!(
            "id = 1 AND is_locked = TRUE AND process_id = {} AND locked_at < {}",
            self.placeholder(holder),
            self.sql.seconds_ago(lease_seconds)
        )
    }

    /// Whether [`Tables::take_lock`] would find the row free, as a count (0 or 1): the read
    /// before a compare-and-set where writes are dear (one write a second on a warehouse).
    pub fn count_free_lock(&self) -> String {
        format!("SELECT COUNT(*) FROM {} WHERE {FREE_LOCK}", self.lock)
    }

    /// Whether [`Tables::take_over_expired_lock`] would find the row held by the process
    /// (old process_id) with an expired lease, as a count (0 or 1).
    pub fn count_expired_lock(&self, lease_seconds: u64) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            self.lock,
            self.expired_lock(1, lease_seconds)
        )
    }

    /// Renews the holder's lease: process_id.
    pub fn renew_lock(&self) -> String {
        format!(
            "UPDATE {} SET locked_at = {} WHERE id = 1 AND is_locked = TRUE AND process_id = {}",
            self.lock,
            self.sql.now(),
            self.placeholder(1)
        )
    }

    /// Completes the newest row of a file (a migration run without a transaction), in one
    /// statement: ms, success, filename.
    pub fn complete_row_of_file(&self) -> String {
        format!(
            "UPDATE {table} SET execution_ms = {}, success = {} WHERE order_executed =              (SELECT MAX(order_executed) FROM {table} WHERE filename = {})",
            self.placeholder(1),
            self.placeholder(2),
            self.placeholder(3),
            table = self.migrations,
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

    /// A migration's history write as one bound statement and its values, in the order its
    /// placeholders take them: how the backends that bind (sqlx's, the row-first warehouses')
    /// render [`row_values`]. `execution_ms` is `None` where the row is completed later.
    pub fn row_write<'v>(
        &self,
        row: &RowWrite<'v>,
        execution_ms: Option<i64>,
        success: bool,
    ) -> (String, Vec<Value<'v>>) {
        self.render_row_write(row, row_values(row, execution_ms, success), None)
    }

    /// The history write of a transactional migration as plain SQL, with `execution_ms`
    /// measured by the server, to send in the round trip of the migration's last statement:
    /// [`row_values`] rendered with the values written in. `None` where the database has no
    /// such measure (see [`EngineSql::server_elapsed_ms`]).
    pub fn row_write_sql(&self, row: &RowWrite<'_>) -> Option<String> {
        let elapsed = self.sql.server_elapsed_ms()?;
        let (sql, values) = self.render_row_write(row, row_values(row, None, true), Some(elapsed));
        self.sql.inline_values(&sql, &values)
    }

    /// The statement of a history write, each value a placeholder, except `execution_ms`
    /// where `elapsed` gives the SQL that measures it; and the values the placeholders take.
    fn render_row_write<'v>(
        &self,
        row: &RowWrite<'v>,
        named: Vec<(&'static str, Value<'v>)>,
        elapsed: Option<&str>,
    ) -> (String, Vec<Value<'v>>) {
        let mut values = Vec::with_capacity(named.len());
        let columns: Vec<&str> = named.iter().map(|(column, _)| *column).collect();
        let slots: Vec<String> = named
            .into_iter()
            .map(|(column, value)| match elapsed {
                Some(sql) if column == "execution_ms" => sql.to_owned(),
                _ => {
                    values.push(value);
                    self.placeholder(values.len())
                }
            })
            .collect();
        let table = &self.migrations;
        let sql = match row {
            RowWrite::Insert { .. } => {
                self.sql
                    .insert_row(table, &columns.join(", "), &slots.join(", "))
            }
            RowWrite::Update { .. } => format!(
                "UPDATE {table} SET checksum = {}, applied_at = {}, execution_ms = {}, success = {} \
                 WHERE filename = {} AND migration_type = {}",
                slots[0],
                self.sql.now(),
                slots[1],
                slots[2],
                slots[3],
                slots[4]
            ),
            RowWrite::Delete { .. } => {
                format!("DELETE FROM {table} WHERE order_executed = {}", slots[0])
            }
            RowWrite::SetChecksum { .. } => {
                // checksum, and rollback_sql where it is kept, for the row's number.
                let mut set = Vec::new();
                let mut row = "";
                for (column, slot) in columns.iter().zip(&slots) {
                    if *column == "order_executed" {
                        row = slot;
                    } else {
                        set.push(format!("{column} = {slot}"));
                    }
                }
                format!(
                    "UPDATE {table} SET {} WHERE order_executed = {row}",
                    set.join(", ")
                )
            }
        };
        (sql, values)
    }

    /// The lock row: is_locked, locked_at as text, process_id.
    pub fn read_lock(&self) -> String {
        format!(
            "SELECT is_locked, CAST(locked_at AS {}), process_id FROM {} WHERE id = 1",
            self.sql.text_cast(),
            self.lock
        )
    }

    /// Makes unqualified names in a migration resolve in the schema, for one transaction.
    pub fn set_local_search_path(&self) -> Option<String> {
        self.schema.as_deref().map(|schema| {
            format!(
                "SET LOCAL search_path TO {}",
                self.sql.dialect().quote_identifier(schema)
            )
        })
    }

    /// The same for a whole session (no-transaction migrations), and its undoing.
    pub fn set_search_path(&self) -> Option<(String, &'static str)> {
        self.schema.as_deref().map(|schema| {
            (
                format!(
                    "SET search_path TO {}",
                    self.sql.dialect().quote_identifier(schema)
                ),
                "RESET search_path",
            )
        })
    }
}

/// A statement with SQL to run before and after it in the same round trip. The statement may
/// end in a line comment, so the separators start on new lines.
pub fn batch<'a>(prefix: Option<&str>, statement: &'a str, suffix: Option<&str>) -> Cow<'a, str> {
    if prefix.is_none() && suffix.is_none() {
        return Cow::Borrowed(statement);
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
    Cow::Owned(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        let tables = Tables::new(Dialect::Postgres, Some("app schema"));
        assert_eq!(tables.migrations, "\"app schema\".\"jetbase_migrations\"");
        assert_eq!(tables.migrations_name, "jetbase_migrations");
        // Each database's quotes; Snowflake's name in capitals, as it names an unquoted one.
        for (dialect, lock) in [
            (Dialect::Sqlite, "\"jetbase_lock\""),
            (Dialect::MySql, "`jetbase_lock`"),
            (Dialect::Snowflake, "\"JETBASE_LOCK\""),
            (Dialect::ClickHouse, "`jetbase_lock`"),
            (Dialect::Databricks, "`jetbase_lock`"),
        ] {
            assert_eq!(Tables::new(dialect, None).lock, lock);
        }
        let named = Tables::named(Dialect::MySql, None, "billing_migrations", "billing_lock");
        assert_eq!(named.migrations, "`billing_migrations`");
        assert_eq!(named.custom_lock_name(), Some("billing_lock"));
        assert_eq!(Tables::new(Dialect::MySql, None).custom_lock_name(), None);
        assert!(
            tables
                .columns("jetbase_lock")
                .contains("table_schema = $jb$app schema$jb$")
        );
    }

    #[test]
    fn schemas_only_where_the_database_has_them() {
        for dialect in Dialect::ALL {
            let tables = Tables::new(dialect, Some("app"));
            assert_eq!(
                tables.schema.is_some(),
                dialect == Dialect::Postgres,
                "{dialect}"
            );
        }
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
    fn the_reads_before_a_take_ask_what_the_take_requires() {
        for dialect in Dialect::ALL {
            let tables = Tables::new(dialect, None);
            let condition = |sql: &str| sql.rsplit_once(" WHERE ").unwrap().1.to_owned();
            assert_eq!(
                condition(&tables.count_free_lock()),
                condition(&tables.take_lock())
            );
            assert_eq!(
                condition(&tables.count_expired_lock(60)).replace(&tables.placeholder(1), "?"),
                condition(&tables.take_over_expired_lock(60)).replace(&tables.placeholder(2), "?"),
                "{dialect}"
            );
        }
    }

    fn insert() -> RowWrite<'static> {
        RowWrite::Insert {
            version: Some("1"),
            description: "first",
            filename: "V1__first.sql",
            kind: jetbase_core::MigrationKind::Versioned,
            checksum: "abc",
            rollback: None,
        }
    }

    #[test]
    fn a_kept_rollback_is_written_with_the_row() {
        let kept = "-- rollback\nDROP TABLE t; -- $jb$ ' \"";
        let row = RowWrite::Insert {
            version: Some("1"),
            description: "first",
            filename: "V1__first.sql",
            kind: jetbase_core::MigrationKind::Versioned,
            checksum: "abc",
            rollback: Some(kept),
        };
        let (sql, values) = Tables::new(Dialect::Sqlite, None).row_write(&row, Some(5), true);
        assert!(
            sql.contains("execution_ms, success, rollback_sql, applied_at)"),
            "{sql}"
        );
        assert_eq!(values.len(), 8);
        assert_eq!(values[7], Value::Text(Some(kept)));
        // Written into the text (PostgreSQL), in a dollar quote its content cannot close.
        let sql = Tables::new(Dialect::Postgres, None)
            .row_write_sql(&row)
            .unwrap();
        assert!(sql.contains("success, rollback_sql) VALUES"), "{sql}");
        assert!(!sql.contains("$jb$-- rollback"), "{sql}");
        assert!(sql.contains("DROP TABLE t; -- $jb$ ' \""), "{sql}");
        // Only versioned migrations keep one, and only where the database keeps them.
        let versioned = jetbase_core::parse_migration(
            "V1__t.sql",
            b"CREATE TABLE t (id INT);\n-- rollback\nDROP TABLE t;",
        )
        .unwrap();
        let repeatable =
            jetbase_core::parse_migration("RA__t.sql", b"SELECT 1;\n-- rollback\nSELECT 2;")
                .unwrap();
        for dialect in Dialect::ALL {
            assert_eq!(
                kept_rollback(dialect, &versioned).is_some(),
                dialect.capabilities().stored_rollbacks,
                "{dialect}"
            );
            assert_eq!(kept_rollback(dialect, &repeatable), None);
        }
    }

    #[test]
    fn placeholders_per_dialect() {
        let (sql, values) =
            Tables::new(Dialect::Postgres, None).row_write(&insert(), Some(5), true);
        assert!(sql.ends_with("($1, $2, $3, $4, $5, $6, $7)"), "{sql}");
        assert_eq!(values.len(), 7);
        let (sql, _) = Tables::new(Dialect::MySql, None).row_write(&insert(), Some(5), true);
        assert!(sql.ends_with("(?, ?, ?, ?, ?, ?, ?)"), "{sql}");
    }

    #[test]
    fn a_server_measured_write_takes_the_same_values_written_in() {
        let tables = Tables::new(Dialect::Postgres, None);
        let sql = tables.row_write_sql(&insert()).unwrap();
        assert_eq!(
            sql,
            "INSERT INTO \"jetbase_migrations\" (version, description, filename, migration_type, checksum, \
             execution_ms, success) VALUES ($jb$1$jb$, $jb$first$jb$, $jb$V1__first.sql$jb$, $jb$VERSIONED$jb$, \
             $jb$abc$jb$, \
             CAST(EXTRACT(EPOCH FROM (clock_timestamp() - now())) * 1000 AS BIGINT), TRUE)"
        );
        let update = RowWrite::Update {
            filename: "R__view.sql",
            kind: jetbase_core::MigrationKind::RunsOnChange,
            checksum: "def",
        };
        let sql = tables.row_write_sql(&update).unwrap();
        assert!(
            sql.ends_with("success = TRUE WHERE filename = $jb$R__view.sql$jb$ AND migration_type = $jb$RUNS_ON_CHANGE$jb$"),
            "{sql}"
        );
        assert_eq!(
            Tables::new(Dialect::MySql, None).row_write_sql(&update),
            None
        );
    }
}
