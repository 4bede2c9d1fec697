//! The body parser and the statement splitter on any text, in every dialect: never a panic;
//! each statement is a non-empty slice of the text at its offset, in order, with a line number
//! inside the text.
#![no_main]

use jetbase_core::{Dialect, parse_body, split_statements, split_with_delimiter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // Lines as Python's splitlines() counts them (the splitter's rule): an upper bound.
    let breaks = [
        '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}',
    ];
    let lines = text.chars().filter(|c| breaks.contains(c)).count() + 1;
    let _ = parse_body(text);
    for dialect in Dialect::ALL {
        if let Ok(statements) = split_statements(text, 1, dialect) {
            let mut previous_end = 0;
            for statement in &statements {
                assert!(!statement.sql.is_empty());
                assert_eq!(
                    &text[statement.offset..statement.offset + statement.sql.len()],
                    statement.sql
                );
                assert!(
                    statement.offset >= previous_end,
                    "statements overlap in {text:?}"
                );
                previous_end = statement.offset + statement.sql.len();
                assert!(
                    statement.line >= 1 && statement.line <= lines,
                    "line {} of {text:?}",
                    statement.line
                );
            }
        }
    }
    for statement in split_with_delimiter(text, 1, "~") {
        assert!(!statement.sql.is_empty());
        assert!(statement.line >= 1 && statement.line <= lines);
    }
});
