//! The rules of how jetbase executes a file (in one transaction unless
//! `-- jetbase: no-transaction`), whether it can be rolled back, what its directives do on
//! this database.

use jetbase::{Dialect, Migration, MigrationKind, Statement};

use super::{
    Found, Level, LintSettings, first_sql_line, is_ddl, rewrites_rows, starts_with, words,
};

pub const NEEDS_NO_TRANSACTION: &str = "needs-no-transaction";
pub const NO_TRANSACTION_SEVERAL_STATEMENTS: &str = "no-transaction-several-statements";
pub const MISSING_ROLLBACK: &str = "missing-rollback";
pub const SCHEMA_AND_DATA: &str = "schema-and-data-in-one-migration";
pub const LIMIT_NOT_ENFORCED: &str = "limit-not-enforced";

pub fn check(
    migration: &Migration,
    statements: &[Statement<'_>],
    target: LintSettings<'_>,
    found: &mut Vec<Found>,
) {
    if target.dialect == Dialect::Postgres && !migration.no_transaction() {
        for statement in statements {
            if let Some(what) = cannot_run_in_a_transaction(&words(statement), target) {
                found.push(Found {
                    line: first_sql_line(statement),
                    rule: NEEDS_NO_TRANSACTION.into(),
                    level: Level::Error,
                    message: format!(
                        "{what} cannot run inside a transaction block, and jetbase runs this \
                         migration in one: it would fail at run time"
                    ),
                    help: "put it in a migration of its own that starts with \
                           `-- jetbase: no-transaction`"
                        .to_owned(),
                });
            }
        }
    }
    if migration.no_transaction() && statements.len() > 1 {
        found.push(Found {
            line: statements.get(1).map_or(1, first_sql_line),
            rule: NO_TRANSACTION_SEVERAL_STATEMENTS.into(),
            level: Level::Warning,
            message: format!(
                "this no-transaction migration has {} statements: if one fails, the ones before \
                 it stay applied and the migration is left partially applied",
                statements.len()
            ),
            help: "give each statement that needs no transaction a migration of its own, and \
                   write them so that running one again is harmless (IF NOT EXISTS)"
                .to_owned(),
        });
    }
    if migration.kind() == MigrationKind::Versioned && !migration.has_rollback_sql() {
        found.push(Found {
            line: 1,
            rule: MISSING_ROLLBACK.into(),
            level: Level::Warning,
            message: "this versioned migration has no rollback section: `jetbase rollback` \
                      cannot undo it"
                .to_owned(),
            help: "add `-- rollback` after the upgrade SQL, followed by the SQL that undoes it"
                .to_owned(),
        });
    }
    schema_and_data(statements, found);
    limits_not_enforced(migration, target.dialect, found);
}

/// The statements PostgreSQL refuses inside a transaction block.
fn cannot_run_in_a_transaction(words: &[String], target: LintSettings<'_>) -> Option<String> {
    let concurrently = words.iter().take(6).any(|word| word == "CONCURRENTLY");
    if (starts_with(words, &["CREATE", "INDEX"])
        || starts_with(words, &["CREATE", "UNIQUE", "INDEX"])
        || starts_with(words, &["DROP", "INDEX"]))
        && concurrently
    {
        return Some(format!("`{} INDEX CONCURRENTLY`", words[0]));
    }
    if starts_with(words, &["REINDEX"]) && concurrently {
        return Some("`REINDEX CONCURRENTLY`".to_owned());
    }
    if starts_with(words, &["VACUUM"]) {
        return Some("`VACUUM`".to_owned());
    }
    if starts_with(words, &["CREATE", "DATABASE"]) || starts_with(words, &["DROP", "DATABASE"]) {
        return Some(format!("`{} DATABASE`", words[0]));
    }
    if starts_with(words, &["ALTER", "SYSTEM"]) {
        return Some("`ALTER SYSTEM`".to_owned());
    }
    let adds_enum_value = starts_with(words, &["ALTER", "TYPE"])
        && words.windows(2).any(|pair| pair == ["ADD", "VALUE"]);
    if adds_enum_value && target.postgres_major < 12 {
        return Some("`ALTER TYPE … ADD VALUE` (before PostgreSQL 12)".to_owned());
    }
    None
}

/// A migration that changes the schema and rewrites rows: the row changes run under the locks
/// the schema changes took, for as long as they take.
fn schema_and_data(statements: &[Statement<'_>], found: &mut Vec<Found>) {
    let has_ddl = statements.iter().any(|s| is_ddl(&words(s)));
    if !has_ddl {
        return;
    }
    if let Some(rewrite) = statements.iter().find(|s| rewrites_rows(&words(s))) {
        found.push(Found {
            line: first_sql_line(rewrite),
            rule: SCHEMA_AND_DATA.into(),
            level: Level::Warning,
            message: "this migration changes the schema and rewrites rows: the rows are \
                      rewritten while the schema change's locks are held, blocking the table \
                      for as long as the rewrite takes"
                .to_owned(),
            help: "move the data change to a migration of its own (in batches on large tables)"
                .to_owned(),
        });
    }
}

/// The line of the `-- jetbase: name=…` directive (the header is at the top of the file).
fn directive_line(migration: &Migration, name: &str) -> usize {
    migration
        .upgrade_sql()
        .lines()
        .position(|line| {
            let line = line.to_ascii_lowercase();
            line.trim_start().starts_with("--") && line.contains("jetbase:") && line.contains(name)
        })
        .map_or(1, |index| index + 1)
}

/// Directives this database cannot enforce: said, not silently dropped.
fn limits_not_enforced(migration: &Migration, dialect: Dialect, found: &mut Vec<Found>) {
    let limits = migration.limits();
    let mut unenforced: Vec<(&str, &str)> = Vec::new();
    match dialect {
        Dialect::Postgres => {}
        Dialect::MySql => {
            if limits.run_timeout().is_some() {
                unenforced.push((
                    "statement-timeout",
                    " (MariaDB enforces it; MySQL has no statement timeout for DDL)",
                ));
            }
        }
        Dialect::Sqlite => {
            if limits.run_timeout().is_some() {
                unenforced.push(("statement-timeout", " (SQLite has no statement timeout)"));
            }
        }
        // No timeouts to set, no retries: every statement commits by itself.
        Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
            let given = [
                ("table-lock-timeout", limits.table_lock_timeout.is_some()),
                ("statement-timeout", limits.statement_timeout.is_some()),
                ("retries", limits.retries.is_some()),
            ];
            for (name, _) in given.iter().filter(|(_, set)| *set) {
                unenforced.push((name, ""));
            }
        }
    }
    for (name, why) in unenforced {
        found.push(Found {
            line: directive_line(migration, name),
            rule: LIMIT_NOT_ENFORCED.into(),
            level: Level::Warning,
            message: format!("`{name}` has no effect on {dialect}{why}"),
            help: "keep it if the same migrations also run on a database that enforces it; \
                   otherwise remove it"
                .to_owned(),
        });
    }
}
