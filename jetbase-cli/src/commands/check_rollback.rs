//! `jetbase check-rollback`: the library's rollback check, on a scratch database when one is
//! given; a table or JSON, exit 1 when a rollback does not restore the schema.

use jetbase::{CheckedMigration, RollbackCheck, ScratchDatabase};
use serde_json::json;

use super::Context;
use crate::cli::CheckRollbackArgs;
use crate::database::Access;
use crate::error::CliError;
use crate::output::{self, Colour, Table};

pub async fn run(context: &Context, args: &CheckRollbackArgs) -> Result<(), CliError> {
    let migrator = context.migrator()?;
    let pool = context.connect(Access::Write).await?;
    let result = match &args.scratch_url {
        Some(url) => {
            crate::error::hide_password_of(url);
            let scratch = ScratchDatabase::create(url).await?;
            // Ctrl-C stops the check; the scratch database is dropped either way.
            let check = crate::interrupt::until_interrupted(async {
                Ok(migrator
                    .check_rollbacks(&pool)
                    .on_scratch(scratch.pool())
                    .await?)
            })
            .await;
            // A scratch database left behind is what the user must act on: said first.
            match scratch.drop_database().await {
                Ok(()) => check,
                Err(error) => Err(CliError::from(error)
                    .explained("the scratch database could not be dropped: drop it by hand")),
            }
        }
        // Ctrl-C deletes the copy of a SQLite database (it goes with the check).
        None => {
            crate::interrupt::until_interrupted(async {
                Ok(migrator.check_rollbacks(&pool).await?)
            })
            .await
        }
    };
    pool.close().await;
    let check = result?;
    if context.json {
        output::print_json(&check_json(&check))?;
    } else {
        print_text(context, &check);
    }
    if check.passed() {
        return Ok(());
    }
    let failing = check
        .migrations
        .iter()
        .filter(|migration| !migration.restored())
        .count();
    Err(CliError::run(format!(
        "check-rollback: {failing} of {} migration{} do{} not roll back cleanly{}",
        check.migrations.len(),
        if check.migrations.len() == 1 { "" } else { "s" },
        if failing == 1 { "es" } else { "" },
        if check.not_reached.is_empty() {
            String::new()
        } else {
            format!(", and {} could not be checked", check.not_reached.len())
        }
    )))
}

/// What one migration's check found, in a word.
fn verdict(migration: &CheckedMigration) -> (&'static str, Colour) {
    if migration.restored() {
        ("ok", Colour::Green)
    } else if !migration.has_rollback_sql {
        ("no rollback SQL", Colour::Yellow)
    } else if migration.failure.is_some() {
        ("FAILED", Colour::Red)
    } else {
        ("DIFFERS", Colour::Red)
    }
}

/// The differences and the failure, one per line.
fn details(migration: &CheckedMigration) -> Vec<String> {
    let mut lines = migration.differences.clone();
    if let Some(failure) = &migration.failure {
        lines.push(format!(
            "{} fails at line {}: {}",
            failure.step.as_str(),
            failure.line,
            failure.message
        ));
    }
    lines
}

fn print_text(context: &Context, check: &RollbackCheck) {
    if check.migrations.is_empty() {
        crate::output::outln!("Nothing pending: no rollback to check.");
        return;
    }
    let mut table = Table::new(vec!["VERSION", "FILE", "ROLLBACK"]);
    for migration in &check.migrations {
        let (word, colour) = verdict(migration);
        table.push(vec![
            (
                migration.version.clone().unwrap_or_else(|| "-".to_owned()),
                None,
            ),
            (migration.filename.clone(), None),
            (word.to_owned(), Some(colour)),
        ]);
    }
    crate::output::out!("{}", table.render(context.style));
    for migration in &check.migrations {
        let lines = details(migration);
        if lines.is_empty() {
            continue;
        }
        crate::output::outln!("{}:", crate::output::printable(&migration.filename));
        for line in lines {
            crate::output::outln!("  - {}", crate::output::printable_lines(&line));
        }
    }
    if !check.not_reached.is_empty() {
        crate::output::outln!(
            "Not checked: {}",
            crate::output::printable(&check.not_reached.join(", "))
        );
    }
    if check.passed() {
        crate::output::outln!(
            "{}",
            context.style.paint(
                "Every rollback restores the schema; nothing of the check remains.",
                Colour::Green
            )
        );
    }
}

/// `{"passed", "migrations": [{"version", "filename", "has_rollback_sql", "restored",
/// "differences": [..], "failure": {"step", "line", "message"} | null}], "not_reached": [..]}`.
fn check_json(check: &RollbackCheck) -> serde_json::Value {
    json!({
        "passed": check.passed(),
        "migrations": check.migrations.iter().map(|migration| json!({
            "version": migration.version,
            "filename": migration.filename,
            "has_rollback_sql": migration.has_rollback_sql,
            "restored": migration.restored(),
            "differences": migration.differences,
            "failure": migration.failure.as_ref().map(|failure| json!({
                "step": failure.step.as_str(),
                "line": failure.line,
                "message": failure.message,
            })),
        })).collect::<Vec<_>>(),
        "not_reached": check.not_reached,
    })
}
