//! SQLite: the `ALTER TABLE` forms it does not have, which fail at run time.

use jetbase::Statement;

use super::{Found, Level, first_sql_line, starts_with, words};

pub const UNSUPPORTED_ALTER: &str = "sqlite-unsupported-alter";
pub const NOT_NULL_WITHOUT_DEFAULT: &str = "sqlite-not-null-column-without-default";

pub(super) fn check(statements: &[Statement<'_>], found: &mut Vec<Found>) {
    for statement in statements {
        let words = words(statement);
        if !starts_with(&words, &["ALTER", "TABLE"]) {
            continue;
        }
        let has = |word: &str| words.iter().any(|w| w == word);
        let line = first_sql_line(statement);
        let unsupported = if has("ALTER") && words.iter().skip(2).any(|w| w == "ALTER") {
            Some("ALTER COLUMN")
        } else if has("CONSTRAINT") {
            Some("ADD/DROP CONSTRAINT")
        } else if has("MODIFY") {
            Some("MODIFY")
        } else {
            None
        };
        if let Some(form) = unsupported {
            found.push(Found {
                line,
                rule: UNSUPPORTED_ALTER.into(),
                level: Level::Error,
                message: format!("SQLite's ALTER TABLE has no {form}: this fails at run time"),
                help: "create the new table, copy the rows, drop the old table and rename the new \
                       one (SQLite's documented way, https://sqlite.org/lang_altertable.html)"
                    .to_owned(),
            });
            continue;
        }
        let adds_not_null =
            has("ADD") && words.windows(2).any(|pair| pair == ["NOT", "NULL"]) && !has("DEFAULT");
        if adds_not_null {
            found.push(Found {
                line,
                rule: NOT_NULL_WITHOUT_DEFAULT.into(),
                level: Level::Error,
                message: "SQLite refuses to add a NOT NULL column without a default: this fails \
                          at run time"
                    .to_owned(),
                help: "give the column a DEFAULT, or add it as nullable".to_owned(),
            });
        }
    }
}
