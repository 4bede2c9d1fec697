//! One migration, as embedded at compile time or read from disk at run time.

use std::borrow::Cow;

use crate::dialect::Dialect;
use crate::name::MigrationKind;
use crate::parse::RunLimits;
use crate::split::{SplitError, Statement, split_statements, split_with_delimiter};
use crate::version::Version;

/// A migration file, parsed and checksummed.
///
/// `embed!()` builds these in a `static` at compile time; `Migrator::from_dir` builds them at run
/// time; both give equal values for the same files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    kind: MigrationKind,
    version: Option<Version>,
    description: Cow<'static, str>,
    filename: Cow<'static, str>,
    path: Cow<'static, str>,
    checksum: Cow<'static, str>,
    upgrade_sql: Cow<'static, str>,
    upgrade_first_line: usize,
    rollback_sql: Option<Cow<'static, str>>,
    rollback_first_line: usize,
    no_transaction: bool,
    delimiter: Option<Cow<'static, str>>,
    limits: RunLimits,
}

/// The parts of a migration, for [`Migration::new`].
#[derive(Debug, Clone)]
pub struct MigrationParts {
    /// Versioned or repeatable.
    pub kind: MigrationKind,
    /// The version, for versioned migrations.
    pub version: Option<Version>,
    /// The description as stored (`_` as spaces).
    pub description: String,
    /// The file name, without directories.
    pub filename: String,
    /// The path relative to the migrations directory, with `/` separators.
    pub path: String,
    /// The 64-character hex checksum.
    pub checksum: String,
    /// The upgrade section, verbatim.
    pub upgrade_sql: String,
    /// The rollback section, verbatim, if the file has a rollback marker.
    pub rollback_sql: Option<String>,
    /// Line of the rollback section's first line in the file.
    pub rollback_first_line: usize,
    /// `-- jetbase: no-transaction`.
    pub no_transaction: bool,
    /// `-- jetbase: delimiter=X`.
    pub delimiter: Option<String>,
    /// `-- jetbase: table-lock-timeout=…`, `statement-timeout=…`, `retries=…`.
    pub limits: RunLimits,
}

/// The parts of a migration as `embed!()` writes them into the binary, for
/// [`Migration::from_static`]: the fields of [`MigrationParts`], as static text, named.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct StaticMigrationParts {
    pub kind: MigrationKind,
    pub version: Option<&'static str>,
    pub description: &'static str,
    pub filename: &'static str,
    pub path: &'static str,
    pub checksum: &'static str,
    pub upgrade_sql: &'static str,
    pub rollback_sql: Option<&'static str>,
    pub rollback_first_line: usize,
    pub no_transaction: bool,
    pub delimiter: Option<&'static str>,
    pub limits: RunLimits,
}

impl Migration {
    /// Assembles a migration from owned parts (used when reading from disk).
    pub fn new(parts: MigrationParts) -> Self {
        Self {
            kind: parts.kind,
            version: parts.version,
            description: Cow::Owned(parts.description),
            filename: Cow::Owned(parts.filename),
            path: Cow::Owned(parts.path),
            checksum: Cow::Owned(parts.checksum),
            upgrade_sql: Cow::Owned(parts.upgrade_sql),
            upgrade_first_line: 1,
            rollback_sql: parts.rollback_sql.map(Cow::Owned),
            rollback_first_line: parts.rollback_first_line,
            no_transaction: parts.no_transaction,
            delimiter: parts.delimiter.map(Cow::Owned),
            limits: parts.limits,
        }
    }

    /// Assembles a migration from static text; the code `embed!()` generates calls this after the
    /// macro validated every part.
    #[doc(hidden)]
    pub const fn from_static(parts: StaticMigrationParts) -> Self {
        Self {
            kind: parts.kind,
            version: match parts.version {
                Some(text) => Some(Version::from_validated_static(text)),
                None => None,
            },
            description: Cow::Borrowed(parts.description),
            filename: Cow::Borrowed(parts.filename),
            path: Cow::Borrowed(parts.path),
            checksum: Cow::Borrowed(parts.checksum),
            upgrade_sql: Cow::Borrowed(parts.upgrade_sql),
            upgrade_first_line: 1,
            rollback_sql: match parts.rollback_sql {
                Some(text) => Some(Cow::Borrowed(text)),
                None => None,
            },
            rollback_first_line: parts.rollback_first_line,
            no_transaction: parts.no_transaction,
            delimiter: match parts.delimiter {
                Some(text) => Some(Cow::Borrowed(text)),
                None => None,
            },
            limits: parts.limits,
        }
    }

    /// Versioned, runs-always (`RA__`) or runs-on-change (`ROC__`).
    pub fn kind(&self) -> MigrationKind {
        self.kind
    }

    /// The version; `None` for repeatable (`RA__`, `ROC__`) migrations.
    pub fn version(&self) -> Option<&Version> {
        self.version.as_ref()
    }

    /// The description as stored in the history: the file name's description, `_` as spaces.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The file name, as stored in the history's `filename` column.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The path relative to the migrations directory, with `/` separators.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The Python-compatible checksum: 64 lower-case hex characters.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// The upgrade section, verbatim (header directives and comments included).
    pub fn upgrade_sql(&self) -> &str {
        &self.upgrade_sql
    }

    /// The rollback section, verbatim; `None` when the file has no rollback marker.
    pub fn rollback_sql(&self) -> Option<&str> {
        self.rollback_sql.as_deref()
    }

    /// Whether rolling back runs any SQL (false with no rollback marker or an empty section).
    pub fn has_rollback_sql(&self) -> bool {
        Dialect::ALL.iter().any(|&dialect| {
            self.rollback_statements(dialect)
                .is_ok_and(|s| !s.is_empty())
        })
    }

    /// The line of the rollback section's first line in the file (0 without a rollback marker).
    pub fn rollback_first_line(&self) -> usize {
        self.rollback_first_line
    }

    /// Whether the file asks to run outside a transaction (`-- jetbase: no-transaction`).
    pub fn no_transaction(&self) -> bool {
        self.no_transaction
    }

    /// The custom delimiter of `-- jetbase: delimiter=X`, if any.
    pub fn delimiter(&self) -> Option<&str> {
        self.delimiter.as_deref()
    }

    /// The file's own table-lock timeout, statement timeout and retries (its `-- jetbase:`
    /// directives); the migrator's defaults fill in what it leaves out.
    pub fn limits(&self) -> RunLimits {
        self.limits
    }

    /// The upgrade statements to execute on `dialect`, each with its line in the file.
    ///
    /// # Errors
    ///
    /// Returns [`SplitError`] when a quote, comment or dollar quote is left open under the
    /// dialect's rules.
    pub fn upgrade_statements(&self, dialect: Dialect) -> Result<Vec<Statement<'_>>, SplitError> {
        self.split(&self.upgrade_sql, self.upgrade_first_line, dialect)
    }

    /// The rollback statements to execute on `dialect` (empty when there is no rollback SQL).
    ///
    /// # Errors
    ///
    /// As for [`Migration::upgrade_statements`].
    pub fn rollback_statements(&self, dialect: Dialect) -> Result<Vec<Statement<'_>>, SplitError> {
        match &self.rollback_sql {
            Some(text) => self.split(text, self.rollback_first_line, dialect),
            None => Ok(Vec::new()),
        }
    }

    fn split<'a>(
        &self,
        text: &'a str,
        first_line: usize,
        dialect: Dialect,
    ) -> Result<Vec<Statement<'a>>, SplitError> {
        match &self.delimiter {
            Some(delimiter) => Ok(split_with_delimiter(text, first_line, delimiter)),
            None => split_statements(text, first_line, dialect),
        }
    }
}
