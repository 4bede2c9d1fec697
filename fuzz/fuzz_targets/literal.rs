//! `Dialect::string_literal`, the one way a value reaches SQL where it cannot be bound: for any
//! text, each dialect's literal reads back as exactly that text under the dialect's own rules
//! (backslash escapes where the server may apply them), and ends where it should — no value
//! breaks out of its literal.
#![no_main]

use jetbase_core::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &str| {
    for dialect in Dialect::ALL {
        let literal = dialect.string_literal(value);
        match dialect {
            Dialect::Postgres => {
                // `$tag$…$tag$`: the first closing tag is the last characters.
                let tag_end = literal[1..].find('$').expect("a closing `$` of the tag") + 2;
                let tag = &literal[..tag_end];
                assert!(literal.len() >= 2 * tag.len());
                assert_eq!(&literal[tag.len()..literal.len() - tag.len()], value);
                assert_eq!(literal[tag.len()..].find(tag), Some(value.len()), "{literal}");
            }
            Dialect::MySql if value.is_empty() => assert_eq!(literal, "''"),
            Dialect::MySql => {
                let hex = literal
                    .strip_prefix("_utf8mb4 X'")
                    .and_then(|rest| rest.strip_suffix('\''))
                    .expect("a hex literal");
                assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
                let bytes: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex"))
                    .collect();
                assert_eq!(bytes, value.as_bytes());
            }
            Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
                let backslash_escapes = dialect != Dialect::Sqlite;
                let chars: Vec<char> = literal.chars().collect();
                assert_eq!(chars.first(), Some(&'\''));
                let mut read = String::new();
                let mut at = 1;
                let end = loop {
                    match chars[at] {
                        '\\' if backslash_escapes => {
                            read.push(chars[at + 1]);
                            at += 2;
                        }
                        '\'' if chars.get(at + 1) == Some(&'\'') => {
                            // Doubled: a quote in SQLite; never written where backslashes escape.
                            assert!(!backslash_escapes, "{literal}");
                            read.push('\'');
                            at += 2;
                        }
                        '\'' => break at,
                        c => {
                            read.push(c);
                            at += 1;
                        }
                    }
                };
                assert_eq!(end, chars.len() - 1, "{dialect}: {literal}");
                assert_eq!(read, value, "{dialect}: {literal}");
            }
        }
    }
});
