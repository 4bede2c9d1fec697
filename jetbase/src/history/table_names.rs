//! The names of a migrator's history and lock tables: Python Jetbase's by default, others so
//! that several migration sets (two services, a library's own migrations) share one database,
//! each with its own history and lock.

use std::borrow::Cow;

use crate::Error;

/// The longest name kept: PostgreSQL keeps 63 bytes of a name and cuts the rest without a word
/// (MySQL/MariaDB 64), so a longer one could name another set's table.
const MAX_NAME_BYTES: usize = 63;

/// A history table's name and its lock table's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableNames {
    pub(crate) history: Cow<'static, str>,
    pub(crate) lock: Cow<'static, str>,
}

impl TableNames {
    /// Python Jetbase's: `jetbase_migrations` and `jetbase_lock`.
    pub(crate) const DEFAULT: Self = Self {
        history: Cow::Borrowed("jetbase_migrations"),
        lock: Cow::Borrowed("jetbase_lock"),
    };

    /// Refuses, before any SQL, a name that is not a plain lowercase identifier, and two equal
    /// names.
    pub(crate) fn check(&self) -> Result<(), Error> {
        check_name("history_table", &self.history)?;
        check_name("lock_table", &self.lock)?;
        if self.history == self.lock {
            return Err(Error::InvalidSetting {
                setting: "lock_table".to_owned(),
                message: format!(
                    "{:?} is also the history table: name two different tables",
                    self.lock
                ),
            });
        }
        Ok(())
    }
}

/// A name every database reads alike, quoted or not: lowercase ASCII letters, digits and `_`,
/// not starting with a digit, at most 63 bytes. (PostgreSQL folds an unquoted name to
/// lowercase and Snowflake to uppercase: a name with capitals would name different tables in
/// jetbase and in a hand-written query.)
fn check_name(setting: &str, name: &str) -> Result<(), Error> {
    let invalid = |message: String| {
        Err(Error::InvalidSetting {
            setting: setting.to_owned(),
            message,
        })
    };
    if name.is_empty() {
        return invalid("the name is empty: name a table, or leave the setting out".to_owned());
    }
    if name.len() > MAX_NAME_BYTES {
        return invalid(format!(
            "{name:?} is {} bytes long; at most {MAX_NAME_BYTES} are kept by every database",
            name.len()
        ));
    }
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if let Some(bad) = name.chars().find(|&c| !plain(c)) {
        return invalid(format!(
            "{name:?} holds {bad:?}: a table name here is lowercase ASCII letters, digits and `_` \
             (as `billing_migrations`), the same in every database whether quoted or not"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return invalid(format!(
            "{name:?} starts with a digit: start it with a letter or `_`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(history: &'static str, lock: &'static str) -> TableNames {
        TableNames {
            history: Cow::Borrowed(history),
            lock: Cow::Borrowed(lock),
        }
    }

    #[test]
    fn plain_lowercase_names_pass() {
        assert!(TableNames::DEFAULT.check().is_ok());
        assert!(
            names("billing_migrations", "_billing_lock2")
                .check()
                .is_ok()
        );
        assert!(names("a".repeat(63).leak(), "lock").check().is_ok());
    }

    #[test]
    fn everything_else_is_refused_naming_the_setting_and_value() {
        for (history, lock, setting, says) in [
            ("", "lock", "history_table", "empty"),
            ("Billing", "lock", "history_table", "'B'"),
            ("billing;drop table x", "lock", "history_table", "';'"),
            ("billing\"", "lock", "history_table", "'\"'"),
            ("bill ing", "lock", "history_table", "' '"),
            ("hist", "1lock", "lock_table", "starts with a digit"),
            ("hist", "lock\0", "lock_table", "'\\0'"),
            ("hist", "verrou_é", "lock_table", "'é'"),
            ("same", "same", "lock_table", "also the history table"),
        ] {
            let error = names(history, lock).check().unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("invalid {setting}: ")),
                "{error}"
            );
            assert!(error.contains(says), "{error}");
        }
        let long = "a".repeat(64).leak();
        let error = names(long, "lock").check().unwrap_err().to_string();
        assert!(error.contains("64 bytes"), "{error}");
    }
}
