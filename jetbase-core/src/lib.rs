//! The database-free core of Jetbase: the migration file format, the statement splitter and the
//! Python-compatible checksum, shared by the `embed!()` macro, the runtime and the CLI.
//!
//! Most users depend on the `jetbase` crate, which re-exports what is public here.
//!
//! ```
//! use jetbase_core::{Dialect, parse_migration};
//!
//! let migration = parse_migration(
//!     "V1__create_users.sql",
//!     b"-- upgrade\nCREATE TABLE users (id INT);\n-- rollback\nDROP TABLE users;\n",
//! )
//! .expect("a valid migration");
//! assert_eq!(migration.description(), "create users");
//! assert_eq!(migration.upgrade_statements(Dialect::Sqlite)?[0].sql, "CREATE TABLE users (id INT)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checksum;
mod dialect;
mod lines;
mod migration;
mod name;
mod newer;
mod parse;
mod placeholders;
mod plan;
pub mod schema;
mod source;
mod split;
mod version;

pub use checksum::{DEFAULT_DELIMITER, checksum, checksum_statements};
pub use dialect::{Capabilities, Dialect, DollarQuoting, Syntax};
pub use migration::{Migration, MigrationParts, StaticMigrationParts};
pub use name::{
    MAX_FILENAME_CHARS, MigrationKind, MigrationName, NameError, is_sql_file, parse_filename,
};
pub use newer::{NewerDatabase, migration_from_stored, newer_rows, stored_rollback};
pub use parse::{
    Body, BodyError, Directives, MAX_RETRIES, RunLimits, Section, parse_body, parse_duration,
};
pub use placeholders::{InvalidPlaceholderName, Placeholders, UnknownPlaceholder};
pub use plan::{
    AppliedMigration, PlanError, Record, RollbackOptions, RollbackStep, State, StatusEntry, Step,
    UpgradeOptions, plan_rollback, plan_upgrade, rollback_rows, status,
};
pub use source::{ScanError, SourceError, parse_migration, scan_dir, sort_in_apply_order};
pub use split::{
    SplitError, Statement, Unterminated, split_statements, split_with_delimiter, sql_words,
};
pub use version::{Version, VersionError};
