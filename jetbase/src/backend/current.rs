//! Which history row is the database's current version, chosen while the versioned rows are
//! read one by one (`Tables::read_versions`), so that only the chosen row is then read whole.
//! The two reads and their retries are written once here ([`read_current`]); each database
//! supplies how it makes them ([`CurrentReads`]) and folds its rows into [`HighestVersion`].

use jetbase_core::{AppliedMigration, Version};

use super::{DatabaseError, DatabaseErrorKind};

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

/// The two reads of `current`, as one database makes them.
pub(crate) trait CurrentReads {
    /// The `order_executed` of the highest version's row (see [`HighestVersion`]) among the
    /// versioned rows (`Tables::read_versions`); `None` when there is none.
    async fn highest(&mut self, own_columns: bool) -> Result<Option<i64>, DatabaseError>;

    /// The history row with this `order_executed` (`Tables::read_history_row`), if it is still
    /// there.
    async fn row(
        &mut self,
        own_columns: bool,
        order_executed: i64,
    ) -> Result<Option<AppliedMigration>, DatabaseError>;
}

/// How many times the two reads are tried when the chosen row is gone before the second one (a
/// rollback between them) before giving up with an error.
const ATTEMPTS: usize = 3;

/// The current version's history row: the highest version's `order_executed` from the versioned
/// rows' narrow columns, then that one row. `None` when nothing versioned is applied or the
/// table does not exist. A table Python Jetbase created (no `success` column) is read without
/// it; a row removed between the two reads (a concurrent rollback) makes both reads start again.
pub(crate) async fn read_current(
    reads: &mut impl CurrentReads,
) -> Result<Option<AppliedMigration>, DatabaseError> {
    for _ in 0..ATTEMPTS {
        let mut own_columns = true;
        let mut highest = reads.highest(own_columns).await;
        if let Err(error) = &highest
            && error.is_missing_column()
        {
            // A table Python Jetbase created, which jetbase has not extended yet.
            own_columns = false;
            highest = reads.highest(own_columns).await;
        }
        let order_executed = match highest {
            Ok(Some(order_executed)) => order_executed,
            Ok(None) => return Ok(None),
            Err(error) if error.is_missing_table() => return Ok(None),
            Err(error) => return Err(error),
        };
        if let Some(row) = reads.row(own_columns, order_executed).await? {
            return Ok(Some(row));
        }
    }
    Err(DatabaseError::new(
        DatabaseErrorKind::Query,
        "the history changed while the current version was read, three times: a rollback or \
         upgrade is running; try again when it has finished",
    ))
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
