//! Which history row is the database's current version, chosen while the versioned rows are
//! read one by one (`Tables::read_versions`), so that only the chosen row is then read whole.
//! Written once here; each database folder streams its rows into [`HighestVersion`].

use jetbase_core::Version;

/// The current version's row so far: among the versioned rows not marked failed, the one with
/// the highest version, the newest (highest `order_executed`) of equal versions. Rows whose
/// version does not parse are not candidates, as `status` shows them apart.
///
/// The highest version is neither the last row in SQL text order (`1.10` is above `1.9`) nor
/// the last one applied (an out-of-order apply adds a lower version after it).
#[derive(Debug, Default)]
pub(crate) struct HighestVersion {
    best: Option<(Version, i64)>,
}

impl HighestVersion {
    /// Considers one versioned row.
    pub(crate) fn offer(
        &mut self,
        order_executed: i64,
        version: Option<&str>,
        success: Option<bool>,
    ) {
        if success == Some(false) {
            return;
        }
        let Some(Ok(version)) = version.map(Version::parse) else {
            return;
        };
        let higher = match &self.best {
            None => true,
            Some((best, best_order)) => (&version, order_executed) > (best, *best_order),
        };
        if higher {
            self.best = Some((version, order_executed));
        }
    }

    /// The chosen row's `order_executed`; `None` when no row was a candidate.
    pub(crate) fn order_executed(&self) -> Option<i64> {
        self.best.as_ref().map(|(_, order)| *order)
    }
}

/// How many times the two reads are tried when the chosen row is gone before the second one (a
/// rollback between them) before giving up with an error.
pub(crate) const ATTEMPTS: usize = 3;

/// The error after [`ATTEMPTS`] tries each lost to a concurrent change.
pub(crate) fn history_kept_changing() -> super::DatabaseError {
    super::DatabaseError::new(
        super::DatabaseErrorKind::Query,
        "the history changed while the current version was read, three times: a rollback or \
         upgrade is running; try again when it has finished",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::HighestVersion;

    fn chosen(rows: &[(i64, Option<&str>, Option<bool>)]) -> Option<i64> {
        let mut highest = HighestVersion::default();
        for (order, version, success) in rows {
            highest.offer(*order, *version, *success);
        }
        highest.order_executed()
    }

    #[test]
    fn dotted_versions_compare_as_numbers_not_text() {
        assert_eq!(
            chosen(&[(1, Some("1.9"), None), (2, Some("1.10"), None)]),
            Some(2)
        );
        assert_eq!(
            chosen(&[(2, Some("1.10"), None), (1, Some("1.9"), None)]),
            Some(2)
        );
        assert_eq!(
            chosen(&[(1, Some("2"), None), (2, Some("10"), None)]),
            Some(2)
        );
    }

    #[test]
    fn an_out_of_order_apply_is_not_current() {
        assert_eq!(
            chosen(&[
                (1, Some("1"), None),
                (2, Some("3"), None),
                (3, Some("2"), None)
            ]),
            Some(2)
        );
    }

    #[test]
    fn failed_and_unreadable_rows_are_not_candidates() {
        assert_eq!(
            chosen(&[
                (1, Some("1"), Some(true)),
                (2, Some("2"), Some(false)),
                (3, Some("x.y"), None),
                (4, None, None),
            ]),
            Some(1)
        );
        assert_eq!(chosen(&[(1, Some("1"), Some(false))]), None);
        assert_eq!(chosen(&[]), None);
    }

    #[test]
    fn the_newest_of_equal_versions_wins_in_any_row_order() {
        // `1.0` and `1` are the same version.
        assert_eq!(
            chosen(&[(7, Some("1.0"), None), (3, Some("1"), None)]),
            Some(7)
        );
        assert_eq!(
            chosen(&[(3, Some("1"), None), (7, Some("1.0"), None)]),
            Some(7)
        );
    }
}
