//! The up-to-date check in one small query. After every upgrade or rollback, jetbase stores in
//! the lock row a digest of the history together with its row count and highest
//! `order_executed`. The fast path reads that digest and the live count and maximum: when the
//! history has not changed since (same count and maximum) and the digest equals the digest of
//! the history this migrator expects with nothing pending, the database is up to date. Anything
//! else (another tool wrote rows, a file changed, a runs-always file exists) reads the whole
//! history and plans as usual.
//!
//! What the count and maximum cannot see is a row edited in place by hand; such an edit is
//! noticed by the next full read (the next upgrade that has work, `status` or `validate`).

use jetbase_core::{AppliedMigration, Migration, MigrationKind};
use sha2::{Digest as _, Sha256};

use crate::backend::Digest;

/// The format's version, so that a future format never matches an old digest.
const FORMAT: &str = "v1";

fn digest_lines(mut lines: Vec<String>) -> String {
    lines.sort_unstable();
    Sha256::digest(lines.join("\n").as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn line(kind: &str, version: Option<&str>, filename: &str, checksum: Option<&str>) -> String {
    format!(
        "{kind}:{}:{filename}:{}",
        version.unwrap_or(""),
        checksum.unwrap_or("")
    )
}

/// The digest of the history an up-to-date database holds for `local`; `None` when no history
/// can be up to date (a runs-always migration runs on every upgrade).
pub(crate) fn expected_digest(local: &[Migration]) -> Option<String> {
    if local.iter().any(|m| m.kind() == MigrationKind::RunsAlways) {
        return None;
    }
    Some(digest_lines(
        local
            .iter()
            .map(|m| {
                line(
                    m.kind().as_str(),
                    m.version().map(|v| v.as_str()),
                    m.filename(),
                    Some(m.checksum()),
                )
            })
            .collect(),
    ))
}

/// The value to store after an upgrade or rollback: `v1:<rows>:<max order>:<digest>`, or
/// `None` when a failed row must keep every run on the full path.
pub(crate) fn stored_digest(history: &[AppliedMigration]) -> Option<String> {
    if history.iter().any(AppliedMigration::is_failed) {
        return None;
    }
    let max_order = history
        .iter()
        .map(|row| row.order_executed)
        .max()
        .unwrap_or(0);
    let digest = digest_lines(
        history
            .iter()
            .map(|row| {
                line(
                    &row.migration_type,
                    row.version.as_deref(),
                    &row.filename,
                    row.checksum.as_deref(),
                )
            })
            .collect(),
    );
    Some(format!("{FORMAT}:{}:{max_order}:{digest}", history.len()))
}

/// Whether the fast path's query proves the database up to date.
pub(crate) fn is_up_to_date(expected: Option<&str>, found: &Digest) -> bool {
    let (
        Some(expected),
        Digest::Found {
            stored: Some(stored),
            rows,
            max_order,
        },
    ) = (expected, found)
    else {
        return false;
    };
    *stored == format!("{FORMAT}:{rows}:{max_order}:{expected}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Vec<Migration> {
        let mut migrations = vec![
            jetbase_core::parse_migration("V2__b.sql", b"SELECT 2;").unwrap(),
            jetbase_core::parse_migration("V10__j.sql", b"SELECT 10;").unwrap(),
            jetbase_core::parse_migration("ROC__v.sql", b"SELECT 'v';").unwrap(),
        ];
        jetbase_core::sort_in_apply_order(&mut migrations);
        migrations
    }

    fn applied(local: &[Migration]) -> Vec<AppliedMigration> {
        local
            .iter()
            .enumerate()
            .map(|(index, m)| AppliedMigration {
                order_executed: index as i64 + 7,
                version: m.version().map(ToString::to_string),
                description: m.description().to_owned(),
                filename: m.filename().to_owned(),
                migration_type: m.kind().as_str().to_owned(),
                applied_at: String::new(),
                checksum: Some(m.checksum().to_owned()),
                success: Some(true),
                execution_ms: Some(1),
            })
            .collect()
    }

    fn found(history: &[AppliedMigration]) -> Digest {
        Digest::Found {
            stored: stored_digest(history),
            rows: history.len() as i64,
            max_order: history.iter().map(|r| r.order_executed).max().unwrap_or(0),
        }
    }

    #[test]
    fn unchanged_history_is_up_to_date() {
        let local = local();
        let expected = expected_digest(&local);
        assert!(is_up_to_date(expected.as_deref(), &found(&applied(&local))));
    }

    #[test]
    fn any_change_leaves_the_fast_path() {
        let local = local();
        let expected = expected_digest(&local);
        let history = applied(&local);
        // A row written since the digest was stored (count and maximum differ).
        let Digest::Found {
            stored,
            rows,
            max_order,
        } = found(&history)
        else {
            unreachable!()
        };
        let later = Digest::Found {
            stored: stored.clone(),
            rows: rows + 1,
            max_order: max_order + 1,
        };
        assert!(!is_up_to_date(expected.as_deref(), &later));
        // A pending migration: the local digest differs.
        let fewer = found(&history[..2]);
        assert!(!is_up_to_date(expected.as_deref(), &fewer));
        // A failed row stores no digest.
        let mut failed = history.clone();
        failed[0].success = Some(false);
        assert_eq!(stored_digest(&failed), None);
        assert!(!is_up_to_date(expected.as_deref(), &found(&failed)));
        assert!(!is_up_to_date(expected.as_deref(), &Digest::Unavailable));
        // A runs-always file: never up to date.
        let with_ra = [
            local.clone(),
            vec![jetbase_core::parse_migration("RA__r.sql", b"SELECT 1;").unwrap()],
        ]
        .concat();
        assert_eq!(expected_digest(&with_ra), None);
        let _ = max_order;
    }
}
