//! The migration body: header directives, the upgrade section and the rollback section.

use std::time::Duration;

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
    /// `-- jetbase: table-lock-timeout=5s`, `statement-timeout=10min`, `retries=3`.
    pub limits: RunLimits,
}

/// How long a migration may wait for a table lock and run, and how often it is tried again when
/// it could not get a lock in time. `None` leaves the choice to the migrator's defaults; a zero
/// duration means "no timeout", also over a default.
///
/// ```
/// use std::time::Duration;
/// let body = jetbase_core::parse_body(
///     "-- jetbase: table-lock-timeout=5s\n-- jetbase: retries=3\nALTER TABLE t ADD c INT;\n",
/// )?;
/// assert_eq!(body.directives.limits.table_lock_timeout, Some(Duration::from_secs(5)));
/// assert_eq!(body.directives.limits.retries, Some(3));
/// assert_eq!(body.directives.limits.statement_timeout, None);
/// # Ok::<(), Vec<jetbase_core::BodyError>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RunLimits {
    /// How long each statement may wait for a lock on a table (PostgreSQL `lock_timeout`,
    /// MySQL/MariaDB `lock_wait_timeout`, SQLite's busy timeout).
    pub table_lock_timeout: Option<Duration>,
    /// How long each statement may run (PostgreSQL `statement_timeout`, MariaDB
    /// `max_statement_time`).
    pub statement_timeout: Option<Duration>,
    /// How many times a migration that could not get a lock in time is tried again.
    pub retries: Option<u32>,
}

impl RunLimits {
    /// These limits, with `defaults` where these give none.
    #[must_use]
    pub fn or(self, defaults: RunLimits) -> RunLimits {
        RunLimits {
            table_lock_timeout: self.table_lock_timeout.or(defaults.table_lock_timeout),
            statement_timeout: self.statement_timeout.or(defaults.statement_timeout),
            retries: self.retries.or(defaults.retries),
        }
    }

    /// The table-lock timeout in force: `None` when there is none (unset or zero).
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.table_lock_timeout.filter(|d| !d.is_zero())
    }

    /// The statement timeout in force: `None` when there is none (unset or zero).
    pub fn run_timeout(&self) -> Option<Duration> {
        self.statement_timeout.filter(|d| !d.is_zero())
    }

    /// Whether any timeout is in force.
    pub fn has_timeouts(&self) -> bool {
        self.lock_timeout().is_some() || self.run_timeout().is_some()
    }
}

/// The most `retries=` accepts.
pub const MAX_RETRIES: u32 = 100;

/// Reads a duration as PostgreSQL's settings write it: a number (decimals allowed) and a unit,
/// `ms`, `s`, `min`, `h` or `d`; `0` alone means no timeout.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(jetbase_core::parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
/// assert_eq!(jetbase_core::parse_duration("10min"), Ok(Duration::from_secs(600)));
/// assert_eq!(jetbase_core::parse_duration("0"), Ok(Duration::ZERO));
/// assert!(jetbase_core::parse_duration("5").is_err());
/// ```
///
/// # Errors
///
/// A message saying what is wrong and what to write, for a missing or unknown unit, a value
/// that is not a number, or one over 24 days (the most PostgreSQL takes).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let millis_per_unit: f64 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 1.0,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        "" => {
            return Err(format!(
                "`{text}` has no unit; write one of ms, s, min, h, d (e.g. `5s`), or `0` for none"
            ));
        }
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; write one of ms, s, min, h, d (e.g. `5s`)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a number with a unit, e.g. `5s` or `1.5min`"))?;
    let millis = (value * millis_per_unit).round();
    // PostgreSQL's timeouts are 32-bit milliseconds.
    if millis > f64::from(i32::MAX) {
        return Err(format!("`{text}` is too long; the most is 24 days (`24d`)"));
    }
    // In range: checked above, and not negative (no sign is accepted).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(Duration::from_millis(millis as u64))
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
        "line {line}: unknown directive `{text}`; the known ones are `-- jetbase: no-transaction`, \
         `delimiter=X`, `table-lock-timeout=5s`, `statement-timeout=10min` and `retries=3`"
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
    /// A limit directive (`table-lock-timeout=`, `statement-timeout=`, `retries=`) with a value
    /// that is not one.
    #[error("line {line}: `{text}`: {problem}")]
    InvalidValue {
        /// The line it is on.
        line: usize,
        /// The directive line, trimmed.
        text: String,
        /// What is wrong, and what to write.
        problem: String,
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
    } else if let Some((name, value)) = directive.split_once('=') {
        apply_limit(
            directives,
            name.trim(),
            value.trim(),
            line_text,
            line,
            errors,
        );
    } else {
        errors.push(BodyError::UnknownDirective {
            line,
            text: line_text.to_owned(),
        });
    }
}

/// `table-lock-timeout=`, `statement-timeout=` or `retries=`.
fn apply_limit(
    directives: &mut Directives,
    name: &str,
    value: &str,
    line_text: &str,
    line: usize,
    errors: &mut Vec<BodyError>,
) {
    let invalid = |problem: String| BodyError::InvalidValue {
        line,
        text: line_text.to_owned(),
        problem,
    };
    let limits = &mut directives.limits;
    let already = match name.to_ascii_lowercase().as_str() {
        "table-lock-timeout" => match parse_duration(value) {
            Ok(duration) => limits.table_lock_timeout.replace(duration).is_some(),
            Err(problem) => return errors.push(invalid(problem)),
        },
        "statement-timeout" => match parse_duration(value) {
            Ok(duration) => limits.statement_timeout.replace(duration).is_some(),
            Err(problem) => return errors.push(invalid(problem)),
        },
        "retries" => match value.parse::<u32>() {
            Ok(count) if count <= MAX_RETRIES => limits.retries.replace(count).is_some(),
            _ => {
                return errors.push(invalid(format!(
                    "`{value}` is not a number of retries from 0 to {MAX_RETRIES}"
                )));
            }
        },
        _ => {
            return errors.push(BodyError::UnknownDirective {
                line,
                text: line_text.to_owned(),
            });
        }
    };
    if already {
        errors.push(BodyError::RepeatedDirective {
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
    fn limit_directives_and_their_errors() {
        let body = parse_body(
            "-- jetbase: table-lock-timeout=500ms\n--JETBASE: Statement-Timeout = 10min\n\
             -- jetbase: retries=0\nSELECT 1;\n",
        )
        .unwrap();
        let limits = body.directives.limits;
        assert_eq!(limits.table_lock_timeout, Some(Duration::from_millis(500)));
        assert_eq!(limits.statement_timeout, Some(Duration::from_secs(600)));
        assert_eq!(limits.retries, Some(0));
        let errors = parse_body(
            "-- jetbase: table-lock-timeout=5\n-- jetbase: statement-timeout=2 weeks\n\
             -- jetbase: retries=-1\n-- jetbase: retries=2\n-- jetbase: retries=3\n\
             -- jetbase: lock-timeout=1s\nSELECT 1;\n",
        )
        .unwrap_err();
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line 1: `-- jetbase: table-lock-timeout=5`: `5` has no unit; write one of ms, s, \
                 min, h, d (e.g. `5s`), or `0` for none",
                "line 2: `-- jetbase: statement-timeout=2 weeks`: `2 weeks`: unknown unit `weeks`; \
                 write one of ms, s, min, h, d (e.g. `5s`)",
                "line 3: `-- jetbase: retries=-1`: `-1` is not a number of retries from 0 to 100",
                "line 5: directive `-- jetbase: retries=3` is given twice; keep one",
                "line 6: unknown directive `-- jetbase: lock-timeout=1s`; the known ones are \
                 `-- jetbase: no-transaction`, `delimiter=X`, `table-lock-timeout=5s`, \
                 `statement-timeout=10min` and `retries=3`",
            ]
        );
    }

    #[test]
    fn durations_and_their_limits() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(" 2 h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("25d").unwrap_err().contains("24 days"));
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("1.2.3s").is_err());
        let limits = RunLimits {
            table_lock_timeout: Some(Duration::ZERO),
            ..RunLimits::default()
        };
        let defaults = RunLimits {
            table_lock_timeout: Some(Duration::from_secs(5)),
            statement_timeout: Some(Duration::from_secs(9)),
            retries: Some(2),
        };
        let merged = limits.or(defaults);
        assert_eq!(merged.lock_timeout(), None, "zero overrides the default");
        assert_eq!(merged.run_timeout(), Some(Duration::from_secs(9)));
        assert_eq!(merged.retries, Some(2));
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
