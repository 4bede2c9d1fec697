//! PostgreSQL: its spelling of the history and lock tables (here, driver-free), its sqlx pool
//! (`pool.rs`: an advisory lock as the liveness lock) and its catalog queries
//! (`introspect.rs`). `pool.rs` and `introspect.rs` are compiled once per sqlx major, from
//! `backend/sqlx_0_9` and `backend/sqlx_0_8`.

use jetbase_core::Dialect;

use jetbase_core::RunLimits;

use super::DatabaseErrorKind;
use super::tables::{EngineSql, LimitsSql, SessionMark, Value};

/// PostgreSQL's SQL.
pub(crate) struct PostgresSql;

impl EngineSql for PostgresSql {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn classify(&self, code: Option<&str>, _message: &str) -> DatabaseErrorKind {
        match code {
            // undefined_table, invalid_schema_name
            Some("42P01" | "3F000") => DatabaseErrorKind::MissingTable,
            // undefined_column
            Some("42703") => DatabaseErrorKind::MissingColumn,
            // lock_not_available: lock_timeout, or NOWAIT
            Some("55P03") => DatabaseErrorKind::LockTimeout,
            // connection_exception, admin_shutdown, crash_shutdown, cannot_connect_now
            Some(code) if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03") => {
                DatabaseErrorKind::Connection
            }
            _ => DatabaseErrorKind::Query,
        }
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn seconds_ago(&self, seconds: u64) -> String {
        format!("CURRENT_TIMESTAMP - INTERVAL '{seconds} seconds'")
    }

    fn create_migrations(&self, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n    order_executed INT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
             version VARCHAR(255),\n    description VARCHAR(500) NOT NULL,\n    filename VARCHAR(512) NOT NULL,\n    \
             migration_type VARCHAR(32) NOT NULL,\n    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL,\n    \
             checksum VARCHAR(64) NOT NULL,\n    execution_ms BIGINT,\n    success BOOLEAN,\n    rollback_sql TEXT\n)"
        )
    }

    fn init_lock_row(&self, table: &str) -> String {
        format!("INSERT INTO {table} (id, is_locked) VALUES (1, FALSE) ON CONFLICT (id) DO NOTHING")
    }

    fn columns(&self, table: &str, schema: Option<&str>) -> String {
        format!(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = {} AND table_name = '{table}'",
            match schema {
                Some(schema) => literal(schema),
                None => "current_schema()".to_owned(),
            }
        )
    }

    /// The session's `application_name` is the holder's `process_id` while it runs migrations:
    /// a new backend never carries it, so a reused pid is never mistaken for the dead holder's.
    fn mark_session_sql(&self, process_id: &str) -> Option<SessionMark> {
        let name = literal(process_id);
        Some(SessionMark {
            mark: format!("SET application_name = {name}"),
            unmark: "RESET application_name".to_owned(),
            in_transaction: Some(format!("SET LOCAL application_name = {name}")),
        })
    }

    fn end_sessions_sql(&self, process_id: &str) -> Option<String> {
        Some(format!(
            "SELECT CAST(pid AS BIGINT) FROM pg_stat_activity \
             WHERE application_name = {} AND pid <> pg_backend_pid()",
            literal(process_id)
        ))
    }

    fn kill_session_sql(&self, id: i64) -> Option<String> {
        Some(format!("SELECT pg_terminate_backend({id})"))
    }

    /// A hot standby (a streaming replica) is in recovery.
    fn read_only_sql(&self) -> Option<&'static str> {
        Some("SELECT CAST(pg_is_in_recovery() AS TEXT)")
    }

    /// The relation locks of the session's own backend, on tables and views outside the
    /// system schemas (the catalogs' locks are every DDL's and say nothing).
    fn held_locks_sql(&self) -> Option<&'static str> {
        Some(
            "SELECT n.nspname || '.' || c.relname, l.mode \
             FROM pg_locks l \
             JOIN pg_class c ON c.oid = l.relation \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted \
             AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg!_%' ESCAPE '!' \
             ORDER BY 1, 2",
        )
    }

    /// `lock_timeout` and `statement_timeout`, to the millisecond; a zero given explicitly is
    /// PostgreSQL's "no timeout" (over a role's or database's own setting).
    fn limits_sql(&self, limits: &RunLimits, in_transaction: bool) -> Option<LimitsSql> {
        let settings = [
            ("lock_timeout", limits.table_lock_timeout),
            ("statement_timeout", limits.statement_timeout),
        ];
        let given: Vec<(&str, u128)> = settings
            .iter()
            .filter_map(|(name, value)| value.map(|duration| (*name, duration.as_millis())))
            .collect();
        if given.is_empty() {
            return None;
        }
        let command = if in_transaction { "SET LOCAL" } else { "SET" };
        let set = given
            .iter()
            .map(|(name, millis)| format!("{command} {name} = '{millis}ms'"))
            .collect::<Vec<_>>()
            .join(";\n");
        let reset = (!in_transaction).then(|| {
            given
                .iter()
                .map(|(name, _)| format!("RESET {name}"))
                .collect::<Vec<_>>()
                .join(";\n")
        });
        Some(LimitsSql { set, reset })
    }

    /// Every statement of jetbase's goes as plain text with its values written in (see
    /// [`inline_values`]).
    fn inline_values(&self, sql: &str, values: &[Value<'_>]) -> Option<String> {
        Some(inline_values(sql, values))
    }

    /// The history write travels as plain text with the migration's last statement, its
    /// `execution_ms` the transaction's age when the write runs (`now()` is the transaction's
    /// start).
    fn server_elapsed_ms(&self) -> Option<&'static str> {
        Some("CAST(EXTRACT(EPOCH FROM (clock_timestamp() - now())) * 1000 AS BIGINT)")
    }
}

/// `sql` with each placeholder `$n` outside quotes replaced by `values[n - 1]` as a literal
/// (text dollar-quoted, see [`literal`]). Quoted text (`'…'`, `"…"`, `$tag$…$tag$`) is copied
/// as it is, so a literal written into the template never has a `$1` of its own replaced, and
/// a value written in is never scanned again. A placeholder without a value is left as it is,
/// for the server to refuse.
fn inline_values(sql: &str, values: &[Value<'_>]) -> String {
    let mut out = String::with_capacity(sql.len() + 16 * values.len());
    let mut at = 0;
    while let Some(offset) = sql[at..].find(['\'', '"', '$']) {
        let start = at + offset;
        out.push_str(&sql[at..start]);
        let rest = &sql[start..];
        let quoted_len = match rest.as_bytes()[0] {
            quote @ (b'\'' | b'"') => Some(
                rest[1..]
                    .find(char::from(quote))
                    .map_or(rest.len(), |close| close + 2),
            ),
            _ => dollar_tag(rest).map(|tag| {
                rest[tag.len()..]
                    .find(tag)
                    .map_or(rest.len(), |close| tag.len() + close + tag.len())
            }),
        };
        if let Some(len) = quoted_len {
            out.push_str(&rest[..len]);
            at = start + len;
            continue;
        }
        // A `$` that opens no quote: a placeholder, or a `$` of its own.
        let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        let value = rest[1..=digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|index| values.get(index));
        match value {
            Some(value) => {
                out.push_str(&value_literal(value));
                at = start + 1 + digits;
            }
            None => {
                out.push('$');
                at = start + 1;
            }
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// The dollar-quote tag `rest` starts with (`$$`, `$tag$`), if it starts with one.
fn dollar_tag(rest: &str) -> Option<&str> {
    let after = &rest[1..];
    let name_len = after
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let starts_with_digit = after.bytes().next().is_some_and(|b| b.is_ascii_digit());
    (!starts_with_digit && after.as_bytes().get(name_len) == Some(&b'$'))
        .then(|| &rest[..name_len + 2])
}

/// A value as PostgreSQL literal.
fn value_literal(value: &Value<'_>) -> String {
    match *value {
        Value::Text(Some(text)) => literal(text),
        Value::Integer(Some(number)) => number.to_string(),
        Value::Text(None) | Value::Integer(None) => "NULL".to_owned(),
        Value::Boolean(true) => "TRUE".to_owned(),
        Value::Boolean(false) => "FALSE".to_owned(),
    }
}

/// A string literal: PostgreSQL's spelling that holds under every server setting
/// ([`Dialect::string_literal`], dollar-quoted).
fn literal(value: &str) -> String {
    Dialect::Postgres.string_literal(value)
}

/// The longest name PostgreSQL keeps (`NAMEDATALEN - 1` bytes): a longer one is cut without a
/// word, so it could name another tenant's schema.
const MAX_NAME_BYTES: usize = 63;

/// Refuses a `postgres_schema` PostgreSQL would not keep as written, before any SQL: an empty
/// name, one longer than 63 bytes (cut silently by the server), a system schema
/// (`information_schema`, `pg_*`), a NUL byte.
pub(crate) fn check_schema_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "the name is empty: name a schema, or leave the setting out to use the \
                    search_path's first schema"
                .to_owned(),
        );
    }
    if name.contains('\0') {
        return Err(format!(
            "{name:?} holds a NUL byte, which no PostgreSQL name can"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "{name:?} is {} bytes long; PostgreSQL keeps only the first {MAX_NAME_BYTES}, so it \
             would name another schema: use a shorter name",
            name.len()
        ));
    }
    if name == "information_schema" || name.starts_with("pg_") {
        return Err(format!(
            "{name:?} is one of PostgreSQL's system schemas: jetbase's tables and the \
             migrations' objects belong in a schema of the application's"
        ));
    }
    Ok(())
}

/// A stable 64-bit advisory lock key per schema and lock table (FNV-1a), so that two schemas,
/// or two migration sets with lock tables of their own, migrate independently. `lock_table`:
/// a lock table not named `jetbase_lock` (the key of the default stays what it always was).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn advisory_key(schema: Option<&str>, lock_table: Option<&str>) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut name = format!("jetbase:{}", schema.unwrap_or(""));
    if let Some(table) = lock_table {
        name.push(':');
        name.push_str(table);
    }
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_postgres_would_not_keep_are_refused() {
        assert_eq!(check_schema_name("tenant_1"), Ok(()));
        assert_eq!(check_schema_name(&"é".repeat(31)), Ok(()));
        for (name, expected) in [
            ("", "the name is empty"),
            ("a\0b", "holds a NUL byte"),
            (
                &"a".repeat(64),
                "is 64 bytes long; PostgreSQL keeps only the first 63",
            ),
            (&"é".repeat(32), "is 64 bytes long"),
            ("information_schema", "system schemas"),
            ("pg_catalog", "system schemas"),
            ("pg_temp", "system schemas"),
        ] {
            let message = check_schema_name(name).expect_err(name);
            assert!(message.contains(expected), "{name:?}: {message}");
        }
    }

    #[test]
    fn dollar_literals_never_end_early() {
        assert_eq!(literal("it's"), "$jb$it's$jb$");
        assert_eq!(literal("a$jb$b"), "$jb1$a$jb$b$jb1$");
        assert_eq!(literal("ends with $"), "$jb$ends with $$jb$");
        assert_eq!(literal("x$jb"), "$jb1$x$jb$jb1$");
    }

    #[test]
    fn placeholders_become_literals_outside_quotes_only() {
        let values = [
            Value::Text(Some("jb1:it's")),
            Value::Integer(Some(-12)),
            Value::Boolean(true),
            Value::Text(None),
        ];
        assert_eq!(
            inline_values(
                r#"UPDATE "s$1"."t" SET a = $1, b = $2, c = $3, d = $4 WHERE e = '$2' AND f = $5"#,
                &values
            ),
            r#"UPDATE "s$1"."t" SET a = $jb$jb1:it's$jb$, b = -12, c = TRUE, d = NULL WHERE e = '$2' AND f = $5"#
        );
        assert_eq!(
            inline_values("SELECT $10, $1", &[Value::Integer(Some(7))]),
            "SELECT $10, 7"
        );
        // A literal written into the template (a hostile holder's `$1`) keeps its text, and a
        // value written in is not scanned again.
        let template = format!("SELECT {}, $1, $$ $1 $$, $t$ $1 $t$", literal("jb1:$1'"));
        assert_eq!(
            inline_values(&template, &[Value::Text(Some("$1 $2"))]),
            "SELECT $jb$jb1:$1'$jb$, $jb$$1 $2$jb$, $$ $1 $$, $t$ $1 $t$"
        );
    }

    #[test]
    fn errors_are_classified_by_sqlstate() {
        let sql = PostgresSql;
        assert_eq!(
            sql.classify(Some("42P01"), ""),
            DatabaseErrorKind::MissingTable
        );
        assert_eq!(
            sql.classify(Some("3F000"), ""),
            DatabaseErrorKind::MissingTable
        );
        assert_eq!(
            sql.classify(Some("42703"), ""),
            DatabaseErrorKind::MissingColumn
        );
        assert_eq!(
            sql.classify(Some("08006"), ""),
            DatabaseErrorKind::Connection
        );
        assert_eq!(sql.classify(Some("42601"), ""), DatabaseErrorKind::Query);
    }
}
