//! Trying a migration again when it could not get a table lock in time (its `retries`): the
//! pause between attempts, what the caller is told, and which table the lock was for.

use std::time::Duration;

/// A migration that could not get a lock in time is about to be tried again: given to the
/// `on_retry` callback of [`Upgrade`](crate::Upgrade) and [`Rollback`](crate::Rollback).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Retry<'m> {
    /// The migration's file.
    pub filename: &'m str,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// How many attempts it has in all (1 + its retries).
    pub attempts: u32,
    /// How long jetbase waits before the next attempt.
    pub wait: Duration,
    /// The table the lock was for, when the failing statement names one.
    pub table: Option<&'m str>,
    /// The database's message.
    pub message: &'m str,
}

/// The first pause; each retry waits about twice as long as the one before.
const FIRST_WAIT: Duration = Duration::from_millis(500);

/// The longest pause between two attempts.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// The pause after failed attempt `attempt` (from 1): doubling from 0.5 s up to 30 s, of which
/// a random half, so that processes blocked by the same session do not all come back at once.
pub(crate) fn wait_after(attempt: u32) -> Duration {
    let doubled = FIRST_WAIT.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let ceiling = doubled.min(LONGEST_WAIT);
    let half = ceiling / 2;
    half + half.mul_f64(fastrand::f64())
}

/// The table a statement takes a lock on, as written (schema included), for the message of a
/// lock timeout: the table of `ALTER TABLE`, `LOCK TABLE`, `CREATE INDEX … ON`, `DROP TABLE`,
/// `TRUNCATE`, `INSERT INTO`, `UPDATE`, `DELETE FROM`, `REINDEX TABLE`, `VACUUM`, `ANALYZE`.
pub(crate) fn locked_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = jetbase_core::sql_words(sql).collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let is = |index: usize, word: &str| upper.get(index).is_some_and(|w| w == word);
    let skip_modifiers = |mut index: usize| {
        while [
            "IF",
            "EXISTS",
            "NOT",
            "ONLY",
            "CONCURRENTLY",
            "IGNORE",
            "LOW_PRIORITY",
        ]
        .iter()
        .any(|modifier| is(index, modifier))
        {
            index += 1;
        }
        index
    };
    let start = match upper.first().map(String::as_str)? {
        "ALTER" | "LOCK" | "DROP" | "REINDEX" if is(1, "TABLE") => 2,
        "TRUNCATE" if is(1, "TABLE") => 2,
        "TRUNCATE" | "UPDATE" | "VACUUM" | "ANALYZE" => 1,
        "INSERT" if is(1, "INTO") => 2,
        "DELETE" if is(1, "FROM") => 2,
        "CREATE" => {
            let on = upper.iter().position(|w| w == "ON")?;
            upper[..on].iter().any(|w| w == "INDEX").then_some(on + 1)?
        }
        _ => return None,
    };
    let name = words.get(skip_modifiers(start))?;
    let name = name
        .split(['(', ';'])
        .next()
        .filter(|name| !name.is_empty())?;
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_each_locking_statement() {
        let cases = [
            ("ALTER TABLE users ADD COLUMN age INT", Some("users")),
            (
                "alter table if exists only public.users add c int",
                Some("public.users"),
            ),
            ("-- why\nALTER TABLE \"Users\" ADD c INT", Some("\"Users\"")),
            ("CREATE UNIQUE INDEX ix ON users (email)", Some("users")),
            (
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON ONLY t(a)",
                Some("t"),
            ),
            (
                "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE",
                Some("accounts"),
            ),
            ("DROP TABLE IF EXISTS old_users", Some("old_users")),
            ("TRUNCATE sessions", Some("sessions")),
            ("INSERT INTO audit(id) VALUES (1)", Some("audit")),
            ("UPDATE users SET a = 1", Some("users")),
            ("DELETE FROM users WHERE id = 1", Some("users")),
            ("CREATE TABLE t (id INT)", None),
            ("SELECT 1", None),
            ("", None),
        ];
        for (sql, table) in cases {
            assert_eq!(locked_table(sql).as_deref(), table, "{sql}");
        }
    }

    #[test]
    fn waits_double_up_to_a_ceiling_with_a_random_half() {
        for _ in 0..100 {
            let first = wait_after(1);
            assert!(first >= Duration::from_millis(250) && first <= FIRST_WAIT);
            let third = wait_after(3);
            assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2));
            let late = wait_after(40);
            assert!(late >= LONGEST_WAIT / 2 && late <= LONGEST_WAIT);
        }
    }
}
