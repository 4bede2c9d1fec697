//! What an upgrade or rollback did, and where each migration stands.

use std::time::Duration;

use jetbase_core::{AppliedMigration, Migration, MigrationKind, State};

/// What an upgrade or a rollback did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// True when nothing was run or written.
    pub dry_run: bool,
    /// The migrations, in the order they ran (or would run).
    pub migrations: Vec<ReportEntry>,
}

/// One migration of a [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportEntry {
    /// Versioned or repeatable.
    pub kind: MigrationKind,
    /// The version, for versioned migrations.
    pub version: Option<String>,
    /// The file name.
    pub filename: String,
    /// How long it took (zero in a dry run).
    pub duration: Duration,
    /// The statements it runs, in a dry run (empty otherwise).
    pub sql: Vec<String>,
    /// How many statements it ran (or, in a dry run, would run): 0 for a migration without SQL.
    pub statements: usize,
    /// Applied or rolled back: an upgrade that first rolls back a newer release's migrations
    /// ([`NewerDatabase::RollBack`](crate::NewerDatabase::RollBack)) reports both.
    pub direction: crate::Direction,
}

impl ReportEntry {
    pub(crate) fn new(
        migration: &Migration,
        direction: crate::Direction,
        duration: Duration,
        statements: usize,
        sql: Vec<String>,
    ) -> Self {
        Self {
            kind: migration.kind(),
            version: migration.version().map(ToString::to_string),
            filename: migration.filename().to_owned(),
            duration,
            sql,
            statements,
            direction,
        }
    }
}

/// Where one migration stands (see [`Migrator::status`](crate::Migrator::status)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// Versioned or repeatable (`None` for a history row of unknown type).
    pub kind: Option<MigrationKind>,
    /// The version, for versioned migrations.
    pub version: Option<String>,
    /// The file name.
    pub filename: String,
    /// The description.
    pub description: String,
    /// Applied, pending, drifted, missing or failed.
    pub state: State,
    /// When it was applied, as the database renders it.
    pub applied_at: Option<String>,
    /// Whether rolling it back runs any SQL (false when its file is gone).
    pub has_rollback_sql: bool,
}

pub(crate) fn status(local: &[Migration], history: &[AppliedMigration]) -> Vec<MigrationStatus> {
    jetbase_core::status(local, history)
        .into_iter()
        .map(|entry| {
            let migration = entry.index.map(|index| &local[index]);
            let row = entry.row.as_ref();
            MigrationStatus {
                kind: migration
                    .map(Migration::kind)
                    .or_else(|| row.and_then(AppliedMigration::kind)),
                version: migration
                    .and_then(|m| m.version().map(ToString::to_string))
                    .or_else(|| row.and_then(|r| r.version.clone())),
                filename: migration
                    .map(|m| m.filename().to_owned())
                    .or_else(|| row.map(|r| r.filename.clone()))
                    .unwrap_or_default(),
                description: migration
                    .map(|m| m.description().to_owned())
                    .or_else(|| row.map(|r| r.description.clone()))
                    .unwrap_or_default(),
                state: entry.state,
                applied_at: row.map(|r| r.applied_at.clone()),
                has_rollback_sql: migration.is_some_and(Migration::has_rollback_sql),
            }
        })
        .collect()
}

/// Whether a report entry is a versioned migration (helper for callers counting them).
impl ReportEntry {
    /// True for versioned migrations.
    pub fn is_versioned(&self) -> bool {
        self.kind == MigrationKind::Versioned
    }
}
