//! What `embed!()` and `Migrator::from_dir` do with each file: any name and any bytes give a
//! migration or a list of problems, never a panic; a migration's checksum is 64 hex digits and
//! its statements split in every dialect or say why not; a NUL byte never gets through (SQLite's
//! statement loop spun on one, holding the lock).
#![no_main]

use jetbase_core::{Dialect, parse_migration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &[u8])| {
    let (name, bytes) = input;
    match parse_migration(name, bytes) {
        Ok(migration) => {
            assert_eq!(migration.checksum().len(), 64);
            assert!(!bytes.contains(&0), "a NUL byte got through");
            for dialect in Dialect::ALL {
                let _ = migration.upgrade_statements(dialect);
                let _ = migration.rollback_statements(dialect);
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "an error without a problem"),
    }
});
