//! What a run tells the application's logs: `tracing` spans and events under the target
//! `jetbase` (feature `tracing`, on by default). Nothing is written unless the application
//! installs a subscriber; without the feature every function here is empty and the crate does
//! not depend on `tracing`.
//!
//! The names, fields and levels are part of the documented API (the README's table of
//! events), so they are all written here, in one place. Never a URL or a password; the SQL
//! text only at TRACE, cut to 500 characters.

use std::future::Future;
use std::time::Duration;

#[cfg(feature = "tracing")]
use jetbase_core::Version;
use jetbase_core::{AppliedMigration, Dialect, Migration, Placeholders};

use crate::Direction;

/// The longest statement text a TRACE event carries, in characters (a statement can be
/// megabytes of data).
#[cfg(feature = "tracing")]
pub(crate) const TRACED_SQL_CHARS: usize = 500;

/// The operations that run in a span of their own (the span's name).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation {
    Upgrade,
    Rollback,
    Baseline,
    RecordAsApplied,
    Repair,
    Rehearse,
}

/// Runs `future` inside the operation's span (INFO, fields `database` and, once planned,
/// `planned`).
pub(crate) async fn in_span<T>(
    operation: Operation,
    dialect: Dialect,
    future: impl Future<Output = T>,
) -> T {
    #[cfg(feature = "tracing")]
    {
        use tracing::Instrument;
        use tracing::field::Empty;
        // A span's name is a literal: one call per operation.
        let span = match operation {
            Operation::Upgrade => {
                tracing::info_span!(target: "jetbase", "upgrade", database = %dialect, planned = Empty)
            }
            Operation::Rollback => {
                tracing::info_span!(target: "jetbase", "rollback", database = %dialect, planned = Empty)
            }
            Operation::Baseline => {
                tracing::info_span!(target: "jetbase", "baseline", database = %dialect, planned = Empty)
            }
            Operation::RecordAsApplied => tracing::info_span!(
                target: "jetbase", "record_as_applied", database = %dialect, planned = Empty
            ),
            Operation::Repair => {
                tracing::info_span!(target: "jetbase", "repair", database = %dialect, planned = Empty)
            }
            Operation::Rehearse => {
                tracing::info_span!(target: "jetbase", "rehearse", database = %dialect, planned = Empty)
            }
        };
        future.instrument(span).await
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (operation, dialect);
        future.await
    }
}

/// The number of migrations the run plans (recorded on its span), and a DEBUG event when it
/// plans none.
pub(crate) fn planned(count: usize) {
    #[cfg(feature = "tracing")]
    {
        tracing::Span::current().record("planned", count);
        if count == 0 {
            tracing::debug!(target: "jetbase", "nothing to run");
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = count;
}

/// The fast path found the database up to date (DEBUG): the only event of such a run.
pub(crate) fn up_to_date(migrations: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: "jetbase", migrations, "the database is up to date");
    #[cfg(not(feature = "tracing"))]
    let _ = migrations;
}

/// The placeholder values a run puts into its statements (DEBUG, never above): each
/// `name=value`, the values of names containing `password`, `secret` or `token` as `***`.
pub(crate) fn placeholders(placeholders: &Placeholders) {
    #[cfg(feature = "tracing")]
    if !placeholders.is_empty() {
        tracing::debug!(target: "jetbase", values = %placeholders.shown(), "placeholders");
    }
    #[cfg(not(feature = "tracing"))]
    let _ = placeholders;
}

/// A migration whose file is gone is rolled back with the rollback SQL its history row keeps
/// (INFO, before it runs).
pub(crate) fn kept_rollback(filename: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "jetbase",
        filename,
        "its file is gone: rolling back with the SQL kept in its history row"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = filename;
}

/// The versions a newer release applied, left as they are (`on_newer_database = ignore`;
/// WARN): `versions` newest first.
pub(crate) fn newer_ignored(rows: &[&AppliedMigration]) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jetbase",
        versions = %versions_of(rows),
        "the database is newer than these migrations: leaving the versions a newer release applied"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = rows;
}

/// The versions a newer release applied, about to be rolled back (`on_newer_database =
/// roll-back`; WARN): `versions` newest first.
pub(crate) fn newer_rolling_back(rows: &[&AppliedMigration]) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jetbase",
        versions = %versions_of(rows),
        "the database is newer than these migrations: rolling back the versions a newer release applied"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = rows;
}

#[cfg(feature = "tracing")]
fn versions_of(rows: &[&AppliedMigration]) -> String {
    rows.iter()
        .map(|row| row.version.as_deref().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether anyone listens to [`lock_waiting`]: the holder it names is read from the lock
/// row, a query worth sending only then.
pub(crate) fn lock_wait_is_logged() -> bool {
    #[cfg(feature = "tracing")]
    return tracing::enabled!(target: "jetbase", tracing::Level::INFO);
    #[cfg(not(feature = "tracing"))]
    false
}

/// The run waits for the migration lock, held by `holder` since `since` (INFO).
pub(crate) fn lock_waiting(holder: Option<&str>, since: Option<&str>) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: "jetbase",
        holder = holder.unwrap_or("unknown"),
        since = since.unwrap_or("unknown"),
        "waiting for the migration lock"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (holder, since);
}

/// The run took the migration lock: INFO after a wait, DEBUG when it was free.
pub(crate) fn lock_taken(waited: Option<Duration>) {
    #[cfg(feature = "tracing")]
    match waited {
        Some(waited) => tracing::info!(
            target: "jetbase",
            waited_ms = millis(waited),
            "took the migration lock"
        ),
        None => tracing::debug!(target: "jetbase", waited_ms = 0_u64, "took the migration lock"),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = waited;
}

/// Whether anyone listens to [`lock_taken_over`], where naming the dead holder costs a query.
#[cfg_attr(not(feature = "clickhouse"), allow(dead_code))]
pub(crate) fn take_over_is_logged() -> bool {
    #[cfg(feature = "tracing")]
    return tracing::enabled!(target: "jetbase", tracing::Level::WARN);
    #[cfg(not(feature = "tracing"))]
    false
}

/// The run took the lock over from `holder`, found dead (WARN): `lease_expired` where its
/// lease ran out, otherwise its session ended.
pub(crate) fn lock_taken_over(holder: &str, lease_expired: bool) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jetbase",
        holder,
        reason = if lease_expired { "lease expired" } else { "session ended" },
        "took the migration lock over from a dead holder"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (holder, lease_expired);
}

/// A statement about to run (TRACE), its text cut to `TRACED_SQL_CHARS`.
pub(crate) fn statement(filename: &str, line: usize, sql: &str) {
    #[cfg(feature = "tracing")]
    if tracing::enabled!(target: "jetbase", tracing::Level::TRACE) {
        tracing::trace!(
            target: "jetbase",
            filename,
            line,
            sql = %cut(sql, TRACED_SQL_CHARS),
            "statement"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (filename, line, sql);
}

/// A migration applied or rolled back (INFO), with `no_transaction = true` for one that ran
/// outside a transaction.
pub(crate) fn migration_done(
    direction: Direction,
    migration: &Migration,
    duration: Duration,
    in_transaction: bool,
) {
    #[cfg(feature = "tracing")]
    {
        let version = migration.version().map(Version::as_str);
        let filename = migration.filename();
        let kind = migration.kind().as_str();
        let duration_ms = millis(duration);
        match (direction, in_transaction) {
            (Direction::Upgrade, true) => tracing::info!(
                target: "jetbase", version, filename, kind, duration_ms, "applied"
            ),
            (Direction::Upgrade, false) => tracing::info!(
                target: "jetbase", version, filename, kind, duration_ms, no_transaction = true,
                "applied"
            ),
            (Direction::Rollback, true) => tracing::info!(
                target: "jetbase", version, filename, kind, duration_ms, "rolled back"
            ),
            (Direction::Rollback, false) => tracing::info!(
                target: "jetbase", version, filename, kind, duration_ms, no_transaction = true,
                "rolled back"
            ),
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (direction, migration, duration, in_transaction);
}

/// A migration that failed for a table lock it could not get in time was rolled back and
/// runs again after `wait` (WARN).
pub(crate) fn retrying(
    filename: &str,
    attempt: u32,
    attempts: u32,
    wait: Duration,
    table: Option<&str>,
) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jetbase",
        filename,
        attempt,
        attempts,
        wait_ms = millis(wait),
        table,
        "lock timeout: trying the migration again"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (filename, attempt, attempts, wait, table);
}

/// A failed migration left its earlier statements applied (WARN): the database is between
/// two versions, and the error the call returns says what to do.
pub(crate) fn partially_applied(filename: &str, line: usize) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        target: "jetbase",
        filename,
        line,
        "migration partially applied: the statements before the failing one stay in the database"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (filename, line);
}

/// Whole milliseconds, saturating.
#[cfg(feature = "tracing")]
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `text` on one line, cut to `limit` characters (with `...` when cut).
#[cfg(feature = "tracing")]
fn cut(text: &str, limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(limit) {
        Some((end, _)) => format!("{}...", &flat[..end]),
        None => flat,
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;

    #[test]
    fn long_statements_are_cut_on_a_character_boundary() {
        assert_eq!(cut("SELECT\n  1", 100), "SELECT 1");
        let long = "é".repeat(600);
        let cut = cut(&long, TRACED_SQL_CHARS);
        assert_eq!(cut.chars().count(), TRACED_SQL_CHARS + 3);
        assert!(cut.ends_with("..."));
    }
}
