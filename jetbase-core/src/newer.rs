//! A database newer than the binary: history rows of versions above every migration the binary
//! has (a release rolled back to the one before it), what an upgrade does about them, and the
//! rollback SQL kept in each history row so that they can be undone without their files.

use std::fmt;
use std::str::FromStr;

use crate::migration::Migration;
use crate::name::MigrationKind;
use crate::plan::AppliedMigration;
use crate::source::{SourceError, parse_migration};
use crate::version::Version;

/// What an upgrade does when the history holds versions above every migration it has (the
/// database was migrated by a newer release; this one was deployed again after it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NewerDatabase {
    /// Stop before anything runs, naming each unknown version and when it was applied.
    #[default]
    Refuse,
    /// Go on: what this binary knows must still validate; the unknown versions are named in a
    /// warning and left as they are.
    Ignore,
    /// Roll the unknown versions back, newest first, with the rollback SQL stored when each was
    /// applied (under the lock, each in its transaction where the database has them), then
    /// upgrade as usual.
    RollBack,
}

impl NewerDatabase {
    /// The setting's spelling: `refuse`, `ignore`, `roll-back`.
    ///
    /// ```
    /// use jetbase_core::NewerDatabase;
    /// assert_eq!(NewerDatabase::RollBack.as_str(), "roll-back");
    /// assert_eq!("roll-back".parse(), Ok(NewerDatabase::RollBack));
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Ignore => "ignore",
            Self::RollBack => "roll-back",
        }
    }
}

impl fmt::Display for NewerDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NewerDatabase {
    type Err = String;

    /// `refuse`, `ignore` or `roll-back` (also `rollback`, `roll_back`; any case).
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(Self::Refuse),
            "ignore" => Ok(Self::Ignore),
            "roll-back" | "rollback" | "roll_back" => Ok(Self::RollBack),
            _ => Err(format!(
                "{text:?} is not a policy for a newer database: use refuse, ignore or roll-back"
            )),
        }
    }
}

/// The highest version among `local`'s migrations.
fn highest_local(local: &[Migration]) -> Option<&Version> {
    local.iter().filter_map(Migration::version).max()
}

/// Whether `version`, applied but not among `local`'s files, is above all of them: applied by
/// a newer release, not a file deleted from this one. Never without versioned files: an empty
/// (or unreadable) migrations directory is not an older release, and `roll-back` must not
/// take it for one and undo the whole history.
pub(crate) fn is_newer(version: &Version, local: &[Migration]) -> bool {
    highest_local(local).is_some_and(|highest| version > highest)
}

/// The history rows of versions above every migration of `local` (applied by a newer
/// release), newest first (by `order_executed`): what `roll-back` undoes, in that order.
///
/// ```
/// # fn row(order: i64, version: &str) -> jetbase_core::AppliedMigration {
/// #     jetbase_core::AppliedMigration {
/// #         order_executed: order, version: Some(version.into()), description: "x".into(),
/// #         filename: format!("V{version}__x.sql"), migration_type: "VERSIONED".into(),
/// #         applied_at: String::new(), checksum: None, success: None, execution_ms: None,
/// #     }
/// # }
/// let local = [jetbase_core::parse_migration("V1__a.sql", b"SELECT 1;").unwrap()];
/// let history = [row(1, "1"), row(2, "2"), row(3, "3")];
/// let newer = jetbase_core::newer_rows(&local, &history);
/// assert_eq!(newer.iter().map(|r| r.order_executed).collect::<Vec<_>>(), [3, 2]);
/// ```
pub fn newer_rows<'h>(
    local: &[Migration],
    applied: &'h [AppliedMigration],
) -> Vec<&'h AppliedMigration> {
    let mut newer: Vec<&AppliedMigration> = applied
        .iter()
        .filter(|row| row.kind() == Some(MigrationKind::Versioned))
        .filter(|row| {
            row.version
                .as_deref()
                .and_then(|text| Version::parse(text).ok())
                .is_some_and(|version| is_newer(&version, local))
        })
        .collect();
    newer.sort_by_key(|row| std::cmp::Reverse(row.order_executed));
    newer
}

/// What a history row keeps of `migration` to roll it back without its file: the directives
/// that change how its rollback runs (`no-transaction`, `delimiter`, its limits) and its
/// rollback section as written (placeholders in, unsubstituted), in the file format, so that
/// [`migration_from_stored`] reads it back with the same parser. A file without a rollback
/// section stores an empty one: rolling it back removes the row, as with the file.
///
/// ```
/// let migration = jetbase_core::parse_migration(
///     "V2__add_index.sql",
///     b"-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- rollback\nDROP INDEX CONCURRENTLY i;\n",
/// ).unwrap();
/// assert_eq!(
///     jetbase_core::stored_rollback(&migration),
///     "-- jetbase: no-transaction\n-- rollback\nDROP INDEX CONCURRENTLY i;\n"
/// );
/// ```
pub fn stored_rollback(migration: &Migration) -> String {
    let mut text = String::new();
    if migration.no_transaction() {
        text.push_str("-- jetbase: no-transaction\n");
    }
    if let Some(delimiter) = migration.delimiter() {
        text.push_str(&format!("-- jetbase: delimiter={delimiter}\n"));
    }
    let limits = migration.limits();
    if let Some(timeout) = limits.table_lock_timeout {
        text.push_str(&format!(
            "-- jetbase: table-lock-timeout={}ms\n",
            timeout.as_millis()
        ));
    }
    if let Some(timeout) = limits.statement_timeout {
        text.push_str(&format!(
            "-- jetbase: statement-timeout={}ms\n",
            timeout.as_millis()
        ));
    }
    if let Some(retries) = limits.retries {
        text.push_str(&format!("-- jetbase: retries={retries}\n"));
    }
    text.push_str("-- rollback\n");
    if let Some(rollback) = migration.rollback_sql() {
        text.push_str(rollback.trim_start_matches(['\r', '\n']));
    }
    text
}

/// The migration a history row stands for, rebuilt from what [`stored_rollback`] kept: its
/// name from the row, an empty upgrade section, the stored rollback section and directives.
///
/// ```
/// # let row = jetbase_core::AppliedMigration {
/// #     order_executed: 7, version: Some("7".into()), description: "t".into(),
/// #     filename: "V7__t.sql".into(), migration_type: "VERSIONED".into(),
/// #     applied_at: String::new(), checksum: None, success: None, execution_ms: None,
/// # };
/// use jetbase_core::{Dialect, migration_from_stored, parse_migration, stored_rollback};
/// let file = parse_migration("V7__t.sql", b"CREATE TABLE t (id INT);\n-- rollback\nDROP TABLE t;")?;
/// let rebuilt = migration_from_stored(&row, &stored_rollback(&file))?;
/// assert_eq!(rebuilt.rollback_statements(Dialect::Postgres).unwrap()[0].sql, "DROP TABLE t");
/// # Ok::<(), Vec<jetbase_core::SourceError>>(())
/// ```
///
/// # Errors
///
/// The [`SourceError`]s of a stored text that does not read back (edited by hand), or of a
/// row whose file name is not a migration's.
pub fn migration_from_stored(
    row: &AppliedMigration,
    stored: &str,
) -> Result<Migration, Vec<SourceError>> {
    parse_migration(&row.filename, stored.as_bytes())
}

#[cfg(test)]
mod tests;
