//! The names of a template and of the test databases copied from it.

use std::sync::atomic::{AtomicU32, Ordering};

use sha2::{Digest, Sha256};

use super::TestDatabaseBuilder;
use crate::Migrator;

/// A template's names: `jbt_<owner>_<content>`, each part a digest in hex; and the prefix of
/// its owner's templates (the older ones it replaces).
#[derive(Debug, Clone)]
pub(super) struct Names {
    /// Who the template belongs to: 8 hex digits.
    pub(super) owner: String,
    /// The ready template's name.
    pub(super) template: String,
    /// The name it is built under, renamed to `template` once complete: a template that
    /// exists is a complete one.
    pub(super) building: String,
}

impl Names {
    pub(super) fn new(migrator: &Migrator, builder: &TestDatabaseBuilder<'_>) -> Self {
        // The owner: who set it (the macro: the crate and the migrator's path), the options
        // and the first file. Templates of one owner replace each other as the migrations
        // change; tests of other options or another migrations directory never drop theirs.
        let owner = format!(
            "{}/{}/{:?}/{}/{}",
            builder.owner.as_deref().unwrap_or_default(),
            std::env::var("CARGO_PKG_NAME").unwrap_or_default(),
            builder.to_version,
            builder.migrations,
            migrator
                .migrations()
                .first()
                .map_or("", |migration| migration.filename())
        );
        let mut content = Sha256::new();
        if builder.migrations {
            for migration in migrator.migrations() {
                content.update(migration.filename().as_bytes());
                content.update([0]);
                content.update(migration.checksum().as_bytes());
                content.update([b'\n']);
            }
        }
        content.update(format!("to_version={:?}", builder.to_version).as_bytes());
        content.update(format!("migrations={}", builder.migrations).as_bytes());
        // The tables jetbase keeps its history in are part of what the template holds.
        let (history, lock) = migrator.table_names();
        content.update(format!("tables={history},{lock}").as_bytes());
        let owner = hex(&Sha256::digest(owner.as_bytes()))[..8].to_owned();
        let content = hex(&content.finalize())[..16].to_owned();
        Self {
            template: format!("jbt_{owner}_{content}"),
            building: format!("jbt_{owner}_{content}_building"),
            owner,
        }
    }

    /// The prefix of every template of this owner (`jbt_<owner>_`).
    pub(super) fn owner_prefix(&self) -> String {
        format!("jbt_{}_", self.owner)
    }

    /// A new test database's name: `jbtest_<owner>_<process>_<n>_<random>`: a process id
    /// comes back (in containers, often), and a kept database of an earlier run must not be
    /// met again.
    pub(super) fn next_test_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        format!(
            "jbtest_{}_{:x}_{}_{:08x}",
            self.owner,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(files: &[(&str, &str)], owner: &str) -> Names {
        let directory = std::env::temp_dir().join(format!(
            "jetbase-names-{}-{}",
            std::process::id(),
            files.len() + files.iter().map(|(_, body)| body.len()).sum::<usize>()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        for (name, body) in files {
            std::fs::write(directory.join(name), body).unwrap();
        }
        let migrator = Migrator::from_dir(&directory).unwrap();
        let names = Names::new(
            &migrator,
            &super::super::TestDatabase::builder(&migrator).owner(owner),
        );
        std::fs::remove_dir_all(&directory).unwrap();
        names
    }

    #[test]
    fn an_edited_migration_is_another_template_of_the_same_owner() {
        let first = names_of(&[("V1__a.sql", "CREATE TABLE a (id INTEGER);")], "app");
        let edited = names_of(&[("V1__a.sql", "CREATE TABLE a (id BIGINT);")], "app");
        let other_owner = names_of(&[("V1__a.sql", "CREATE TABLE a (id INTEGER);")], "lib");
        assert_ne!(first.template, edited.template);
        assert_eq!(
            first.owner_prefix(),
            edited.owner_prefix(),
            "the old one is found and dropped"
        );
        assert!(edited.template.starts_with(&first.owner_prefix()));
        assert_ne!(first.owner_prefix(), other_owner.owner_prefix());
        // Names every database keeps whole: at most 63 bytes, plain identifiers.
        for name in [
            &first.template,
            &first.building,
            &first.next_test_database(),
        ] {
            assert!(name.len() <= 63, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
        }
        assert_ne!(first.next_test_database(), first.next_test_database());
    }
}
