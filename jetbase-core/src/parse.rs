//! The migration body: header directives, the upgrade section and the rollback section.

use crate::checksum::DEFAULT_DELIMITER;
use crate::lines::{comment_line, is_rollback_marker, lines, python_strip};

/// A part of a migration file, with the line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section<'a> {
    /// The section's text, verbatim.
    pub text: &'a str,
    /// 1-based line number of the section's first line in the file.
    pub first_line: usize,
}

/// The options a file sets with `-- jetbase: ...` lines before its first SQL line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- jetbase: no-transaction`: run outside a transaction, statement by statement.
    pub no_transaction: bool,
    /// `-- jetbase: delimiter=X`: statements end at lines ending in `X`.
    pub delimiter: Option<String>,
}

impl Directives {
    /// The statement delimiter in force: the directive's, else `;`.
    pub fn delimiter(&self) -> &str {
        self.delimiter.as_deref().unwrap_or(DEFAULT_DELIMITER)
    }
}

/// A migration body split into its parts. `text` had its byte order mark removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body<'a> {
    /// Header directives.
    pub directives: Directives,
    /// Everything before the rollback marker (the `-- upgrade` marker, if any, is a comment in it).
    pub upgrade: Section<'a>,
    /// Everything after the rollback marker; `None` when the file has no marker.
    pub rollback: Option<Section<'a>>,
}

/// Why a body is not a valid migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// A `-- jetbase:` line that is not a known directive.
    #[error(
        "line {line}: unknown directive `{text}`; the known ones are `-- jetbase: no-transaction` \
         and `-- jetbase: delimiter=X`"
    )]
    UnknownDirective {
        /// The line it is on.
        line: usize,
        /// The directive line, trimmed.
        text: String,
    },
    /// A directive after the first SQL line, where it would be silently ignored.
    #[error(
        "line {line}: directive `{text}` comes after the first SQL line; move it to the top of the \
         file, before any SQL"
    )]
    LateDirective {
        /// The line it is on.
        line: usize,
        /// The directive line, trimmed.
        text: String,
    },
    /// The same directive twice.
    #[error("line {line}: directive `{text}` is given twice; keep one")]
    RepeatedDirective {
        /// The line of the second one.
        line: usize,
        /// The directive line, trimmed.
        text: String,
    },
    /// `delimiter=` with nothing after it.
    #[error(
        "line {line}: `delimiter=` names no delimiter; write one, e.g. `-- jetbase: delimiter=~`"
    )]
    EmptyDelimiter {
        /// The line it is on.
        line: usize,
    },
    /// No SQL, no comment, nothing at all.
    #[error("the file is empty; write the upgrade SQL, or delete the file")]
    Empty,
}

/// If `line` is a `-- jetbase: ...` line, the text after `jetbase:` (trimmed). The prefix is
/// matched as Python Jetbase does: `--`, optional spaces, `jetbase:` in any case.
fn directive_text(line: &str) -> Option<&str> {
    let rest = python_strip(line).strip_prefix("--")?.trim_start();
    let prefix = rest.get(..8)?;
    prefix
        .eq_ignore_ascii_case("jetbase:")
        .then(|| python_strip(&rest[8..]))
}

/// Splits a body (with no byte order mark) into directives and sections.
///
/// ```
/// let body = jetbase_core::parse_body("-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- rollback\nDROP INDEX i;\n")?;
/// assert!(body.directives.no_transaction);
/// assert_eq!(body.upgrade.text, "-- jetbase: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
/// let rollback = body.rollback.unwrap();
/// assert_eq!((rollback.text, rollback.first_line), ("DROP INDEX i;\n", 4));
/// # Ok::<(), Vec<jetbase_core::BodyError>>(())
/// ```
///
/// # Errors
///
/// Returns every [`BodyError`] found: unknown, repeated or misplaced directives, an empty
/// delimiter, an empty file.
pub fn parse_body(text: &str) -> Result<Body<'_>, Vec<BodyError>> {
    if text.trim().is_empty() {
        return Err(vec![BodyError::Empty]);
    }
    let mut errors = Vec::new();
    let mut directives = Directives::default();
    let mut in_header = true;
    let mut rollback = None;
    let mut upgrade_end = text.len();
    for line in lines(text) {
        let trimmed = python_strip(line.text);
        if !comment_line(trimmed) {
            in_header &= trimmed.is_empty();
            continue;
        }
        if rollback.is_none() && is_rollback_marker(trimmed) {
            upgrade_end = line.start;
            rollback = Some(Section {
                text: &text[line.next..],
                first_line: line.number + 1,
            });
            continue;
        }
        if let Some(directive) = directive_text(trimmed) {
            if in_header {
                apply_directive(
                    &mut directives,
                    directive,
                    trimmed,
                    line.number,
                    &mut errors,
                );
            } else {
                errors.push(BodyError::LateDirective {
                    line: line.number,
                    text: trimmed.to_owned(),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Body {
        directives,
        upgrade: Section {
            text: &text[..upgrade_end],
            first_line: 1,
        },
        rollback,
    })
}

fn apply_directive(
    directives: &mut Directives,
    directive: &str,
    line_text: &str,
    line: usize,
    errors: &mut Vec<BodyError>,
) {
    let repeated = || BodyError::RepeatedDirective {
        line,
        text: line_text.to_owned(),
    };
    if directive.eq_ignore_ascii_case("no-transaction") {
        if directives.no_transaction {
            errors.push(repeated());
        }
        directives.no_transaction = true;
    } else if let Some(value) = directive
        .get(..10)
        .filter(|prefix| prefix.eq_ignore_ascii_case("delimiter="))
        .map(|_| python_strip(&directive[10..]))
    {
        if value.is_empty() {
            errors.push(BodyError::EmptyDelimiter { line });
        } else if directives.delimiter.is_some() {
            errors.push(repeated());
        } else {
            directives.delimiter = Some(value.to_owned());
        }
    } else {
        errors.push(BodyError::UnknownDirective {
            line,
            text: line_text.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_their_lines() {
        let body =
            parse_body("-- upgrade\nCREATE TABLE t (id INT);\n\n--ROLLBACK\nDROP TABLE t;\n")
                .unwrap();
        assert_eq!(
            body.upgrade.text,
            "-- upgrade\nCREATE TABLE t (id INT);\n\n"
        );
        assert_eq!(body.upgrade.first_line, 1);
        let rollback = body.rollback.unwrap();
        assert_eq!(rollback.text, "DROP TABLE t;\n");
        assert_eq!(rollback.first_line, 5);
        assert_eq!(body.directives, Directives::default());
    }

    #[test]
    fn no_marker_means_no_rollback_section() {
        let body = parse_body("CREATE TABLE t (id INT);").unwrap();
        assert_eq!(body.upgrade.text, "CREATE TABLE t (id INT);");
        assert_eq!(body.rollback, None);
    }

    #[test]
    fn marker_on_the_last_line_gives_an_empty_rollback_section() {
        let body = parse_body("SELECT 1;\r\n-- rollback").unwrap();
        assert_eq!(body.rollback.map(|s| s.text), Some(""));
    }

    #[test]
    fn directives_any_case_and_spacing() {
        let body =
            parse_body("--JETBASE:   NO-TRANSACTION\n-- jetbase: delimiter= // \nSELECT 1//\n")
                .unwrap();
        assert!(body.directives.no_transaction);
        assert_eq!(body.directives.delimiter(), "//");
        let body = parse_body("-- a comment first\n\n-- jetbase: delimiter=~\nSELECT 1~").unwrap();
        assert_eq!(body.directives.delimiter(), "~");
    }

    #[test]
    fn every_directive_problem_is_reported() {
        let errors = parse_body(
            "-- jetbase: no-transactions\n-- jetbase: delimiter=\n-- jetbase: no-transaction\n\
             -- jetbase: no-transaction\n-- jetbase: delimiter = ~\nSELECT 1;\n-- jetbase: delimiter=~\n",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                BodyError::UnknownDirective {
                    line: 1,
                    text: "-- jetbase: no-transactions".into()
                },
                BodyError::EmptyDelimiter { line: 2 },
                BodyError::RepeatedDirective {
                    line: 4,
                    text: "-- jetbase: no-transaction".into()
                },
                BodyError::UnknownDirective {
                    line: 5,
                    text: "-- jetbase: delimiter = ~".into()
                },
                BodyError::LateDirective {
                    line: 7,
                    text: "-- jetbase: delimiter=~".into()
                },
            ]
        );
        for error in errors {
            assert!(error.to_string().starts_with("line "), "{error}");
        }
    }

    #[test]
    fn comments_that_merely_mention_jetbase_are_not_directives() {
        assert!(parse_body("-- jetbase is great\n-- jetbase rules: none\nSELECT 1;").is_ok());
    }

    #[test]
    fn empty_files_are_errors_but_empty_sections_are_not() {
        assert_eq!(parse_body(""), Err(vec![BodyError::Empty]));
        assert_eq!(parse_body(" \r\n\t\n"), Err(vec![BodyError::Empty]));
        assert!(parse_body("-- upgrade\n\n-- rollback\n").is_ok());
    }
}
