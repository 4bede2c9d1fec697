//! ClickHouse: Python Jetbase 0.18.1's history table (here, driver-free, with the statements
//! that write it as Python writes them: `order_executed` as the next number, changes as
//! synchronous mutations), jetbase's lock, and with feature `clickhouse` the client: the URL
//! (`options.rs`), the HTTP interface (`http.rs`) and the [`Database`](super::Database)
//! (`pool.rs`).
//!
//! # The lock
//!
//! Python Jetbase takes no lock on ClickHouse, and ClickHouse has nothing to take one with: no
//! transactions, no session locks, and an `UPDATE` is a mutation that reports no rows, so no
//! compare-and-set. jetbase's lock is a queue of *claims* in an append-only table,
//! `jetbase_lock` (`process_id`, `event`, `at`): a process inserts a `claim` event, and the
//! holder is the live claimant whose first claim has the lowest `_block_number`. Block numbers
//! are given out when an insert commits, one after another, so when a process reads the queue
//! after its own claim committed, every claim that will ever rank before it has committed too:
//! two processes cannot both see themselves first. A claimant is live while it has no
//! `release` event and its newest event is younger than the lease expiry (the holder renews
//! every few seconds; a waiter's polls renew its place); a manual lock (`jetbase lock`) never
//! expires. Claimants are served in the order they came.
//!
//! Limits: this holds on one server. On a replicated cluster the claims must be written with
//! `insert_quorum` equal to the number of replicas and read with `select_sequential_consistency`
//! (jetbase sends the latter; set the former in the user's profile), or a claim can be
//! missed by a replica that has not received it. Events are kept 30 days (a TTL): a manual lock
//! held longer than that disappears.

use jetbase_core::Dialect;

use super::DatabaseErrorKind;
use super::tables::EngineSql;

#[cfg(feature = "clickhouse")]
mod http;
#[cfg(feature = "clickhouse")]
pub(crate) mod options;
#[cfg(feature = "clickhouse")]
pub(crate) mod pool;

/// ClickHouse's SQL.
pub(crate) struct ClickHouseSql;

/// The events of the lock table.
#[cfg_attr(not(feature = "clickhouse"), allow(dead_code))]
pub(crate) mod event {
    pub const CLAIM: &str = "claim";
    pub const RENEW: &str = "renew";
    pub const RELEASE: &str = "release";
    pub const DIGEST: &str = "digest";
}

impl EngineSql for ClickHouseSql {
    fn dialect(&self) -> Dialect {
        Dialect::ClickHouse
    }

    /// ClickHouse's error codes: 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE, 47 UNKNOWN_IDENTIFIER,
    /// 16 NO_SUCH_COLUMN_IN_TABLE; 210 NETWORK_ERROR, 209 SOCKET_TIMEOUT, 516
    /// AUTHENTICATION_FAILED.
    fn classify(&self, code: Option<&str>, _message: &str) -> DatabaseErrorKind {
        match code {
            Some("60" | "81") => DatabaseErrorKind::MissingTable,
            Some("47" | "16") => DatabaseErrorKind::MissingColumn,
            Some("209" | "210" | "516") => DatabaseErrorKind::Connection,
            _ => DatabaseErrorKind::Query,
        }
    }

    fn placeholder(&self, n: usize) -> String {
        format!("{{p{n}:Nullable(String)}}")
    }

    fn now(&self) -> &'static str {
        "now64(6)"
    }

    fn integer_cast(&self) -> &'static str {
        "Int64"
    }

    fn text_cast(&self) -> &'static str {
        "String"
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("now64(6) - toIntervalSecond({seconds})")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed UInt64,\n    version Nullable(String),\n    \
             description String,\n    filename String,\n    migration_type String,\n    \
             applied_at DateTime64(6) DEFAULT now64(6),\n    checksum String,\n    \
             execution_ms Nullable(Int64),\n    success Nullable(Bool)\n) ENGINE = MergeTree()\nORDER BY order_executed"
        )
    }

    /// jetbase's own: the claims of the lock (see the module's documentation).
    fn create_lock(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    process_id String,\n    event LowCardinality(String),\n    \
             at DateTime64(6) DEFAULT now64(6),\n    digest Nullable(String)\n) ENGINE = MergeTree()\n\
             ORDER BY (process_id, at)\nTTL toDateTime(at) + INTERVAL 30 DAY\n\
             SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1"
        )
    }

    /// The lock is made of claims: there is no row to create.
    fn init_lock_row(&self, table: &str) -> String {
        format!("SELECT count() FROM {table}")
    }

    fn columns(&self, table: &str, _schema: Option<&str>) -> String {
        format!(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '{table}'"
        )
    }

    fn own_column_type(&self, column: &str) -> &'static str {
        match column {
            "execution_ms" => "Nullable(Int64)",
            "history_digest" => "Nullable(String)",
            _ => "Nullable(Bool)",
        }
    }
}

/// The statements the ClickHouse backend runs, with typed parameters (`{name:Type}`).
#[cfg_attr(not(feature = "clickhouse"), allow(dead_code))]
pub(crate) mod statements {
    use super::event;

    /// A new history row, numbered as Python Jetbase numbers it (under the lock).
    pub fn insert_row(table: &str) -> String {
        format!(
            "INSERT INTO {table} (order_executed, version, description, filename, migration_type, checksum, \
             applied_at, execution_ms, success) SELECT (SELECT COALESCE(MAX(order_executed), 0) + 1 FROM {table}), \
             {{version:Nullable(String)}}, {{description:String}}, {{filename:String}}, {{migration_type:String}}, \
             {{checksum:String}}, now64(6), {{execution_ms:Nullable(Int64)}}, {{success:Nullable(Bool)}}"
        )
    }

    /// How a row is changed: by a lightweight `UPDATE` (ClickHouse 25.7 and later, on a table
    /// with block numbers: a patch part, milliseconds) or, where that is not available, by a
    /// synchronous mutation (`ALTER TABLE … UPDATE`, as Python Jetbase does: the part
    /// rewritten, tens to hundreds of milliseconds).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Change {
        Lightweight,
        Mutation,
    }

    fn update(table: &str, change: Change, assignments: &str, condition: &str) -> String {
        match change {
            Change::Lightweight => format!("UPDATE {table} SET {assignments} WHERE {condition}"),
            Change::Mutation => format!(
                "ALTER TABLE {table} UPDATE {assignments} WHERE {condition} SETTINGS mutations_sync = 1"
            ),
        }
    }

    /// Gives the history table the block numbers lightweight updates need (a table setting; its
    /// columns stay Python Jetbase's).
    pub fn enable_lightweight_updates(table: &str) -> String {
        format!(
            "ALTER TABLE {table} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1"
        )
    }

    /// A repeatable's row after it ran again.
    pub fn update_repeatable(table: &str, change: Change) -> String {
        update(
            table,
            change,
            "checksum = {checksum:String}, applied_at = now64(6), \
             execution_ms = {execution_ms:Nullable(Int64)}, success = {success:Nullable(Bool)}",
            "filename = {filename:String} AND migration_type = {migration_type:String}",
        )
    }

    /// Completes the unfinished row of a file (there is at most one: an unfinished row stops
    /// every later run until it is rolled back).
    pub fn complete_row(table: &str, change: Change) -> String {
        update(
            table,
            change,
            "execution_ms = {execution_ms:Int64}, success = true",
            "filename = {filename:String} AND success = false",
        )
    }

    pub fn delete_row(table: &str) -> String {
        format!(
            "ALTER TABLE {table} DELETE WHERE order_executed = {{order_executed:UInt64}} \
             SETTINGS mutations_sync = 1"
        )
    }

    pub fn set_checksum(table: &str) -> String {
        format!(
            "ALTER TABLE {table} UPDATE checksum = {{checksum:String}} \
             WHERE order_executed = {{order_executed:UInt64}} SETTINGS mutations_sync = 1"
        )
    }

    /// An event of the lock: `{process_id}`, `{event}`, `{digest}`.
    pub fn lock_event(table: &str) -> String {
        format!(
            "INSERT INTO {table} (process_id, event, digest) \
             SELECT {{process_id:String}}, {{event:String}}, {{digest:Nullable(String)}}"
        )
    }

    /// The holder: the live claimant whose first claim committed first (its `process_id` and
    /// since when it claimed), or no row.
    pub fn holder(table: &str, lease_seconds: u64) -> String {
        format!(
            "SELECT process_id, toString(minIf(at, event = '{claim}')) FROM {table} \
             WHERE event IN ('{claim}', '{renew}', '{release}') GROUP BY process_id \
             HAVING countIf(event = '{release}') = 0 AND countIf(event = '{claim}') > 0 \
             AND (max(at) > now64(6) - toIntervalSecond({lease_seconds}) OR startsWith(process_id, 'jb1:manual:')) \
             ORDER BY minIf(_block_number, event = '{claim}'), process_id LIMIT 1 \
             SETTINGS select_sequential_consistency = 1",
            claim = event::CLAIM,
            renew = event::RENEW,
            release = event::RELEASE,
        )
    }

    /// Once `{process_id}` holds the lock: withdraws, on their behalf, the claims before its own
    /// that it found expired, as a take-over overwrites a dead holder's row elsewhere (so that a
    /// reader with a longer lease does not see them come back). Manual locks never expire.
    pub fn withdraw_expired(table: &str) -> String {
        format!(
            "INSERT INTO {table} (process_id, event) SELECT process_id, '{release}' {}",
            expired_before(table),
            release = event::RELEASE,
        )
    }

    /// The claimants `withdraw_expired` withdraws (one `process_id` each), read before it only
    /// to name them in the logs.
    pub fn expired(table: &str) -> String {
        format!("SELECT process_id {}", expired_before(table))
    }

    /// The unreleased, non-manual claimants whose first claim came before `{process_id}`'s,
    /// which holds the lock: they are behind it only because their lease expired.
    fn expired_before(table: &str) -> String {
        format!(
            "FROM {table} \
             WHERE event IN ('{claim}', '{release}') GROUP BY process_id \
             HAVING countIf(event = '{release}') = 0 AND NOT startsWith(process_id, 'jb1:manual:') \
             AND minIf(_block_number, event = '{claim}') < (SELECT minIf(_block_number, event = '{claim}') \
             FROM {table} WHERE process_id = {{process_id:String}}) \
             SETTINGS select_sequential_consistency = 1",
            claim = event::CLAIM,
            release = event::RELEASE,
        )
    }

    /// The fast path's one query: the newest stored digest, the row count, the highest order.
    pub fn history_digest(migrations: &str, lock: &str) -> String {
        format!(
            "SELECT (SELECT argMax(digest, _block_number) FROM {lock} WHERE event = '{digest}'), \
             CAST(count() AS Int64), CAST(COALESCE(MAX(order_executed), 0) AS Int64) FROM {migrations}",
            digest = event::DIGEST,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::tables::Tables;

    #[test]
    fn history_table_is_python_jetbases() {
        let tables = Tables::new(Dialect::ClickHouse, None);
        let create = tables.create_migrations();
        assert!(create.contains("order_executed UInt64"));
        assert!(create.contains("applied_at DateTime64(6) DEFAULT now64(6)"));
        assert!(create.contains("ENGINE = MergeTree()\nORDER BY order_executed"));
        assert!(statements::insert_row("jetbase_migrations").contains(
            "SELECT (SELECT COALESCE(MAX(order_executed), 0) + 1 FROM jetbase_migrations)"
        ));
    }

    #[test]
    fn the_holder_is_the_first_live_claim() {
        let sql = statements::holder("jetbase_lock", 60);
        assert!(sql.contains("ORDER BY minIf(_block_number, event = 'claim')"));
        assert!(sql.contains("now64(6) - toIntervalSecond(60)"));
        assert!(sql.contains("startsWith(process_id, 'jb1:manual:')"));
    }
}
