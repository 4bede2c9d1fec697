//! `jetbase lint`, and the lint `upgrade` runs on the pending migrations first.

use std::path::{Path, PathBuf};

use jetbase::{Dialect, Migration, State};
use serde_json::json;

use super::Context;
use crate::cli::{LintArgs, LintDialect};
use crate::database::Access;
use crate::error::CliError;
use crate::lint::{Finding, Level, LintSettings, lint_migration};
use crate::output::{self, Colour, Style};

/// The PostgreSQL major the lint assumes unless told (squawk's default too).
pub const DEFAULT_POSTGRES_MAJOR: u32 = 15;

/// `jetbase lint` in a project (`context`), or on files outside one.
pub async fn run(
    context: Option<&Context>,
    args: &LintArgs,
    cwd: &Path,
    style: Style,
    json: bool,
) -> Result<(), CliError> {
    let dialect = match (args.dialect, context) {
        (Some(dialect), _) => dialect_of(dialect),
        (None, Some(context)) => configured_dialect(context),
        (None, None) => Dialect::Postgres,
    };
    let placeholders = context
        .map(|context| context.settings.placeholder_values())
        .unwrap_or_default();
    let target = LintSettings {
        dialect,
        postgres_major: args.postgres_version,
        defaults: context
            .map(|context| context.settings.limits)
            .unwrap_or_default(),
        placeholders: &placeholders,
    };
    let (checked, findings) = if args.files.is_empty() {
        let Some(context) = context else {
            return Err(CliError::usage(
                "no files given and no jetbase/ directory here: name the migration files, or run \
                 it in a project (see `jetbase init`)",
            ));
        };
        lint_project(context, args.all, target).await?
    } else {
        lint_files(&args.files, cwd, target)?
    };
    print_findings(&findings, checked, style, json)?;
    let failing = findings
        .iter()
        .filter(|finding| finding.level == Level::Error || args.deny_warnings)
        .count();
    if failing > 0 {
        return Err(CliError::run(format!(
            "lint found {failing} {}{}",
            if args.deny_warnings {
                "finding"
            } else {
                "error"
            },
            if failing == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

fn dialect_of(dialect: LintDialect) -> Dialect {
    match dialect {
        LintDialect::Postgres => Dialect::Postgres,
        LintDialect::Mysql => Dialect::MySql,
        LintDialect::Sqlite => Dialect::Sqlite,
    }
}

/// The configured database URL's dialect; PostgreSQL without one.
fn configured_dialect(context: &Context) -> Dialect {
    context
        .settings
        .database_url
        .as_ref()
        .and_then(|(url, _)| jetbase::url::dialect_of(url))
        .unwrap_or(Dialect::Postgres)
}

/// The project's migrations: the pending ones when a database URL is configured (unless
/// `all`), else every one.
async fn lint_project(
    context: &Context,
    all: bool,
    target: LintSettings<'_>,
) -> Result<(usize, Vec<Finding>), CliError> {
    let migrator = context.migrator()?;
    let migrations: Vec<&Migration> = if all || context.settings.database_url.is_none() {
        migrator.migrations().iter().collect()
    } else {
        let pool = context.connect(Access::ReadOnly).await?;
        let status = migrator.status(&pool).await?;
        pool.close().await;
        let pending: Vec<&str> = status
            .iter()
            .filter(|entry| entry.state == State::Pending)
            .map(|entry| entry.filename.as_str())
            .collect();
        migrator
            .migrations()
            .iter()
            .filter(|migration| pending.contains(&migration.filename()))
            .collect()
    };
    Ok((migrations.len(), lint_all(&migrations, target)))
}

/// The findings of `migrations`, each named by its path in the migrations directory.
pub fn lint_all(migrations: &[&Migration], target: LintSettings<'_>) -> Vec<Finding> {
    migrations
        .iter()
        .flat_map(|migration| lint_migration(migration, migration.path(), target))
        .collect()
}

/// Files named on the command line, each read as a migration file.
fn lint_files(
    files: &[PathBuf],
    cwd: &Path,
    target: LintSettings<'_>,
) -> Result<(usize, Vec<Finding>), CliError> {
    let mut findings = Vec::new();
    for file in files {
        let path = cwd.join(file);
        let shown = file.display().to_string();
        let bytes = std::fs::read(&path)
            .map_err(|error| CliError::usage(format!("cannot read {shown}")).caused_by(error))?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let migration = jetbase_core::parse_migration(&name, &bytes).map_err(|problems| {
            let mut error =
                CliError::usage(format!("{shown} is not a migration file jetbase can read"));
            for problem in problems {
                error = error.caused_by(problem);
            }
            error
        })?;
        findings.extend(lint_migration(&migration, &shown, target));
    }
    Ok((files.len(), findings))
}

/// `file:line: level[rule] message`, `  help: …`, and a summary on stdout; or
/// `{"findings": [{"file", "line", "rule", "level", "message", "help"}]}` with `--json`.
fn print_findings(
    findings: &[Finding],
    checked: usize,
    style: Style,
    json: bool,
) -> Result<(), CliError> {
    if json {
        output::print_json(&json!({
            "findings": findings.iter().map(|finding| json!({
                "file": finding.file,
                "line": finding.line,
                "rule": finding.rule,
                "level": finding.level.as_str(),
                "message": finding.message,
                "help": finding.help,
            })).collect::<Vec<_>>(),
        }))?;
        return Ok(());
    }
    for finding in findings {
        crate::output::outln!("{}", render(finding, style));
    }
    crate::output::outln!("{}", summary(findings, checked));
    Ok(())
}

/// One finding as text.
pub fn render(finding: &Finding, style: Style) -> String {
    let colour = match finding.level {
        Level::Error => Colour::Red,
        Level::Warning => Colour::Yellow,
    };
    format!(
        "{}:{}: {}[{}] {}\n  help: {}",
        crate::output::printable(&finding.file),
        finding.line,
        style.paint(finding.level.as_str(), colour),
        finding.rule,
        crate::output::printable_lines(&finding.message),
        finding.help
    )
}

/// `2 errors and 1 warning in 3 migrations`, or `no findings in 3 migrations`.
pub fn summary(findings: &[Finding], checked: usize) -> String {
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    let warnings = findings.len() - errors;
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let migrations = count(checked, "migration");
    if findings.is_empty() {
        format!("lint: no findings in {migrations}")
    } else {
        format!(
            "lint: {} and {} in {migrations}",
            count(errors, "error"),
            count(warnings, "warning")
        )
    }
}
