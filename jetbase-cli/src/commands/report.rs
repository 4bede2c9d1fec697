//! `jetbase status`, `history` and `current`: read-only, they create nothing.

use jetbase::{AppliedMigration, MigrationStatus, State};
use serde_json::json;

use super::Context;
use crate::database::Access;
use crate::error::CliError;
use crate::output::{self, Colour, Table};

pub async fn status(context: &Context) -> Result<(), CliError> {
    let (migrator, history) = context
        .migrator_beside(async {
            let pool = context.connect(Access::ReadOnly).await?;
            let history = context.database_only().history(&pool).await;
            pool.close().await;
            Ok(history?)
        })
        .await?;
    let entries = migrator.status_of(&history);
    if context.json {
        output::print_json_list("migrations", &entries, status_json)?;
        return Ok(());
    }
    if entries.is_empty() {
        crate::output::outln!("No migrations yet: create one with `jetbase new \"description\"`.");
        return Ok(());
    }
    let mut table = Table::new(vec!["STATE", "VERSION", "FILE", "APPLIED AT", "NOTE"]);
    for entry in &entries {
        let (word, colour) = state_word(entry);
        table.push(vec![
            (word.to_owned(), Some(colour)),
            (
                entry.version.clone().unwrap_or_else(|| "-".to_owned()),
                None,
            ),
            (entry.filename.clone(), None),
            (
                entry.applied_at.clone().unwrap_or_default(),
                Some(Colour::Dim),
            ),
            (note(entry), Some(Colour::Yellow)),
        ]);
    }
    crate::output::out!("{}", table.render(context.style));
    crate::output::outln!("{}", status_summary(&entries));
    Ok(())
}

/// `N applied, N pending, N changed, N missing, N failed`: the last line of `status`, and a
/// target's line on a fleet.
pub(super) fn status_summary(entries: &[MigrationStatus]) -> String {
    let count = |state: State| entries.iter().filter(|e| e.state == state).count();
    let newer = match count(State::Newer) {
        0 => String::new(),
        newer => format!(", {newer} newer"),
    };
    format!(
        "{} applied, {} pending, {} changed, {} missing, {} failed{newer}",
        count(State::Applied),
        count(State::Pending),
        count(State::ChecksumDrift),
        count(State::MissingFile),
        count(State::Failed)
    )
}

fn state_word(entry: &MigrationStatus) -> (&'static str, Colour) {
    match entry.state {
        State::Applied => ("applied", Colour::Green),
        State::Pending => ("pending", Colour::Yellow),
        State::ChecksumDrift => ("changed", Colour::Red),
        State::MissingFile => ("missing", Colour::Red),
        State::Failed => ("failed", Colour::Red),
        State::Newer => ("newer", Colour::Yellow),
        _ => ("unknown", Colour::Red),
    }
}

fn state_key(state: State) -> &'static str {
    match state {
        State::Applied => "applied",
        State::Pending => "pending",
        State::ChecksumDrift => "checksum_drift",
        State::MissingFile => "missing_file",
        State::Failed => "failed",
        State::Newer => "newer",
        _ => "unknown",
    }
}

/// What a person should know beside the state.
fn note(entry: &MigrationStatus) -> String {
    let versioned = entry.kind == Some(jetbase::MigrationKind::Versioned);
    let mut notes = Vec::new();
    match entry.state {
        State::ChecksumDrift => notes.push("file edited after it was applied"),
        State::MissingFile => notes.push("file is gone"),
        State::Newer => notes.push("applied by a newer release"),
        State::Failed => notes.push("did not finish (no-transaction)"),
        State::Pending if entry.applied_at.is_some() => notes.push("changed, runs again"),
        _ => {}
    }
    if versioned
        && !entry.has_rollback_sql
        && !matches!(entry.state, State::MissingFile | State::Newer)
    {
        notes.push("no rollback SQL");
    }
    notes.join("; ")
}

fn status_json(entry: &MigrationStatus) -> serde_json::Value {
    json!({
        "kind": entry.kind.map(|kind| kind.as_str()),
        "version": entry.version,
        "filename": entry.filename,
        "description": entry.description,
        "state": state_key(entry.state),
        "applied_at": entry.applied_at,
        "has_rollback_sql": entry.has_rollback_sql,
    })
}

pub async fn history(context: &Context) -> Result<(), CliError> {
    let migrator = context.database_only();
    let pool = context.connect(Access::ReadOnly).await?;
    let rows = migrator.history(&pool).await?;
    pool.close().await;
    if context.json {
        output::print_json_list("migrations", &rows, history_json)?;
        return Ok(());
    }
    if rows.is_empty() {
        crate::output::outln!("No migrations have been applied yet.");
        return Ok(());
    }
    let mut table = Table::new(vec![
        "#",
        "VERSION",
        "FILE",
        "TYPE",
        "APPLIED AT",
        "TIME",
        "CHECKSUM",
    ]);
    for row in &rows {
        let failed = row.success == Some(false);
        table.push(vec![
            (row.order_executed.to_string(), None),
            (row.version.clone().unwrap_or_else(|| "-".to_owned()), None),
            (row.filename.clone(), failed.then_some(Colour::Red)),
            (row.migration_type.clone(), None),
            (row.applied_at.clone(), Some(Colour::Dim)),
            (
                match (failed, row.execution_ms) {
                    (true, _) => "failed".to_owned(),
                    (false, Some(ms)) => format!("{ms} ms"),
                    (false, None) => String::new(),
                },
                Some(Colour::Dim),
            ),
            (
                row.checksum
                    .as_deref()
                    .map(|c| c.chars().take(12).collect())
                    .unwrap_or_default(),
                Some(Colour::Dim),
            ),
        ]);
    }
    crate::output::out!("{}", table.render(context.style));
    Ok(())
}

fn history_json(row: &AppliedMigration) -> serde_json::Value {
    json!({
        "order_executed": row.order_executed,
        "version": row.version,
        "description": row.description,
        "filename": row.filename,
        "migration_type": row.migration_type,
        "applied_at": row.applied_at,
        "checksum": row.checksum,
        "execution_ms": row.execution_ms,
        "success": row.success,
    })
}

pub async fn current(context: &Context) -> Result<(), CliError> {
    let migrator = context.database_only();
    let pool = context.connect(Access::ReadOnly).await?;
    let latest = migrator.current(&pool).await?;
    pool.close().await;
    if context.json {
        output::print_json(&json!({
            "version": latest.as_ref().and_then(|row| row.version.clone()),
            "filename": latest.as_ref().map(|row| row.filename.clone()),
            "applied_at": latest.as_ref().map(|row| row.applied_at.clone()),
        }))?;
        return Ok(());
    }
    match latest {
        Some(row) => crate::output::outln!(
            "Current version: {} ({}, applied at {})",
            crate::output::printable(row.version.as_deref().unwrap_or_default()),
            crate::output::printable(&row.filename),
            crate::output::printable(&row.applied_at)
        ),
        None => crate::output::outln!("No migrations have been applied yet."),
    }
    Ok(())
}

/// `jetbase wait`: until the database holds every migration, or the timeout. `{"current": bool,
/// "pending": [files], "waited_ms"}` with `--json`.
pub async fn wait(context: &Context, args: &crate::cli::WaitArgs) -> Result<(), CliError> {
    let seconds = crate::settings::seconds_value;
    let timeout = seconds(args.timeout, "--timeout")?;
    let interval = match args.interval {
        Some(value) => seconds(value, "--interval")?,
        None => context.settings.wait_interval,
    };
    let migrator = context.migrator()?;
    let pool = context.connect(Access::ReadOnly).await?;
    let result = migrator
        .wait_until_current(&pool, timeout)
        .poll_every(interval)
        .await;
    pool.close().await;
    let (pending, waited) = match &result {
        Ok(waited) => (Vec::new(), *waited),
        Err(jetbase::Error::NotCurrent { pending, waited }) => (pending.clone(), *waited),
        Err(_) => (Vec::new(), std::time::Duration::ZERO),
    };
    if context.json && matches!(result, Ok(_) | Err(jetbase::Error::NotCurrent { .. })) {
        output::print_json(&json!({
            "current": result.is_ok(),
            "pending": pending,
            "waited_ms": u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
        }))?;
    }
    result?;
    if !context.json {
        crate::output::outln!(
            "The database is current (waited {}).",
            output::millis(waited)
        );
    }
    Ok(())
}
