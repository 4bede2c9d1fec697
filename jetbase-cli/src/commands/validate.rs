//! `jetbase validate [--fix]`, and Python Jetbase's `validate-checksums`, `validate-files`,
//! `fix-checksums`, `fix-files` and `fix`. Unlike Python Jetbase, a problem found exits 1, so
//! CI can gate on it.

use jetbase::{PlanError, RepairReport, RepairedRow};
use serde_json::json;

use super::Context;
use crate::database::Access;
use crate::error::CliError;
use crate::output::{self, Colour};

/// Which checks a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything an upgrade would stop on.
    All,
    /// Applied files edited since.
    Checksums,
    /// Applied files gone.
    Files,
}

impl Scope {
    fn covers(self, problem: &PlanError, out_of_order_allowed: bool) -> bool {
        match (self, problem) {
            (_, PlanError::OutOfOrder { .. }) if out_of_order_allowed => false,
            (Self::All, _) => true,
            (Self::Checksums, PlanError::ChecksumMismatch { .. }) => true,
            (Self::Files, PlanError::MissingFile { .. } | PlanError::NewerDatabase { .. }) => true,
            _ => false,
        }
    }
}

pub async fn run(context: &Context, scope: Scope, fix: bool, force: bool) -> Result<(), CliError> {
    let migrator = context.migrator()?;
    let pool = context.connect(Access::ReadOnly).await?;
    let repaired = if fix {
        let repair = || {
            migrator
                .repair(&pool)
                .checksums(scope != Scope::Files)
                .files(scope != Scope::Checksums)
        };
        if !force {
            // Forgetting every row (the files moved away, a wrong --dir) is asked first.
            let planned = repair().dry_run(true).await?;
            let rows = migrator.history(&pool).await?.len();
            if rows > 0 && planned.rows_removed.len() == rows {
                output::confirm(
                    &format!(
                        "--fix would forget all {rows} rows of the history: no file of theirs \
                         is in {}. The database keeps what they made, and the next upgrade \
                         would run them again.",
                        context.settings.project.migrations_dir().display()
                    ),
                    "--force",
                )?;
            }
        }
        Some(repair().await?)
    } else {
        None
    };
    let problems: Vec<PlanError> = migrator
        .validate(&pool)
        .await?
        .into_iter()
        .filter(|problem| scope.covers(problem, context.settings.out_of_order))
        .collect();
    pool.close().await;
    if context.json {
        output::print_json(&json!({
            "valid": problems.is_empty(),
            "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
            "repaired": repaired.as_ref().map(repair_json),
        }))?;
    } else {
        if let Some(report) = &repaired {
            print_repair(context, report);
        }
        if problems.is_empty() {
            crate::output::outln!(
                "{}",
                context.style.paint(
                    "Valid: every applied migration matches its file.",
                    Colour::Green
                )
            );
        }
        for problem in &problems {
            crate::output::outln!(
                "{} {}",
                context.style.paint("problem:", Colour::Red),
                crate::output::printable_lines(&problem.to_string())
            );
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let hint = if fix {
        "these cannot be repaired by --fix; see each problem for what to do"
    } else {
        "see each problem for what to do"
    };
    Err(CliError::run(format!(
        "validation found {} problem{}; {hint}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )))
}

fn print_repair(context: &Context, report: &RepairReport) {
    if report.is_empty() {
        crate::output::outln!("Nothing to repair.");
    }
    for row in &report.checksums_updated {
        crate::output::outln!(
            "{} accepted the edit of {} (checksum {} -> {})",
            context.style.paint("repaired:", Colour::Green),
            crate::output::printable(&row.filename),
            short(row.old_checksum.as_deref()),
            short(row.new_checksum.as_deref())
        );
    }
    for row in &report.rows_removed {
        crate::output::outln!(
            "{} stopped tracking {} (its file is gone; the database was not changed)",
            context.style.paint("repaired:", Colour::Green),
            crate::output::printable(&row.filename)
        );
    }
}

fn short(checksum: Option<&str>) -> String {
    checksum.map_or_else(|| "none".to_owned(), |c| c.chars().take(12).collect())
}

fn problem_json(problem: &PlanError) -> serde_json::Value {
    let kind = match problem {
        PlanError::ChecksumMismatch { .. } => "checksum_mismatch",
        PlanError::MissingFile { .. } => "missing_file",
        PlanError::NewerDatabase { .. } => "newer_database",
        PlanError::OutOfOrder { .. } => "out_of_order",
        PlanError::Failed { .. } => "failed",
        PlanError::BadHistoryRow { .. } => "bad_history_row",
        PlanError::TargetVersion { .. } => "target_version",
        PlanError::RollbackWithoutFile { .. } => "rollback_without_file",
        _ => "other",
    };
    json!({ "kind": kind, "message": problem.to_string() })
}

fn repair_json(report: &RepairReport) -> serde_json::Value {
    let rows = |rows: &[RepairedRow]| {
        rows.iter()
            .map(|row| {
                json!({
                    "version": row.version,
                    "filename": row.filename,
                    "old_checksum": row.old_checksum,
                    "new_checksum": row.new_checksum,
                })
            })
            .collect::<Vec<_>>()
    };
    json!({
        "checksums_updated": rows(&report.checksums_updated),
        "rows_removed": rows(&report.rows_removed),
    })
}
