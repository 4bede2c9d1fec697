//! The file-name grammar: `V<version>__<description>.sql`, `RA__<description>.sql`,
//! `ROC__<description>.sql`. This is the only module that knows it.

use crate::version::{Version, is_valid_version};

/// The longest file name accepted, in characters (as in Python Jetbase).
pub const MAX_FILENAME_CHARS: usize = 512;

/// What a file name says about how a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MigrationKind {
    /// `V<version>__...`: applied once, in version order.
    Versioned,
    /// `RA__...`: runs on every upgrade, after the versioned migrations.
    RunsAlways,
    /// `ROC__...`: runs when it never ran or its checksum changed, after the runs-always ones.
    RunsOnChange,
}

impl MigrationKind {
    /// The value stored in `jetbase_migrations.migration_type`.
    ///
    /// ```
    /// assert_eq!(jetbase_core::MigrationKind::RunsOnChange.as_str(), "RUNS_ON_CHANGE");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Versioned => "VERSIONED",
            Self::RunsAlways => "RUNS_ALWAYS",
            Self::RunsOnChange => "RUNS_ON_CHANGE",
        }
    }

    /// Whether the migration may run more than once (`RA` and `ROC`).
    pub const fn is_repeatable(self) -> bool {
        !matches!(self, Self::Versioned)
    }
}

/// What a migration file name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationName {
    /// Versioned, runs-always or runs-on-change.
    pub kind: MigrationKind,
    /// The version, for versioned migrations.
    pub version: Option<Version>,
    /// The description as stored: the text between `__` and `.sql`, trimmed, `_` as spaces.
    pub description: String,
}

/// Why a `.sql` file name is not a migration name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name has no `V`, `RA__` or `ROC__` prefix, or no `__` after the version.
    #[error(
        "`{filename}` does not match a migration name: expected `V<version>__<description>.sql` \
         (e.g. `V1__create_users.sql`, `V1_2__add_index.sql`), `RA__<description>.sql` or \
         `ROC__<description>.sql`"
    )]
    Pattern {
        /// The rejected file name.
        filename: String,
    },
    /// The text between `V` and `__` is not a version.
    #[error(
        "`{filename}` has an invalid version `{version}`: use digits separated by `.` or `_`, \
         e.g. `V1__...`, `V1_2__...` or `V20260204.120000__...`"
    )]
    Version {
        /// The rejected file name.
        filename: String,
        /// The text found where the version belongs.
        version: String,
    },
    /// Nothing (or only spaces) between `__` and `.sql`.
    #[error(
        "`{filename}` has an empty description: write one between `__` and `.sql`, e.g. `V1__create_users.sql`"
    )]
    EmptyDescription {
        /// The rejected file name.
        filename: String,
    },
    /// A control character (a line break, an escape sequence) or a bidirectional override in
    /// the name: printed, it would fake lines or rewrite a terminal's screen, and reorder what
    /// is shown.
    #[error(
        "{filename:?} holds a control character or a direction override; rename the file with \
         printable characters only"
    )]
    Unprintable {
        /// The rejected file name.
        filename: String,
    },
    /// Longer than [`MAX_FILENAME_CHARS`].
    #[error("`{filename}` is {chars} characters long; file names must not exceed 512 characters")]
    TooLong {
        /// The rejected file name.
        filename: String,
        /// Its length in characters.
        chars: usize,
    },
}

/// Whether a file in the migrations directory is a migration candidate at all: files not ending
/// in `.sql` (README.md, .gitkeep) are ignored.
///
/// ```
/// assert!(jetbase_core::is_sql_file("V1__init.sql"));
/// assert!(!jetbase_core::is_sql_file("README.md"));
/// ```
pub fn is_sql_file(filename: &str) -> bool {
    filename.ends_with(".sql")
}

/// Parses a migration file name (the name only, no directory).
///
/// ```
/// use jetbase_core::{MigrationKind, parse_filename};
///
/// let name = parse_filename("V1_2__add_users_table.sql")?;
/// assert_eq!(name.kind, MigrationKind::Versioned);
/// assert_eq!(name.version.unwrap().as_str(), "1.2");
/// assert_eq!(name.description, "add users table");
/// # Ok::<(), jetbase_core::NameError>(())
/// ```
///
/// # Errors
///
/// Returns a [`NameError`] that names the file and the expected pattern when the name is too long,
/// has no known prefix, an invalid version or an empty description.
pub fn parse_filename(filename: &str) -> Result<MigrationName, NameError> {
    let chars = filename.chars().count();
    if chars > MAX_FILENAME_CHARS {
        return Err(NameError::TooLong {
            filename: filename.to_owned(),
            chars,
        });
    }
    if filename.chars().any(is_unprintable) {
        return Err(NameError::Unprintable {
            filename: filename.to_owned(),
        });
    }
    let pattern_error = || NameError::Pattern {
        filename: filename.to_owned(),
    };
    if !filename.ends_with(".sql") {
        return Err(pattern_error());
    }
    // As Python Jetbase: the description ends at the first `.sql` (`V1__a.sql.sql` is "a").
    let stem = &filename[..filename.find(".sql").unwrap_or(filename.len())];
    let (kind, version, raw_description) = if let Some(rest) = stem.strip_prefix("RA__") {
        (MigrationKind::RunsAlways, None, rest)
    } else if let Some(rest) = stem.strip_prefix("ROC__") {
        (MigrationKind::RunsOnChange, None, rest)
    } else if let Some(rest) = stem.strip_prefix('V') {
        let (raw_version, description) = rest.split_once("__").ok_or_else(pattern_error)?;
        if !is_valid_version(raw_version) {
            return Err(NameError::Version {
                filename: filename.to_owned(),
                version: raw_version.to_owned(),
            });
        }
        let version = Version::parse(raw_version).map_err(|_| pattern_error())?;
        (MigrationKind::Versioned, Some(version), description)
    } else {
        return Err(pattern_error());
    };
    let trimmed = raw_description.trim();
    if trimmed.is_empty() {
        return Err(NameError::EmptyDescription {
            filename: filename.to_owned(),
        });
    }
    Ok(MigrationName {
        kind,
        version,
        description: trimmed.replace('_', " "),
    })
}

/// A control character, or one of the bidirectional controls that reorder what a terminal
/// shows (U+202E and its kin).
fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_control_characters_are_refused() {
        for name in [
            "V1__title\x1b]0;pwned\x07.sql",
            "V2__two\nlines.sql",
            "V3__back\rspace.sql",
            "V4__right\u{202e}lqs.exe.sql",
        ] {
            let error = parse_filename(name).unwrap_err();
            assert!(matches!(error, NameError::Unprintable { .. }), "{name:?}");
            assert!(
                !error.to_string().contains(['\x1b', '\n', '\r', '\u{202e}']),
                "{error}"
            );
        }
    }

    #[test]
    fn the_description_ends_at_the_first_sql_as_in_python() {
        // Found by the file_name fuzz target's comparison with Python's slicing.
        let parsed = parse_filename("V1__a.sql.sql").unwrap();
        assert_eq!(parsed.description, "a");
        // Python strips the raw text, then turns `_` into spaces: "__" is a description.
        assert_eq!(parse_filename("ROC__ __ .sql").unwrap().description, "  ");
        assert!(parse_filename("V1__.sql.sql").is_err());
    }

    #[test]
    fn valid_names() {
        let cases = [
            ("V1__init.sql", MigrationKind::Versioned, Some("1"), "init"),
            (
                "V1_2__add_users_table.sql",
                MigrationKind::Versioned,
                Some("1.2"),
                "add users table",
            ),
            (
                "V1.2.3__x.sql",
                MigrationKind::Versioned,
                Some("1.2.3"),
                "x",
            ),
            (
                "V20260204.120000__stamp.sql",
                MigrationKind::Versioned,
                Some("20260204.120000"),
                "stamp",
            ),
            ("V1__a__b.sql", MigrationKind::Versioned, Some("1"), "a  b"),
            (
                "RA__refresh_views.sql",
                MigrationKind::RunsAlways,
                None,
                "refresh views",
            ),
            (
                "ROC__users_summary.sql",
                MigrationKind::RunsOnChange,
                None,
                "users summary",
            ),
            (
                "V1__ spaced .sql",
                MigrationKind::Versioned,
                Some("1"),
                "spaced",
            ),
        ];
        for (filename, kind, version, description) in cases {
            let name = parse_filename(filename).unwrap_or_else(|e| panic!("{filename}: {e}"));
            assert_eq!(name.kind, kind, "{filename}");
            assert_eq!(
                name.version.as_ref().map(Version::as_str),
                version,
                "{filename}"
            );
            assert_eq!(name.description, description, "{filename}");
        }
    }

    #[test]
    fn invalid_names() {
        let long = format!("V1__{}.sql", "a".repeat(505));
        type Check = fn(&NameError) -> bool;
        let cases: Vec<(&str, Check)> = vec![
            ("init.sql", |e| matches!(e, NameError::Pattern { .. })),
            ("v1__init.sql", |e| matches!(e, NameError::Pattern { .. })),
            ("V1_init.sql", |e| matches!(e, NameError::Pattern { .. })),
            ("V1.sql", |e| matches!(e, NameError::Pattern { .. })),
            ("V1init.sql", |e| matches!(e, NameError::Pattern { .. })),
            ("Va__init.sql", |e| matches!(e, NameError::Version { .. })),
            ("V__init.sql", |e| matches!(e, NameError::Version { .. })),
            ("V1.__init.sql", |e| matches!(e, NameError::Version { .. })),
            ("V1-2__init.sql", |e| matches!(e, NameError::Version { .. })),
            ("V1__.sql", |e| {
                matches!(e, NameError::EmptyDescription { .. })
            }),
            ("V1__   .sql", |e| {
                matches!(e, NameError::EmptyDescription { .. })
            }),
            ("RA__.sql", |e| {
                matches!(e, NameError::EmptyDescription { .. })
            }),
            ("ROC__.sql", |e| {
                matches!(e, NameError::EmptyDescription { .. })
            }),
            ("RC__old_prefix.sql", |e| {
                matches!(e, NameError::Pattern { .. })
            }),
            ("R__flyway_style.sql", |e| {
                matches!(e, NameError::Pattern { .. })
            }),
            ("U1__undo.sql", |e| matches!(e, NameError::Pattern { .. })),
            (long.as_str(), |e| {
                matches!(e, NameError::TooLong { chars: 513, .. })
            }),
        ];
        for (filename, expected) in cases {
            let error = parse_filename(filename).expect_err(filename);
            assert!(expected(&error), "{filename}: {error:?}");
            assert!(
                error.to_string().contains(filename),
                "message names the file: {error}"
            );
        }
    }

    #[test]
    fn length_limit_is_inclusive() {
        let exact = format!("V1__{}.sql", "a".repeat(504));
        assert_eq!(exact.chars().count(), 512);
        assert!(parse_filename(&exact).is_ok());
        // Characters, not bytes.
        let unicode = format!("V1__{}.sql", "é".repeat(504));
        assert!(parse_filename(&unicode).is_ok());
    }

    #[test]
    fn non_sql_files_are_not_candidates() {
        for name in ["README.md", ".gitkeep", "V1__init.sql.bak", "V1__init.SQL"] {
            assert!(!is_sql_file(name), "{name}");
        }
    }

    #[test]
    fn kinds_store_python_values() {
        assert_eq!(MigrationKind::Versioned.as_str(), "VERSIONED");
        assert_eq!(MigrationKind::RunsAlways.as_str(), "RUNS_ALWAYS");
        assert!(MigrationKind::RunsAlways.is_repeatable());
        assert!(!MigrationKind::Versioned.is_repeatable());
    }
}
