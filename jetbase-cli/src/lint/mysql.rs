//! MySQL/MariaDB: DDL commits by itself there, and an `ALTER TABLE` may copy the whole table
//! under a lock unless it is told not to.

use jetbase::Statement;

use super::{Found, Level, first_sql_line, is_ddl, is_dml, starts_with, words};

pub const DDL_WITH_DML: &str = "mysql-ddl-with-dml";
pub const ALTER_WITHOUT_ALGORITHM: &str = "mysql-alter-without-algorithm";

pub(super) fn check(statements: &[Statement<'_>], found: &mut Vec<Found>) {
    let all_words: Vec<Vec<String>> = statements.iter().map(words).collect();
    let ddl = all_words.iter().position(|words| is_ddl(words));
    let dml = all_words.iter().position(|words| is_dml(words));
    if let (Some(ddl), Some(dml)) = (ddl, dml) {
        let later = statements[ddl.max(dml)];
        found.push(Found {
            line: first_sql_line(&later),
            rule: DDL_WITH_DML.into(),
            level: Level::Warning,
            message: "this migration mixes schema changes and data changes: MySQL/MariaDB commit \
                      each schema change at once, so if a later statement fails, the earlier ones \
                      stay applied and the migration is left partially applied"
                .to_owned(),
            help: "put the data changes in a migration of their own".to_owned(),
        });
    }
    for (statement, words) in statements.iter().zip(&all_words) {
        if let Some(change) = online_change(words)
            && !has_clause(words, "ALGORITHM")
        {
            found.push(Found {
                line: first_sql_line(statement),
                rule: ALTER_WITHOUT_ALGORITHM.into(),
                level: Level::Warning,
                message: format!(
                    "`ALTER TABLE … {change}` names no algorithm: where the server cannot do it \
                     in place it silently copies the table, blocking writes for as long as that \
                     takes"
                ),
                help: "add `, ALGORITHM=INSTANT` (or `ALGORITHM=INPLACE, LOCK=NONE`): the server \
                       then refuses the change instead of copying the table under a lock"
                    .to_owned(),
            });
        }
    }
}

/// The table change of an `ALTER TABLE` that MySQL/MariaDB can make without copying the table
/// (instantly or in place, writes allowed), if it is one.
fn online_change(words: &[String]) -> Option<&'static str> {
    if !starts_with(words, &["ALTER", "TABLE"]) {
        return None;
    }
    // Foreign keys and other constraints are copied or checked whatever the algorithm.
    if words.iter().any(|word| {
        matches!(
            word.as_str(),
            "CONSTRAINT" | "FOREIGN" | "CHECK" | "PRIMARY"
        )
    }) {
        return None;
    }
    let after = |first: &str, second: &[&str]| {
        words
            .windows(2)
            .any(|pair| pair[0] == first && second.contains(&pair[1].as_str()))
    };
    if after("ADD", &["INDEX", "KEY", "UNIQUE", "FULLTEXT", "SPATIAL"]) {
        Some("ADD INDEX")
    } else if after("DROP", &["INDEX", "KEY"]) {
        Some("DROP INDEX")
    } else if after("RENAME", &["COLUMN", "INDEX", "KEY"]) {
        Some("RENAME")
    } else if words.iter().any(|word| word == "ADD") {
        Some("ADD COLUMN")
    } else if after("DROP", &["COLUMN"]) {
        Some("DROP COLUMN")
    } else if words
        .iter()
        .any(|word| word == "MODIFY" || word == "CHANGE")
    {
        Some("MODIFY COLUMN")
    } else {
        None
    }
}

/// Whether a clause such as `ALGORITHM=INSTANT` (also `ALGORITHM = INSTANT`) is there.
fn has_clause(words: &[String], name: &str) -> bool {
    words.iter().any(|word| {
        word.trim_start_matches(',')
            .split('=')
            .next()
            .is_some_and(|key| key == name)
    })
}
