//! How each database's DDL differs where make-migrations writes it: one exhaustive `match`, so
//! that a new database is a compile error here rather than a silent default.

use crate::dialect::Dialect;

/// What the schema renderer and differ need to know of a database's DDL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DdlRules {
    /// A table whose columns change is rebuilt (created anew, rows copied, renamed) rather than
    /// altered in place, and foreign keys are checked only when rows are written (SQLite).
    pub rebuilds_tables: bool,
    /// Indexes are written inside `CREATE TABLE`, before the foreign keys, so that the database
    /// adds none of its own (MySQL/MariaDB).
    pub indexes_in_create_table: bool,
    /// Reviewed statements carry a `-- squawk-ignore` comment (the database `jetbase lint` runs
    /// squawk on: PostgreSQL).
    pub squawk_comments: bool,
    /// A column's type is changed by restating the whole column (`MODIFY COLUMN`, MySQL)
    /// rather than `ALTER COLUMN … TYPE … USING`.
    pub modify_whole_column: bool,
    /// `ON DELETE NO ACTION` is reported as `RESTRICT` (InnoDB treats them alike).
    pub no_action_is_restrict: bool,
    /// `TEXT`/`BLOB` columns may be part of a key (not on MySQL/MariaDB without a length).
    pub text_in_keys: bool,
}

impl DdlRules {
    pub(crate) const fn of(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Postgres => Self {
                rebuilds_tables: false,
                indexes_in_create_table: false,
                squawk_comments: true,
                modify_whole_column: false,
                no_action_is_restrict: false,
                text_in_keys: true,
            },
            Dialect::Sqlite => Self {
                rebuilds_tables: true,
                indexes_in_create_table: false,
                squawk_comments: false,
                modify_whole_column: false,
                no_action_is_restrict: false,
                text_in_keys: true,
            },
            Dialect::MySql => Self {
                rebuilds_tables: false,
                indexes_in_create_table: true,
                squawk_comments: false,
                modify_whole_column: true,
                no_action_is_restrict: true,
                text_in_keys: false,
            },
            Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => Self {
                rebuilds_tables: false,
                indexes_in_create_table: false,
                squawk_comments: false,
                modify_whole_column: false,
                no_action_is_restrict: false,
                text_in_keys: true,
            },
        }
    }
}
