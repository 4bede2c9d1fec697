//! The databases jetbase knows, by the SQL they speak and what their engines can do.
//!
//! [`Dialect`] names each database; every `match` on it names every database, so that adding
//! one is a compile error everywhere a decision is made. Behaviour that differs between
//! databases because of what their engines can or cannot do (a transaction around DDL, a lock
//! that dies with its session) is read from [`Capabilities`], never guessed from a name.

use std::fmt;

/// A database jetbase migrates: its lexical rules (for the statement splitter), its spelling
/// (for identifiers and generated SQL) and its [`Capabilities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL: `E'...'` escapes, `$tag$` dollar quoting, nested `/* */` comments.
    Postgres,
    /// SQLite: standard strings, `[bracketed]` identifiers, comments do not nest.
    Sqlite,
    /// MySQL and MariaDB: backslash escapes in strings, `"` strings, `#` comments, `-- ` needs a
    /// space after it, comments do not nest.
    MySql,
    /// Snowflake: backslash escapes in `'` strings, `$$` strings (no tags), `//` and `--` line
    /// comments, `BEGIN ... END` blocks of Snowflake Scripting, `DECLARE` sections.
    Snowflake,
    /// ClickHouse: backslash escapes in strings and quoted identifiers, `$tag$` heredocs, `#`,
    /// `#!`, `--` and `//` line comments, nested `/* */` comments, no procedural bodies.
    ClickHouse,
    /// Databricks (Spark SQL): backslash escapes in `'` and `"` strings, `` `quoted` ``
    /// identifiers, `$$` strings (Python function bodies), nested `/* */` comments, `BEGIN ... END`
    /// compound statements of SQL scripting.
    Databricks,
}

/// What a database's engine can do, which decides how jetbase runs migrations on it.
///
/// ```
/// use jetbase_core::Dialect;
///
/// assert!(Dialect::Postgres.capabilities().transactional_ddl);
/// // MariaDB commits each DDL statement by itself: a failed migration may be partially applied.
/// let mysql = Dialect::MySql.capabilities();
/// assert!(!mysql.transactional_ddl && mysql.implicit_commit_ddl);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Capabilities {
    /// DDL runs inside a transaction and rolls back with it: a failed migration leaves nothing.
    pub transactional_ddl: bool,
    /// DDL commits the open transaction by itself (MySQL/MariaDB): statements of a failed
    /// migration before the failing one stay applied.
    pub implicit_commit_ddl: bool,
    /// jetbase runs each migration inside a transaction. Where false, a migration runs as a
    /// `-- jetbase: no-transaction` one does elsewhere: its history row is written first, marked
    /// unfinished, so that a failure half-way stays visible and blocks the next upgrade.
    pub transactions: bool,
    /// `SAVEPOINT` works inside a transaction.
    pub savepoints: bool,
    /// A lock held by a session, freed by the server (or the kernel) when the session or process
    /// dies: a killed holder never blocks the database.
    pub session_locks: bool,
    /// An `UPDATE` reports how many rows it changed (the lock row is taken by compare-and-set).
    pub update_row_count: bool,
    /// jetbase reads its tables, columns, keys and indexes from the catalogs: `make-migrations`,
    /// `drift`, `schema` and the rollback check's schema comparison work on it.
    pub schema_introspection: bool,
    /// A database holds named schemas, each with its own tables (PostgreSQL): jetbase's tables
    /// may live in one of them, and a fleet may be a set of them.
    pub named_schemas: bool,
    /// Each applied migration's rollback SQL is kept in its history row (jetbase's own
    /// `rollback_sql` column), so that a binary without the file can still roll it back: a
    /// database newer than the binary (`on_newer_database = roll-back`), `jetbase rollback` of
    /// a deleted file.
    pub stored_rollbacks: bool,
}

/// How dollar-quoted strings are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DollarQuoting {
    /// No dollar quoting: `$` is an ordinary character.
    None,
    /// `$$…$$` only (Snowflake, Databricks): `$name$` is not a quote.
    Untagged,
    /// `$$…$$` and `$tag$…$tag$` (PostgreSQL, ClickHouse's heredocs).
    Tagged,
}

/// A database's lexical rules: what the statement splitter needs to know to find where each
/// statement ends (a `;` inside a string, a comment or a routine body does not end one).
///
/// ```
/// use jetbase_core::{Dialect, DollarQuoting};
///
/// assert!(Dialect::MySql.syntax().hash_comments);
/// assert_eq!(Dialect::Snowflake.syntax().dollar_quoting, DollarQuoting::Untagged);
/// assert!(!Dialect::Sqlite.syntax().backslash_escapes_in_strings);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Syntax {
    /// `#` starts a line comment.
    pub hash_comments: bool,
    /// `//` starts a line comment.
    pub double_slash_comments: bool,
    /// `--` starts a comment only when a space or control character (or the end) follows it.
    pub dash_comment_needs_space: bool,
    /// `/* … */` comments nest.
    pub nested_block_comments: bool,
    /// A backslash escapes the next character in `'…'` strings.
    pub backslash_escapes_in_strings: bool,
    /// A backslash escapes the next character in `"…"`.
    pub backslash_escapes_in_double_quotes: bool,
    /// A backslash escapes the next character in `` `…` ``.
    pub backslash_escapes_in_backticks: bool,
    /// `[name]` is a quoted identifier.
    pub bracket_identifiers: bool,
    /// Dollar-quoted strings.
    pub dollar_quoting: DollarQuoting,
    /// `E'…'` strings, where backslashes escape.
    pub escape_strings: bool,
    /// `r'…'` and `r"…"` raw strings, where backslashes are plain characters.
    pub raw_strings: bool,
    /// `BEGIN … END` blocks of SQL scripting are one statement.
    pub scripting_blocks: bool,
    /// A `DECLARE` section before such a block belongs to it.
    pub declare_sections: bool,
    /// `CREATE TRIGGER/FUNCTION/PROCEDURE/EVENT` bodies may hold `;`.
    pub routine_bodies: bool,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 6] = [
        Dialect::Postgres,
        Dialect::Sqlite,
        Dialect::MySql,
        Dialect::Snowflake,
        Dialect::ClickHouse,
        Dialect::Databricks,
    ];

    /// What this database's engine can do.
    pub const fn capabilities(self) -> Capabilities {
        match self {
            Self::Postgres => Capabilities {
                transactional_ddl: true,
                implicit_commit_ddl: false,
                transactions: true,
                savepoints: true,
                session_locks: true,
                update_row_count: true,
                schema_introspection: true,
                named_schemas: true,
                stored_rollbacks: true,
            },
            // The session lock is an OS file lock beside the database file.
            Self::Sqlite => Capabilities {
                transactional_ddl: true,
                implicit_commit_ddl: false,
                transactions: true,
                savepoints: true,
                session_locks: true,
                update_row_count: true,
                schema_introspection: true,
                named_schemas: false,
                stored_rollbacks: true,
            },
            Self::MySql => Capabilities {
                transactional_ddl: false,
                implicit_commit_ddl: true,
                transactions: true,
                savepoints: true,
                session_locks: true,
                update_row_count: true,
                schema_introspection: true,
                named_schemas: false,
                stored_rollbacks: true,
            },
            // DDL commits the open transaction; no lock dies with its session (the lock is a
            // lease, renewed while its holder runs).
            Self::Snowflake => Capabilities {
                transactional_ddl: false,
                implicit_commit_ddl: true,
                // A transaction would hold only the DML between two DDL statements.
                transactions: false,
                savepoints: false,
                session_locks: false,
                update_row_count: true,
                schema_introspection: false,
                named_schemas: false,
                stored_rollbacks: false,
            },
            // No transactions at all; an UPDATE is an asynchronous mutation that reports no
            // rows, so the lock is made of claims (see jetbase's ClickHouse backend).
            Self::ClickHouse => Capabilities {
                transactional_ddl: false,
                implicit_commit_ddl: true,
                transactions: false,
                savepoints: false,
                session_locks: false,
                update_row_count: false,
                schema_introspection: false,
                named_schemas: false,
                stored_rollbacks: false,
            },
            // Each statement commits by itself (Delta tables have no multi-statement
            // transactions); an UPDATE reports `num_affected_rows`, so the lock row is taken by
            // compare-and-set, as a lease.
            Self::Databricks => Capabilities {
                transactional_ddl: false,
                implicit_commit_ddl: true,
                transactions: false,
                savepoints: false,
                session_locks: false,
                update_row_count: true,
                schema_introspection: false,
                named_schemas: false,
                stored_rollbacks: false,
            },
        }
    }

    /// This database's lexical rules (see [`Syntax`]).
    pub const fn syntax(self) -> Syntax {
        match self {
            Self::Postgres => Syntax {
                hash_comments: false,
                double_slash_comments: false,
                dash_comment_needs_space: false,
                nested_block_comments: true,
                backslash_escapes_in_strings: false,
                backslash_escapes_in_double_quotes: false,
                backslash_escapes_in_backticks: false,
                bracket_identifiers: false,
                dollar_quoting: DollarQuoting::Tagged,
                escape_strings: true,
                raw_strings: false,
                scripting_blocks: false,
                declare_sections: false,
                routine_bodies: true,
            },
            Self::Sqlite => Syntax {
                hash_comments: false,
                double_slash_comments: false,
                dash_comment_needs_space: false,
                nested_block_comments: false,
                backslash_escapes_in_strings: false,
                backslash_escapes_in_double_quotes: false,
                backslash_escapes_in_backticks: false,
                bracket_identifiers: true,
                dollar_quoting: DollarQuoting::None,
                escape_strings: false,
                raw_strings: false,
                scripting_blocks: false,
                declare_sections: false,
                routine_bodies: true,
            },
            Self::MySql => Syntax {
                hash_comments: true,
                double_slash_comments: false,
                dash_comment_needs_space: true,
                nested_block_comments: false,
                backslash_escapes_in_strings: true,
                backslash_escapes_in_double_quotes: true,
                backslash_escapes_in_backticks: false,
                bracket_identifiers: false,
                dollar_quoting: DollarQuoting::None,
                escape_strings: false,
                raw_strings: false,
                scripting_blocks: false,
                declare_sections: false,
                routine_bodies: true,
            },
            Self::Snowflake => Syntax {
                hash_comments: false,
                double_slash_comments: true,
                dash_comment_needs_space: false,
                nested_block_comments: false,
                backslash_escapes_in_strings: true,
                backslash_escapes_in_double_quotes: false,
                backslash_escapes_in_backticks: false,
                bracket_identifiers: false,
                dollar_quoting: DollarQuoting::Untagged,
                escape_strings: false,
                raw_strings: false,
                scripting_blocks: true,
                declare_sections: true,
                routine_bodies: true,
            },
            // No procedural bodies: a `;` always ends a statement outside quotes and comments.
            Self::ClickHouse => Syntax {
                hash_comments: true,
                double_slash_comments: true,
                dash_comment_needs_space: false,
                nested_block_comments: true,
                backslash_escapes_in_strings: true,
                backslash_escapes_in_double_quotes: true,
                backslash_escapes_in_backticks: true,
                bracket_identifiers: false,
                dollar_quoting: DollarQuoting::Tagged,
                escape_strings: false,
                raw_strings: false,
                scripting_blocks: false,
                declare_sections: false,
                routine_bodies: false,
            },
            Self::Databricks => Syntax {
                hash_comments: false,
                double_slash_comments: false,
                dash_comment_needs_space: false,
                nested_block_comments: true,
                backslash_escapes_in_strings: true,
                backslash_escapes_in_double_quotes: true,
                backslash_escapes_in_backticks: false,
                bracket_identifiers: false,
                dollar_quoting: DollarQuoting::Untagged,
                escape_strings: false,
                raw_strings: true,
                scripting_blocks: true,
                declare_sections: false,
                routine_bodies: true,
            },
        }
    }

    /// `name` as a quoted identifier: `"name"` (a `"` in it doubled), or on MySQL `` `name` ``.
    ///
    /// ```
    /// use jetbase_core::Dialect;
    /// assert_eq!(Dialect::Postgres.quote_identifier("we\"ird"), "\"we\"\"ird\"");
    /// assert_eq!(Dialect::MySql.quote_identifier("we`ird"), "`we``ird`");
    /// assert_eq!(Dialect::ClickHouse.quote_identifier("we`ird"), "`we\\`ird`");
    /// assert_eq!(Dialect::Databricks.quote_identifier("we`ird"), "`we``ird`");
    /// ```
    pub fn quote_identifier(self, name: &str) -> String {
        match self {
            Self::MySql | Self::Databricks => format!("`{}`", name.replace('`', "``")),
            Self::ClickHouse => format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`")),
            Self::Postgres | Self::Sqlite | Self::Snowflake => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
        }
    }

    /// `value` as a string literal that means `value` under every server setting, for the few
    /// places where a value cannot be bound:
    ///
    /// - PostgreSQL: dollar-quoted (`$jb$value$jb$`, the tag lengthened until it does not occur
    ///   in the value): nothing inside is interpreted, whatever `standard_conforming_strings`,
    ///   `backslash_quote` or the client encoding say (a `'…'` literal with only `'` doubled
    ///   breaks out where backslashes escape).
    /// - MySQL/MariaDB: a hex literal of the UTF-8 bytes with a character set introducer
    ///   (`_utf8mb4 X'6a62'`): the same with and without `NO_BACKSLASH_ESCAPES` and
    ///   `ANSI_QUOTES`, where no `'…'` spelling is.
    /// - SQLite: `'…'` with `'` doubled (SQLite has no escape character).
    /// - Snowflake, ClickHouse, Databricks: `'…'` with `\` and `'` escaped by a backslash,
    ///   which they always read as an escape (Spark reads `''` as two literals joined).
    ///
    /// ```
    /// use jetbase_core::Dialect;
    /// assert_eq!(Dialect::Postgres.string_literal("it's \\"), "$jb$it's \\$jb$");
    /// assert_eq!(Dialect::MySql.string_literal("a'b"), "_utf8mb4 X'612762'");
    /// assert_eq!(Dialect::MySql.string_literal(""), "''");
    /// assert_eq!(Dialect::Sqlite.string_literal("a'b\\"), "'a''b\\'");
    /// assert_eq!(Dialect::ClickHouse.string_literal("a'b\\"), "'a\\'b\\\\'");
    /// ```
    pub fn string_literal(self, value: &str) -> String {
        match self {
            Self::Postgres => dollar_quoted(value),
            Self::MySql if value.is_empty() => "''".to_owned(),
            Self::MySql => {
                let mut hex = String::with_capacity(12 + 2 * value.len());
                hex.push_str("_utf8mb4 X'");
                for byte in value.bytes() {
                    hex.push_str(&format!("{byte:02x}"));
                }
                hex.push('\'');
                hex
            }
            Self::Sqlite => format!("'{}'", value.replace('\'', "''")),
            Self::Snowflake | Self::ClickHouse | Self::Databricks => {
                format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
    }

    /// The schemes of this database's URLs (`postgres://`, `postgresql+psycopg2://`: the part
    /// before any `+`), lower case.
    ///
    /// ```
    /// use jetbase_core::Dialect;
    /// assert_eq!(Dialect::MySql.url_schemes(), ["mysql", "mariadb"]);
    /// ```
    pub const fn url_schemes(self) -> &'static [&'static str] {
        match self {
            Self::Postgres => &["postgres", "postgresql"],
            Self::Sqlite => &["sqlite"],
            Self::MySql => &["mysql", "mariadb"],
            Self::Snowflake => &["snowflake"],
            Self::ClickHouse => &["clickhouse"],
            Self::Databricks => &["databricks"],
        }
    }

    /// A short lower-case name: `postgres`, `sqlite`, `mysql`, `snowflake`, `clickhouse`,
    /// `databricks`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
            Self::MySql => "mysql",
            Self::Snowflake => "snowflake",
            Self::ClickHouse => "clickhouse",
            Self::Databricks => "databricks",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `value` dollar-quoted for PostgreSQL: `$jb$…$jb$`, or `$jb1$`, `$jb2$`… when the value holds
/// the tag, so that the first closing tag is the real end.
fn dollar_quoted(value: &str) -> String {
    let mut n = 0;
    loop {
        let tag = if n == 0 {
            "$jb$".to_owned()
        } else {
            format!("$jb{n}$")
        };
        let quoted = format!("{tag}{value}{tag}");
        if quoted[tag.len()..].find(&tag) == Some(value.len()) {
            return quoted;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Dialect::ALL` is kept by hand, in this order, each variant once. The `match` makes a new
    /// variant a compile error here: add it to `ALL` too.
    #[test]
    fn all_lists_every_dialect_once() {
        for dialect in Dialect::ALL {
            let position = match dialect {
                Dialect::Postgres => 0,
                Dialect::Sqlite => 1,
                Dialect::MySql => 2,
                Dialect::Snowflake => 3,
                Dialect::ClickHouse => 4,
                Dialect::Databricks => 5,
            };
            assert_eq!(Dialect::ALL[position], dialect);
        }
    }

    /// The values a hostile review broke out of `'…'` literals with, where backslashes escape.
    const HOSTILE: &[&str] = &[
        "\\'; CREATE TABLE pwned(i int); --",
        "jb1:\\';DROP TABLE victim;--",
        "jb1:\\') AS SIGNED),SLEEP(7)#",
        "\\",
        "a\\",
        "$jb$",
        "x$jb",
        "$1",
        "",
        "é'\"`",
    ];

    #[test]
    fn dollar_quotes_never_end_early() {
        for value in HOSTILE {
            let quoted = Dialect::Postgres.string_literal(value);
            let tag_end = quoted[1..].find('$').unwrap() + 2;
            let tag = &quoted[..tag_end];
            assert!(quoted.ends_with(tag), "{quoted}");
            assert_eq!(&quoted[tag.len()..quoted.len() - tag.len()], *value);
            assert_eq!(quoted[tag.len()..].find(tag), Some(value.len()), "{quoted}");
        }
    }

    #[test]
    fn mysql_literals_are_hex_whatever_they_hold() {
        for value in HOSTILE.iter().filter(|value| !value.is_empty()) {
            let literal = Dialect::MySql.string_literal(value);
            let hex = literal
                .strip_prefix("_utf8mb4 X'")
                .and_then(|rest| rest.strip_suffix('\''))
                .unwrap();
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{literal}");
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
                .collect();
            assert_eq!(bytes, value.as_bytes());
        }
    }

    /// Read back as the dialect reads it: the literal ends exactly at its last character.
    #[test]
    fn quoted_literals_end_where_they_should() {
        for dialect in [
            Dialect::Sqlite,
            Dialect::Snowflake,
            Dialect::ClickHouse,
            Dialect::Databricks,
        ] {
            let backslash_escapes = dialect != Dialect::Sqlite;
            for value in HOSTILE {
                let literal = dialect.string_literal(value);
                let inner: Vec<char> = literal.chars().collect();
                assert_eq!(inner[0], '\'');
                let mut read = String::new();
                let mut at = 1;
                let end = loop {
                    match inner[at] {
                        '\\' if backslash_escapes => {
                            read.push(inner[at + 1]);
                            at += 2;
                        }
                        '\'' if !backslash_escapes && inner.get(at + 1) == Some(&'\'') => {
                            read.push('\'');
                            at += 2;
                        }
                        '\'' => break at,
                        c => {
                            read.push(c);
                            at += 1;
                        }
                    }
                };
                assert_eq!(end, inner.len() - 1, "{dialect}: {literal}");
                assert_eq!(read, *value, "{dialect}: {literal}");
            }
        }
    }
}
