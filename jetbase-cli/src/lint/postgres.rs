//! PostgreSQL: squawk's rules (`squawk_linter`), run on the migration's upgrade section as a
//! whole (so that a rule sees a table created earlier in the file), with squawk's own ignore
//! comments. A file with a custom delimiter is linted statement by statement.

use std::str::FromStr;

use jetbase::{Migration, Statement};
use squawk_linter::{Linter, Rule, Version, Violation};
use squawk_syntax::SourceFile;

use super::{Found, Level, LintSettings, OWN_RULES};

/// squawk's default rules, less the one jetbase's `needs-no-transaction` says better (with the
/// directive that fixes it) and `require-statement-timeout` (how long a statement may run is a
/// judgement a backfill cannot make in advance; `statement-timeout=` is there for those who
/// want it). `require-lock-timeout` stays: jetbase's directive satisfies it.
fn linter(target: LintSettings<'_>, in_transaction: bool) -> Linter {
    let mut linter = Linter::with_rules(
        &[],
        &[
            Rule::BanConcurrentIndexCreationInTransaction,
            Rule::RequireStatementTimeout,
        ],
    );
    if let Ok(version) = Version::from_str(&target.postgres_major.to_string()) {
        linter.settings.pg_version = version;
    }
    linter.settings.assume_in_transaction = in_transaction;
    linter
}

pub(super) fn check(
    migration: &Migration,
    upgrade_sql: &str,
    statements: &[Statement<'_>],
    target: LintSettings<'_>,
    found: &mut Vec<Found>,
) {
    let in_transaction = !migration.no_transaction();
    let mut squawks = Vec::new();
    if migration.delimiter().is_none() {
        lint_text(upgrade_sql, 1, target, in_transaction, &mut squawks);
    } else {
        for statement in statements {
            lint_text(
                statement.sql,
                statement.line,
                target,
                in_transaction,
                &mut squawks,
            );
        }
    }
    // squawk asks for `SET lock_timeout` / `SET statement_timeout` in the file; jetbase sets them
    // itself from the directives or the configured defaults.
    let limits = migration.limits().or(target.defaults);
    for mut finding in squawks {
        match finding.rule.as_ref() {
            "require-lock-timeout" if limits.table_lock_timeout.is_some() => continue,
            "require-lock-timeout" => {
                finding.help = "start the file with `-- jetbase: table-lock-timeout=5s` (or set \
                                `table_lock_timeout` in jetbase.toml for every migration), and \
                                `-- jetbase: retries=3` to try again after a lock wait"
                    .to_owned();
            }
            _ => {}
        }
        found.push(finding);
    }
}

/// Lints `text`, whose first line is line `first_line` of the file.
fn lint_text(
    text: &str,
    first_line: usize,
    target: LintSettings<'_>,
    in_transaction: bool,
    found: &mut Vec<Found>,
) {
    let parse = SourceFile::parse(text);
    let line_of = |offset: usize| {
        first_line
            + text.as_bytes()[..offset.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
    };
    for error in parse.errors() {
        found.push(Found {
            line: line_of(usize::from(error.range().start())),
            rule: "syntax-error".into(),
            level: Level::Warning,
            message: format!(
                "squawk cannot parse this ({}); the rest of the file was linted, this statement \
                 may not be",
                error.message()
            ),
            help: "check the statement; if PostgreSQL accepts it, squawk's parser does not know \
                   it yet"
                .to_owned(),
        });
    }
    let mut linter = linter(target, in_transaction);
    for violation in linter.lint(&parse, text) {
        if is_ignore_of_own_rule(&violation, text) {
            continue;
        }
        let help = violation.help.clone().unwrap_or_else(|| {
            "see the rule at https://squawkhq.com/docs/rules, or silence it with \
             `-- squawk-ignore <rule>` on the line before the statement, with the reason"
                .to_owned()
        });
        found.push(Found {
            line: line_of(usize::from(violation.text_range.start())),
            rule: violation.code.to_string().into(),
            level: level(violation.code),
            message: violation.message,
            help,
        });
    }
}

/// squawk reports a `-- squawk-ignore` of a name it does not know; jetbase's own rule names
/// are known here.
fn is_ignore_of_own_rule(violation: &Violation, text: &str) -> bool {
    if violation.code != Rule::UnusedIgnore {
        return false;
    }
    let range = violation.text_range;
    let name = text
        .get(usize::from(range.start())..usize::from(range.end()))
        .unwrap_or_default()
        .trim();
    OWN_RULES.contains(&name)
}

/// Errors are the rules whose violation locks a busy table for long or fails at run time;
/// the others (type preferences, renames and drops that break running code) are warnings.
fn level(rule: Rule) -> Level {
    match rule {
        Rule::RequireConcurrentIndexCreation
        | Rule::RequireConcurrentIndexDeletion
        | Rule::ConstraintMissingNotValid
        | Rule::AddingFieldWithDefault
        | Rule::AddingForeignKeyConstraint
        | Rule::ChangingColumnType
        | Rule::AddingNotNullableField
        | Rule::AddingSerialPrimaryKeyField
        | Rule::AddingRequiredField
        | Rule::DisallowedUniqueConstraint
        | Rule::BanDropDatabase
        | Rule::TransactionNesting
        | Rule::BanUncommittedTransaction
        | Rule::RequireConcurrentPartitionDetach
        | Rule::RequireConcurrentReindex
        | Rule::BanTruncateCascade => Level::Error,
        _ => Level::Warning,
    }
}
