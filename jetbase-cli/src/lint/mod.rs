//! `jetbase lint`'s rules: what makes a migration dangerous on a busy database, found before it
//! runs. PostgreSQL's rules are squawk's (`squawk_linter`, the linter of the squawk project);
//! on top, the rules of how jetbase executes a file (`execution_rules.rs`: a statement that cannot run in the
//! migration's transaction, a rollback section missing…), and short lists of MySQL/MariaDB
//! (`mysql.rs`) and SQLite (`sqlite.rs`) rules.
//!
//! Every finding carries the line in the migration file, not in the statement. A finding is
//! silenced with squawk's comments, for squawk's rules and jetbase's alike:
//! `-- squawk-ignore rule-name` on the line before the statement, or
//! `-- squawk-ignore-file rule-name` anywhere in the file.

mod execution_rules;
mod mysql;
mod postgres;
mod sqlite;

use std::borrow::Cow;

use jetbase::{Dialect, Migration, Statement};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth knowing; `--deny-warnings` makes it an error.
    Warning,
    /// Fails `jetbase lint` (exit 1) and `upgrade --lint=deny`.
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One thing the linter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The migration's path relative to the migrations directory, or the file as given.
    pub file: String,
    /// The line in the migration file.
    pub line: usize,
    /// The rule's name (squawk's names for squawk's rules).
    pub rule: String,
    pub level: Level,
    pub message: String,
    /// What to write instead.
    pub help: String,
}

/// What the linter needs to know beyond the file.
#[derive(Debug, Clone, Copy)]
pub struct LintSettings<'a> {
    pub dialect: Dialect,
    /// The PostgreSQL major version the migrations run on (squawk's rules depend on it).
    pub postgres_major: u32,
    /// The configured defaults for every migration's limits (jetbase.toml, environment).
    pub defaults: jetbase::RunLimits,
    /// The configured `${name}` values: the statements are linted as they would run.
    pub placeholders: &'a jetbase::Placeholders,
}

/// A finding before it is tied to a file: the line and the rule's words.
struct Found {
    line: usize,
    rule: Cow<'static, str>,
    level: Level,
    message: String,
    help: String,
}

/// Lints the upgrade section of `migration`, which is read from `file`.
pub fn lint_migration(migration: &Migration, file: &str, target: LintSettings<'_>) -> Vec<Finding> {
    let mut found = Vec::new();
    let statements = match migration.upgrade_statements(target.dialect) {
        Ok(statements) => statements,
        Err(error) => {
            found.push(Found {
                line: 1,
                rule: "unterminated".into(),
                level: Level::Error,
                message: format!("the SQL cannot be split into statements: {error}"),
                help: "close the quote, comment or dollar quote".to_owned(),
            });
            return into_findings(found, file);
        }
    };
    // Linted as they would run, placeholders put in; a `${name}` without a value is what
    // `upgrade` would refuse the file for.
    let substituted = match statements
        .iter()
        .map(|statement| {
            target
                .placeholders
                .substitute(statement.sql, statement.line)
        })
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(substituted) => substituted,
        Err(unknown) => {
            found.push(Found {
                line: unknown.line,
                rule: "unknown-placeholder".into(),
                level: Level::Error,
                message: format!(
                    "${{{}}} has no value: `upgrade` refuses this file",
                    unknown.name
                ),
                help: format!(
                    "configure it (`--placeholder {}=VALUE`, JETBASE_PLACEHOLDER_{}, or \
                     [placeholders] in jetbase.toml), or write $${{{}}} for the text itself",
                    unknown.name,
                    unknown.name.to_ascii_uppercase(),
                    unknown.name
                ),
            });
            return into_findings(found, file);
        }
    };
    let upgrade_sql = with_statements_replaced(migration.upgrade_sql(), &statements, &substituted);
    let statements: Vec<Statement<'_>> = statements
        .iter()
        .zip(&substituted)
        .map(|(statement, sql)| Statement {
            sql,
            offset: statement.offset,
            line: statement.line,
        })
        .collect();
    let ignores = Ignores::read(migration.upgrade_sql());
    let mut own = Vec::new();
    execution_rules::check(migration, &statements, target, &mut own);
    match target.dialect {
        Dialect::Postgres => {
            postgres::check(migration, &upgrade_sql, &statements, target, &mut found)
        }
        Dialect::MySql => mysql::check(&statements, &mut own),
        Dialect::Sqlite => sqlite::check(&statements, &mut own),
        // No rules of their own yet: the execution rules above are all they get.
        Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {}
    }
    found.extend(
        own.into_iter()
            .filter(|finding| !ignores.silences(&finding.rule, finding.line)),
    );
    found.sort_by_key(|finding| finding.line);
    into_findings(found, file)
}

/// `text` with each statement (a slice of it, at its offset) replaced by its substituted text:
/// `text` itself when none changed.
fn with_statements_replaced<'t>(
    text: &'t str,
    statements: &[Statement<'_>],
    substituted: &[Cow<'_, str>],
) -> Cow<'t, str> {
    if substituted
        .iter()
        .all(|sql| matches!(sql, Cow::Borrowed(_)))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (statement, sql) in statements.iter().zip(substituted) {
        out.push_str(&text[copied..statement.offset]);
        out.push_str(sql);
        copied = statement.offset + statement.sql.len();
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn into_findings(found: Vec<Found>, file: &str) -> Vec<Finding> {
    found
        .into_iter()
        .map(|found| Finding {
            file: file.to_owned(),
            line: found.line,
            rule: found.rule.into_owned(),
            level: found.level,
            message: found.message,
            help: found.help,
        })
        .collect()
}

/// The rule names of jetbase's own rules, which squawk's ignore comments may name too.
pub const OWN_RULES: &[&str] = &[
    execution_rules::NEEDS_NO_TRANSACTION,
    execution_rules::NO_TRANSACTION_SEVERAL_STATEMENTS,
    execution_rules::MISSING_ROLLBACK,
    execution_rules::SCHEMA_AND_DATA,
    execution_rules::LIMIT_NOT_ENFORCED,
    mysql::DDL_WITH_DML,
    mysql::ALTER_WITHOUT_ALGORITHM,
    sqlite::UNSUPPORTED_ALTER,
    sqlite::NOT_NULL_WITHOUT_DEFAULT,
];

/// The `-- squawk-ignore` comments of a file, for jetbase's own rules (squawk reads them
/// itself for its own).
struct Ignores {
    /// (line of the comment, rule names; empty: every rule).
    lines: Vec<(usize, Vec<String>)>,
    file: Vec<String>,
    file_all: bool,
    /// Per line (from 1 at index 0): only a comment, or blank.
    quiet: Vec<bool>,
}

impl Ignores {
    fn read(text: &str) -> Self {
        let mut ignores = Ignores {
            lines: Vec::new(),
            file: Vec::new(),
            file_all: false,
            quiet: text
                .lines()
                .map(|line| line.trim().is_empty() || line.trim().starts_with("--"))
                .collect(),
        };
        for (index, line) in text.lines().enumerate() {
            let Some(comment) = line.trim().strip_prefix("--") else {
                continue;
            };
            let comment = comment.trim();
            // A trailing `-- reason` is not a rule name.
            let comment = comment.split("--").next().unwrap_or_default().trim();
            let names = |rest: &str| -> Vec<String> {
                rest.split(',')
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .collect()
            };
            if let Some(rest) = comment.strip_prefix("squawk-ignore-file") {
                let names = names(rest);
                ignores.file_all |= names.is_empty();
                ignores.file.extend(names);
            } else if let Some(rest) = comment.strip_prefix("squawk-ignore") {
                ignores.lines.push((index + 1, names(rest)));
            }
        }
        ignores
    }

    /// Whether a finding of `rule` on `line` is silenced: by a file-wide comment, or by a
    /// comment on a line above it with only comments or blank lines between.
    fn silences(&self, rule: &str, line: usize) -> bool {
        let names = |names: &[String]| names.is_empty() || names.iter().any(|name| name == rule);
        (self.file_all || self.file.iter().any(|name| name == rule))
            || self.lines.iter().any(|(at, listed)| {
                *at < line
                    && names(listed)
                    && (*at..line - 1).all(|index| self.quiet.get(index).copied().unwrap_or(false))
            })
    }
}

/// The line of a statement's first word of SQL (the splitter's line may be a comment's above
/// it).
fn first_sql_line(statement: &Statement<'_>) -> usize {
    let leading = statement
        .sql
        .lines()
        .take_while(|line| line.trim().is_empty() || line.trim().starts_with("--"))
        .count();
    statement.line + leading
}

/// The words of a statement in upper case, comments left out: what the rules match on.
fn words(statement: &Statement<'_>) -> Vec<String> {
    jetbase_core::sql_words(statement.sql)
        .map(str::to_ascii_uppercase)
        .collect()
}

/// Whether the statement starts with `prefix` (upper-case words).
fn starts_with(words: &[String], prefix: &[&str]) -> bool {
    words.len() >= prefix.len() && words.iter().zip(prefix).all(|(word, want)| word == want)
}

/// A statement that changes the schema.
fn is_ddl(words: &[String]) -> bool {
    matches!(
        words.first().map(String::as_str),
        Some("CREATE" | "ALTER" | "DROP" | "RENAME" | "TRUNCATE" | "COMMENT")
    )
}

/// A statement that changes rows: `UPDATE`, `DELETE`, `INSERT … SELECT`, `MERGE`.
fn rewrites_rows(words: &[String]) -> bool {
    match words.first().map(String::as_str) {
        Some("UPDATE" | "DELETE" | "MERGE") => true,
        Some("INSERT") => words.iter().any(|word| word == "SELECT"),
        _ => false,
    }
}

/// A statement that changes rows at all (also `INSERT … VALUES`).
fn is_dml(words: &[String]) -> bool {
    rewrites_rows(words) || words.first().is_some_and(|word| word == "INSERT")
}

#[cfg(test)]
mod tests;
