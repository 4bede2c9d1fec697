//! The file name grammar: never a panic; a name that parses keeps its parts, and its version
//! reads back as itself.
#![no_main]

use jetbase_core::{MigrationKind, Version, parse_filename};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|name: &str| {
    let Ok(parsed) = parse_filename(name) else {
        return;
    };
    assert!(name.ends_with(".sql"), "{name:?}");
    // Python's rule: the raw description, stripped, is not empty ("__" is one: two spaces).
    assert!(!parsed.description.is_empty(), "{name:?}");
    match (parsed.kind, &parsed.version) {
        (MigrationKind::Versioned, Some(version)) => {
            let again = Version::parse(version.as_str()).expect("a parsed version parses again");
            assert_eq!(&again, version, "{name:?}");
        }
        (MigrationKind::Versioned, None) => panic!("a versioned name without version: {name:?}"),
        (_, Some(_)) => panic!("a repeatable name with a version: {name:?}"),
        _ => {}
    }
});
