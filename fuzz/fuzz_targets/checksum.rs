//! The Python-compatible checksum on any text and delimiter: never a panic, always 64 lower-case
//! hex digits, the same twice, and the statements it hashes come from the text.
#![no_main]

use jetbase_core::{checksum, checksum_statements};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (text, delimiter) = input;
    let delimiter = if delimiter.is_empty() { ";" } else { delimiter };
    let digest = checksum(text, delimiter);
    assert_eq!(digest.len(), 64);
    assert!(
        digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(digest, checksum(text, delimiter));
    for statement in checksum_statements(text, delimiter) {
        assert!(!statement.is_empty());
    }
});
