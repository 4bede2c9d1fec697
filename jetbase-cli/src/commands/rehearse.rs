//! `jetbase upgrade --rehearse`: what the library's rehearsal found, as a table or JSON; exit 1
//! when a migration failed.

use jetbase::Rehearsal;
use serde_json::json;

use super::Context;
use crate::error::CliError;
use crate::output::plural;
use crate::output::{self, Colour, Table};

/// Prints the rehearsal; a failed migration is an error (exit 1) naming its file and line.
pub fn print(context: &Context, rehearsal: &Rehearsal) -> Result<(), CliError> {
    if context.json {
        output::print_json(&rehearsal_json(rehearsal))?;
    } else {
        print_text(context, rehearsal);
    }
    match &rehearsal.failure {
        None => Ok(()),
        Some(failure) => Err(CliError::run(format!(
            "rehearsal: `{}` failed at line {}: {}",
            failure.filename, failure.line, failure.statement
        ))
        .caused_by(&failure.message)),
    }
}

fn print_text(context: &Context, rehearsal: &Rehearsal) {
    if rehearsal.migrations.is_empty() && rehearsal.failure.is_none() {
        crate::output::outln!("The database is up to date: nothing to rehearse.");
        return;
    }
    let mut table = Table::new(vec!["VERSION", "FILE", "TIME", "LOCKS TAKEN"]);
    for migration in &rehearsal.migrations {
        let locks: Vec<String> = migration.locks.iter().map(ToString::to_string).collect();
        table.push(vec![
            (
                migration.version.clone().unwrap_or_else(|| "-".to_owned()),
                None,
            ),
            (migration.filename.clone(), None),
            (output::millis(migration.duration), Some(Colour::Dim)),
            (locks.join(", "), None),
        ]);
    }
    if !rehearsal.migrations.is_empty() {
        crate::output::out!("{}", table.render(context.style));
    }
    let place = if rehearsal.on_copy {
        "on a copy of the database, deleted afterwards"
    } else {
        "in one transaction, rolled back"
    };
    let count = rehearsal.migrations.len();
    match &rehearsal.failure {
        None => crate::output::outln!(
            "{}",
            context.style.paint(
                &format!(
                    "Rehearsed {count} migration{} {place}: all ran; nothing of them remains.",
                    plural(count)
                ),
                Colour::Green
            )
        ),
        Some(failure) => {
            crate::output::outln!(
                "{}",
                context.style.paint(
                    &format!(
                        "{} FAILED at line {}: {}",
                        crate::output::printable(&failure.filename),
                        failure.line,
                        crate::output::printable_lines(&failure.message)
                    ),
                    Colour::Red
                )
            );
            if !rehearsal.not_reached.is_empty() {
                crate::output::outln!(
                    "Not reached: {}",
                    crate::output::printable(&rehearsal.not_reached.join(", "))
                );
            }
            crate::output::outln!(
                "Rehearsed {count} migration{} before it {place}; nothing of them remains.",
                plural(count)
            );
        }
    }
}

/// `{"rehearsal": {"on_copy", "succeeded", "migrations": [{"version", "filename",
/// "duration_ms", "statements", "locks": [{"table", "mode"}]}], "failure": {"filename", "line",
/// "statement", "message"} | null, "not_reached": [..]}}`.
fn rehearsal_json(rehearsal: &Rehearsal) -> serde_json::Value {
    json!({
        "rehearsal": {
            "on_copy": rehearsal.on_copy,
            "succeeded": rehearsal.succeeded(),
            "migrations": rehearsal.migrations.iter().map(|migration| json!({
                "version": migration.version,
                "filename": migration.filename,
                "duration_ms": u64::try_from(migration.duration.as_millis()).unwrap_or(u64::MAX),
                "statements": migration.statements,
                "locks": migration.locks.iter().map(|lock| json!({
                    "table": lock.table,
                    "mode": lock.mode,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "failure": rehearsal.failure.as_ref().map(|failure| json!({
                "filename": failure.filename,
                "line": failure.line,
                "statement": failure.statement,
                "message": failure.message,
            })),
            "not_reached": rehearsal.not_reached,
        }
    })
}
