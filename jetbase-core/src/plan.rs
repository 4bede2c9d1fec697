//! The pure decisions: given the local migrations and the history, what an upgrade or a rollback
//! does, and what is wrong. No database here; every driver shares these.

use std::collections::HashMap;

use crate::migration::Migration;
use crate::name::MigrationKind;
use crate::newer::{NewerDatabase, is_newer};
use crate::version::Version;

/// One row of `jetbase_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The `order_executed` identity.
    pub order_executed: i64,
    /// The version as stored; `None` for repeatables.
    pub version: Option<String>,
    /// The stored description.
    pub description: String,
    /// The stored file name.
    pub filename: String,
    /// The stored `migration_type` text (`VERSIONED`, `RUNS_ALWAYS`, `RUNS_ON_CHANGE`).
    pub migration_type: String,
    /// `applied_at` as the database renders it.
    pub applied_at: String,
    /// The stored checksum.
    pub checksum: Option<String>,
    /// jetbase's own column: `Some(false)` while a no-transaction migration has not finished;
    /// `None` on rows written by Python Jetbase.
    pub success: Option<bool>,
    /// jetbase's own column: how long the migration took.
    pub execution_ms: Option<i64>,
}

impl AppliedMigration {
    /// The kind, if `migration_type` holds a known value.
    pub fn kind(&self) -> Option<MigrationKind> {
        match self.migration_type.as_str() {
            "VERSIONED" => Some(MigrationKind::Versioned),
            "RUNS_ALWAYS" => Some(MigrationKind::RunsAlways),
            "RUNS_ON_CHANGE" => Some(MigrationKind::RunsOnChange),
            _ => None,
        }
    }

    /// Whether this row records a no-transaction migration that did not finish.
    pub fn is_failed(&self) -> bool {
        self.success == Some(false)
    }

    fn label(&self) -> String {
        match &self.version {
            Some(version) => format!("version {version} ({})", self.filename),
            None => format!("`{}`", self.filename),
        }
    }
}

/// How an upgrade chooses what to apply: by default every pending migration, after validating
/// the history against the files; each field narrows or relaxes that.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOptions {
    /// Apply at most this many pending versioned migrations.
    pub count: Option<usize>,
    /// Apply pending versioned migrations up to and including this one.
    pub to_version: Option<Version>,
    /// Skip every validation.
    pub skip_validation: bool,
    /// Skip the check that applied files are unchanged.
    pub skip_checksum_validation: bool,
    /// Skip the check that applied files still exist.
    pub skip_file_validation: bool,
    /// Allow a pending version below the latest applied one.
    pub out_of_order: bool,
    /// What to do about versions applied above every local one (a newer release's): refused
    /// by default ([`PlanError::NewerDatabase`]); ignored by `Ignore` and `RollBack` (the
    /// caller rolls them back before planning).
    pub newer_database: NewerDatabase,
}

/// How a rollback chooses what to undo: by default the last applied versioned migration.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// Roll back this many versioned migrations (default 1).
    pub count: Option<usize>,
    /// Roll back everything applied after this version; it stays.
    pub to_version: Option<Version>,
}

/// How a planned migration is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A new history row.
    Insert,
    /// The repeatable's existing row gets the new checksum and time.
    Update,
}

/// One migration an upgrade runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index into the local migrations.
    pub index: usize,
    /// How its history row is written.
    pub record: Record,
}

/// [`PlanError::ChecksumMismatch`]'s message: an edit of the applied file, or another file that
/// took its version (reported as an edit of the applied one, it sent users looking at the
/// wrong file).
fn describe_mismatch(
    version: &str,
    filename: &str,
    local_filename: &str,
    applied: &str,
    local: &str,
) -> String {
    if filename == local_filename {
        format!(
            "version {version} ({filename}) was changed after it was applied: checksum {applied} \
             in the history, {local} on disk. Restore the file, or accept the edit with `jetbase \
             validate --fix` (skip with skip_checksum_validation)"
        )
    } else {
        format!(
            "version {version} was applied as {filename}, and the file with that version now is \
             {local_filename}, with other contents (checksum {applied} in the history, {local} on \
             disk): give {local_filename} a version of its own and restore {filename}, or, if it \
             replaces it on purpose, accept it with `jetbase validate --fix`"
        )
    }
}

/// Something that stops an upgrade or a rollback before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// An applied file was edited, or another file with other contents took its version.
    #[error(
        "{}",
        describe_mismatch(version, filename, local_filename, applied, local)
    )]
    ChecksumMismatch {
        /// The version.
        version: String,
        /// The file, as the history names it.
        filename: String,
        /// The file with that version now (the same name, unless another file took the
        /// version).
        local_filename: String,
        /// The checksum in the history.
        applied: String,
        /// The checksum of the file now.
        local: String,
    },
    /// An applied migration whose file is gone.
    #[error(
        "{label} is in the history but its file is missing. Restore the file, or remove the row \
         with `jetbase validate --fix` (skip with skip_file_validation)"
    )]
    MissingFile {
        /// Which migration.
        label: String,
    },
    /// A version applied by a newer release: above every migration here, and its file is not
    /// here.
    #[error(
        "{label} was applied at {applied_at} by a newer release: this one has no such file. Run \
         the release that applied it; or set on_newer_database to `ignore` to run this one \
         beside it, or to `roll-back` to undo it with the rollback SQL stored when it was \
         applied; if no release has it (a file deleted by mistake), restore the file, or \
         remove the row with `jetbase validate --fix`"
    )]
    NewerDatabase {
        /// Which migration.
        label: String,
        /// When it was applied, as the database renders it.
        applied_at: String,
    },
    /// A pending version below the latest applied one.
    #[error(
        "version {version} ({filename}) is pending but older than the latest applied version \
         {latest}. Renumber it above {latest}, or allow it with out_of_order"
    )]
    OutOfOrder {
        /// The pending version.
        version: String,
        /// Its file.
        filename: String,
        /// The latest applied version.
        latest: String,
    },
    /// A no-transaction migration that failed or was interrupted.
    #[error(
        "{label} did not finish (it ran outside a transaction, as no-transaction migrations and \
         every migration on Snowflake do, and failed or was interrupted); \
         check what it applied, undo it by hand if needed, then `jetbase rollback` it"
    )]
    Failed {
        /// Which migration.
        label: String,
    },
    /// A history row jetbase cannot read.
    #[error("history row {order_executed} cannot be read: {problem}; correct or delete it")]
    BadHistoryRow {
        /// Its `order_executed`.
        order_executed: i64,
        /// What is wrong.
        problem: String,
    },
    /// `to_version` names no pending migration (upgrade) or no applied one (rollback).
    #[error("{problem}")]
    TargetVersion {
        /// What is wrong with it.
        problem: String,
    },
    /// A migration to roll back has no file.
    #[error(
        "{label} cannot be rolled back: its file is missing and its history row keeps no \
         rollback SQL (written by Python Jetbase, by an older jetbase, or on a database where \
         jetbase keeps none); restore the file, or undo it by hand and remove the row with \
         `jetbase validate --fix`"
    )]
    RollbackWithoutFile {
        /// Which migration.
        label: String,
    },
}

/// The history, indexed for planning.
struct History<'a> {
    versioned: HashMap<Version, &'a AppliedMigration>,
    repeatable: HashMap<&'a str, &'a AppliedMigration>,
    latest: Option<Version>,
    problems: Vec<PlanError>,
}

impl<'a> History<'a> {
    fn index(applied: &'a [AppliedMigration]) -> Self {
        let mut history = History {
            versioned: HashMap::new(),
            repeatable: HashMap::new(),
            latest: None,
            problems: Vec::new(),
        };
        for row in applied {
            let bad = |problem: String| PlanError::BadHistoryRow {
                order_executed: row.order_executed,
                problem,
            };
            match (row.kind(), &row.version) {
                (None, _) => history.problems.push(bad(format!(
                    "unknown migration_type `{}` (expected VERSIONED, RUNS_ALWAYS or RUNS_ON_CHANGE)",
                    row.migration_type
                ))),
                (Some(MigrationKind::Versioned), None) => {
                    history.problems.push(bad("a VERSIONED row without a version".to_owned()))
                }
                (Some(MigrationKind::Versioned), Some(text)) => match Version::parse(text) {
                    Ok(version) => {
                        if history.latest.as_ref().is_none_or(|latest| &version > latest) {
                            history.latest = Some(version.clone());
                        }
                        history.versioned.insert(version, row);
                    }
                    Err(error) => history.problems.push(bad(error.to_string())),
                },
                (Some(_), _) => {
                    history.repeatable.insert(row.filename.as_str(), row);
                }
            }
        }
        history
    }
}

/// Decides what an upgrade runs: pending versioned migrations by version (limited by `count` or
/// `to_version`), then every runs-always migration, then new or changed runs-on-change ones.
///
/// # Errors
///
/// Every validation problem at once (unless skipped): edited or missing applied files, failed
/// rows, out-of-order versions, unreadable history rows; and a `to_version` that is not pending.
pub fn plan_upgrade(
    local: &[Migration],
    applied: &[AppliedMigration],
    options: &UpgradeOptions,
) -> Result<Vec<Step>, Vec<PlanError>> {
    let history = History::index(applied);
    let mut problems = history.problems.clone();
    if !options.skip_validation {
        problems.extend(validate(local, applied, &history, options));
    }
    let mut pending: Vec<usize> = local
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.version()
                .is_some_and(|v| !history.versioned.contains_key(v))
        })
        .map(|(index, _)| index)
        .collect();
    if let Some(target) = &options.to_version {
        match pending
            .iter()
            .position(|&i| local[i].version() == Some(target))
        {
            Some(position) => pending.truncate(position + 1),
            None => problems.push(PlanError::TargetVersion {
                problem: if history.versioned.contains_key(target) {
                    format!("version {target} is already applied; nothing to upgrade to")
                } else {
                    format!("there is no migration file with version {target}")
                },
            }),
        }
    }
    if let Some(count) = options.count {
        pending.truncate(count);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut steps: Vec<Step> = pending
        .into_iter()
        .map(|index| Step {
            index,
            record: Record::Insert,
        })
        .collect();
    for (index, migration) in local.iter().enumerate() {
        let row = history.repeatable.get(migration.filename());
        let record = if row.is_some() {
            Record::Update
        } else {
            Record::Insert
        };
        let runs = match migration.kind() {
            MigrationKind::Versioned => false,
            MigrationKind::RunsAlways => true,
            MigrationKind::RunsOnChange => {
                row.is_none_or(|row| row.checksum.as_deref() != Some(migration.checksum()))
            }
        };
        if runs {
            steps.push(Step { index, record });
        }
    }
    Ok(steps)
}

fn validate(
    local: &[Migration],
    applied: &[AppliedMigration],
    history: &History<'_>,
    options: &UpgradeOptions,
) -> Vec<PlanError> {
    let mut problems = Vec::new();
    let local_versions: HashMap<&Version, &Migration> = local
        .iter()
        .filter_map(|m| m.version().map(|v| (v, m)))
        .collect();
    let local_files: HashMap<&str, &Migration> = local
        .iter()
        .filter(|m| m.kind().is_repeatable())
        .map(|m| (m.filename(), m))
        .collect();
    for row in applied {
        if row.is_failed() {
            problems.push(PlanError::Failed { label: row.label() });
        }
    }
    for (version, row) in sorted(&history.versioned) {
        match local_versions.get(version) {
            Some(migration) => {
                let stored = row.checksum.as_deref().unwrap_or("");
                if !options.skip_checksum_validation
                    && !row.is_failed()
                    && stored != migration.checksum()
                {
                    problems.push(PlanError::ChecksumMismatch {
                        version: version.to_string(),
                        filename: row.filename.clone(),
                        local_filename: migration.filename().to_owned(),
                        applied: stored.to_owned(),
                        local: migration.checksum().to_owned(),
                    });
                }
            }
            None if options.skip_file_validation => {}
            None if is_newer(version, local) => {
                if options.newer_database == NewerDatabase::Refuse {
                    problems.push(PlanError::NewerDatabase {
                        label: row.label(),
                        applied_at: row.applied_at.clone(),
                    });
                }
            }
            None => problems.push(PlanError::MissingFile { label: row.label() }),
        }
    }
    if !options.skip_file_validation {
        let mut gone: Vec<&&AppliedMigration> = history
            .repeatable
            .iter()
            .filter(|(filename, _)| !local_files.contains_key(*filename))
            .map(|(_, row)| row)
            .collect();
        gone.sort_by_key(|row| row.order_executed);
        problems.extend(
            gone.into_iter()
                .map(|row| PlanError::MissingFile { label: row.label() }),
        );
    }
    // A newer release's versions, when they are let be, do not make this one's pending
    // versions "older than the latest".
    let latest = match options.newer_database {
        NewerDatabase::Refuse => history.latest.clone(),
        _ => history
            .versioned
            .keys()
            .filter(|version| !is_newer(version, local))
            .max()
            .cloned(),
    };
    if let (Some(latest), false) = (&latest, options.out_of_order) {
        for migration in local {
            if let Some(version) = migration.version()
                && version < latest
                && !history.versioned.contains_key(version)
            {
                problems.push(PlanError::OutOfOrder {
                    version: version.to_string(),
                    filename: migration.filename().to_owned(),
                    latest: latest.to_string(),
                });
            }
        }
    }
    problems
}

fn sorted<'m, 'a>(
    map: &'m HashMap<Version, &'a AppliedMigration>,
) -> Vec<(&'m Version, &'a AppliedMigration)> {
    let mut entries: Vec<_> = map.iter().map(|(v, row)| (v, *row)).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// One migration a rollback undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackStep {
    /// Index into the local migrations.
    pub index: usize,
    /// The history row that goes.
    pub row: AppliedMigration,
}

/// The history rows a rollback with `options` undoes, newest first, whether or not their files
/// are here (a caller may have their rollback SQL elsewhere: see [`crate::stored_rollback`]).
///
/// ```
/// # fn row(order: i64, version: &str) -> jetbase_core::AppliedMigration {
/// #     jetbase_core::AppliedMigration {
/// #         order_executed: order, version: Some(version.into()), description: "x".into(),
/// #         filename: format!("V{version}__x.sql"), migration_type: "VERSIONED".into(),
/// #         applied_at: String::new(), checksum: None, success: None, execution_ms: None,
/// #     }
/// # }
/// let history = [row(1, "1"), row(2, "2"), row(3, "3")];
/// let options = jetbase_core::RollbackOptions { count: Some(2), ..Default::default() };
/// let rows = jetbase_core::rollback_rows(&history, &options)?;
/// assert_eq!(rows.iter().map(|r| r.order_executed).collect::<Vec<_>>(), [3, 2]);
/// # Ok::<(), Vec<jetbase_core::PlanError>>(())
/// ```
///
/// # Errors
///
/// A `to_version` that is not applied, unreadable history rows.
pub fn rollback_rows<'h>(
    applied: &'h [AppliedMigration],
    options: &RollbackOptions,
) -> Result<Vec<&'h AppliedMigration>, Vec<PlanError>> {
    let (chosen, problems) = chosen_for_rollback(applied, options);
    if problems.is_empty() {
        Ok(chosen.into_iter().map(|(_, row)| row).collect())
    } else {
        Err(problems)
    }
}

fn chosen_for_rollback<'h>(
    applied: &'h [AppliedMigration],
    options: &RollbackOptions,
) -> (Vec<(Version, &'h AppliedMigration)>, Vec<PlanError>) {
    let history = History::index(applied);
    let mut problems = history.problems;
    let mut versioned: Vec<(Version, &AppliedMigration)> = history.versioned.into_iter().collect();
    versioned.sort_by_key(|(_, row)| std::cmp::Reverse(row.order_executed));
    let chosen = match (&options.to_version, options.count) {
        (Some(target), _) => match versioned.iter().position(|(v, _)| v == target) {
            Some(position) => {
                versioned.truncate(position);
                versioned
            }
            None => {
                problems.push(PlanError::TargetVersion {
                    problem: format!("version {target} is not applied; cannot roll back to it"),
                });
                Vec::new()
            }
        },
        (None, count) => versioned.into_iter().take(count.unwrap_or(1)).collect(),
    };
    (chosen, problems)
}

/// Decides what a rollback undoes: the last applied versioned migration by default, the last
/// `count`, or everything applied after `to_version` — newest first. Repeatables never.
///
/// # Errors
///
/// A `to_version` that is not applied, a migration to undo whose file is gone, unreadable
/// history rows.
pub fn plan_rollback(
    local: &[Migration],
    applied: &[AppliedMigration],
    options: &RollbackOptions,
) -> Result<Vec<RollbackStep>, Vec<PlanError>> {
    let (chosen, mut problems) = chosen_for_rollback(applied, options);
    let mut steps = Vec::new();
    for (version, row) in chosen {
        match local.iter().position(|m| m.version() == Some(&version)) {
            Some(index) => steps.push(RollbackStep {
                index,
                row: row.clone(),
            }),
            None => problems.push(PlanError::RollbackWithoutFile { label: row.label() }),
        }
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(problems)
    }
}

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied and unchanged.
    Applied,
    /// Not applied yet (or, for runs-on-change, changed since it ran).
    Pending,
    /// Applied, but the file changed since.
    ChecksumDrift,
    /// In the history, but the file is gone.
    MissingFile,
    /// In the history above every migration here: applied by a newer release.
    Newer,
    /// A no-transaction migration that did not finish.
    Failed,
}

/// One line of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// Index into the local migrations, when the file exists.
    pub index: Option<usize>,
    /// The history row, when applied.
    pub row: Option<AppliedMigration>,
    /// Where it stands.
    pub state: State,
}

/// Where every migration stands: local files in apply order, then history rows without a file.
pub fn status(local: &[Migration], applied: &[AppliedMigration]) -> Vec<StatusEntry> {
    let history = History::index(applied);
    let mut entries = Vec::new();
    for (index, migration) in local.iter().enumerate() {
        let row = match migration.version() {
            Some(version) => history.versioned.get(version).copied(),
            None => history.repeatable.get(migration.filename()).copied(),
        };
        let state = match row {
            None => State::Pending,
            Some(row) if row.is_failed() => State::Failed,
            Some(row) if row.checksum.as_deref() == Some(migration.checksum()) => State::Applied,
            Some(_) if migration.kind() == MigrationKind::Versioned => State::ChecksumDrift,
            Some(_) => State::Pending,
        };
        entries.push(StatusEntry {
            index: Some(index),
            row: row.cloned(),
            state,
        });
    }
    let known: std::collections::HashSet<i64> = entries
        .iter()
        .filter_map(|e| e.row.as_ref().map(|r| r.order_executed))
        .collect();
    let mut orphans: Vec<&AppliedMigration> = applied
        .iter()
        .filter(|row| !known.contains(&row.order_executed) && row.kind().is_some())
        .collect();
    orphans.sort_by_key(|row| row.order_executed);
    entries.extend(orphans.into_iter().map(|row| {
        StatusEntry {
            index: None,
            row: Some(row.clone()),
            state: if row.is_failed() {
                State::Failed
            } else if row.kind() == Some(MigrationKind::Versioned)
                && row
                    .version
                    .as_deref()
                    .and_then(|text| Version::parse(text).ok())
                    .is_some_and(|version| is_newer(&version, local))
            {
                State::Newer
            } else {
                State::MissingFile
            },
        }
    }));
    entries
}

#[cfg(test)]
mod tests;
