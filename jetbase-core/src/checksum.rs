//! The checksum of a migration, compatible with Python Jetbase 0.18.1: SHA-256 over the upgrade
//! section normalised as Python Jetbase normalises it (see [`checksum_statements`]), so that a
//! history written by either tool validates against the same files.

use sha2::{Digest, Sha256};

use crate::lines::{comment_line, is_rollback_marker, lines, python_strip};

/// The statement delimiter when a file names none.
pub const DEFAULT_DELIMITER: &str = ";";

/// The statements of the upgrade section as Python Jetbase normalises them for its checksum.
///
/// Lines are trimmed; empty lines and lines starting with `--` are dropped; lines are collected
/// into a statement until one ends with `delimiter`; a statement is its lines joined by one space
/// with trailing delimiter characters, then whitespace, removed. Reading stops at the rollback
/// marker. Unlike Python Jetbase, a final statement without a delimiter is kept (Python drops it
/// and never runs it). `text` must not start with a byte order mark (strip it first).
///
/// These statements are the checksum's input, not what is executed: a PL/pgSQL body is cut at
/// every line ending in `;` here, which is right for hashing and wrong for running.
///
/// ```
/// let text = "-- upgrade\nCREATE TABLE t (\n  id INT\n);\n-- rollback\nDROP TABLE t;\n";
/// assert_eq!(jetbase_core::checksum_statements(text, ";"), ["CREATE TABLE t ( id INT )"]);
/// ```
pub fn checksum_statements(text: &str, delimiter: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines(text) {
        let trimmed = python_strip(line.text);
        if trimmed.is_empty() {
            continue;
        }
        if comment_line(trimmed) {
            if is_rollback_marker(trimmed) {
                break;
            }
            continue;
        }
        current.push(trimmed);
        if trimmed.ends_with(delimiter) {
            push_statement(&mut statements, &mut current, delimiter);
        }
    }
    push_statement(&mut statements, &mut current, delimiter);
    statements
}

fn push_statement(statements: &mut Vec<String>, current: &mut Vec<&str>, delimiter: &str) {
    if current.is_empty() {
        return;
    }
    let joined = current.join(" ");
    current.clear();
    // Python's `str.rstrip(delimiter)` removes any trailing run of the delimiter's characters.
    let statement = python_strip(joined.trim_end_matches(|c| delimiter.contains(c)));
    if !statement.is_empty() {
        statements.push(statement.to_owned());
    }
}

/// The checksum of a migration body: lower-case hex SHA-256 of [`checksum_statements`] joined by
/// `\n`. A leading byte order mark is ignored.
///
/// ```
/// // The same statements give the same checksum whatever the layout.
/// let a = jetbase_core::checksum("CREATE TABLE t (id INT);\n", ";");
/// let b = jetbase_core::checksum("-- a comment\r\n\r\n   CREATE TABLE t (id INT);\r\n", ";");
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 64);
/// ```
pub fn checksum(text: &str, delimiter: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let input = checksum_statements(text, delimiter).join("\n");
    let digest = Sha256::digest(input.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_hashes_the_empty_string() {
        assert_eq!(
            checksum("-- upgrade\n\n-- rollback\n", ";"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn trailing_delimiter_run_is_removed_like_python_rstrip() {
        assert_eq!(checksum_statements("SELECT 1;;\n", ";"), ["SELECT 1"]);
        assert_eq!(checksum_statements("SELECT 1 ; ;\n", ";"), ["SELECT 1 ;"]);
        assert_eq!(checksum_statements("SELECT 1 //\n", "//"), ["SELECT 1"]);
    }

    #[test]
    fn unterminated_final_statement_is_hashed() {
        assert_eq!(
            checksum_statements("SELECT 1;\nSELECT 2\n", ";"),
            ["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn stops_at_the_rollback_marker() {
        assert_eq!(
            checksum_statements("SELECT 1;\n--ROLLBACK\nSELECT 2;\n", ";"),
            ["SELECT 1"]
        );
    }
}
