//! Results as rows of text, as the databases reached over HTTP return them (Snowflake,
//! ClickHouse): reading a cell as text, an integer or a boolean, and a history row. Shared by
//! their folders.

use std::future::Future;

use jetbase_core::AppliedMigration;

use super::current::{self, CurrentReads, HighestVersion};
use super::tables::Tables;
use super::{DatabaseError, DatabaseErrorKind};

/// One row: each cell as text, `None` for NULL.
pub(crate) type TextRow = [Option<String>];

/// A result that is not what jetbase asked for.
pub(crate) fn decode_error(message: String) -> DatabaseError {
    DatabaseError::new(
        DatabaseErrorKind::Decode,
        std::io::Error::new(std::io::ErrorKind::InvalidData, message),
    )
}

pub(crate) fn cell(row: &TextRow, index: usize) -> Option<&str> {
    row.get(index).and_then(|cell| cell.as_deref())
}

pub(crate) fn text(row: &TextRow, index: usize) -> Option<String> {
    cell(row, index).map(str::to_owned)
}

pub(crate) fn integer(row: &TextRow, index: usize) -> Result<Option<i64>, DatabaseError> {
    cell(row, index)
        .map(|text| {
            text.parse::<i64>()
                .map_err(|_| decode_error(format!("expected an integer, found `{text}`")))
        })
        .transpose()
}

/// `true`/`false` as the databases print them (and `1`/`0`).
pub(crate) fn boolean(row: &TextRow, index: usize) -> Option<bool> {
    cell(row, index).map(|text| matches!(text, "true" | "TRUE" | "True" | "1"))
}

/// A history row, in the column order of `Tables::read_history` (jetbase's own columns last,
/// absent on a table Python Jetbase created).
pub(crate) fn applied_migration(row: &TextRow) -> Result<AppliedMigration, DatabaseError> {
    Ok(AppliedMigration {
        order_executed: integer(row, 0)?
            .ok_or_else(|| decode_error("order_executed is NULL".to_owned()))?,
        version: text(row, 1),
        description: text(row, 2).unwrap_or_default(),
        filename: text(row, 3).unwrap_or_default(),
        migration_type: text(row, 4).unwrap_or_default(),
        applied_at: text(row, 5).unwrap_or_default(),
        checksum: text(row, 6),
        execution_ms: integer(row, 7)?,
        success: boolean(row, 8),
    })
}

/// The current version's history row (see `current::read_current`) from a database whose
/// results are rows of text, `run` returning a statement's rows.
pub(crate) async fn read_current<Run, Rows>(
    tables: &Tables,
    run: Run,
) -> Result<Option<AppliedMigration>, DatabaseError>
where
    Run: Fn(String) -> Rows,
    Rows: Future<Output = Result<Vec<Vec<Option<String>>>, DatabaseError>>,
{
    current::read_current(&mut TextReads { tables, run }).await
}

/// `current`'s two reads as statements returning rows of text.
struct TextReads<'a, Run> {
    tables: &'a Tables,
    run: Run,
}

impl<Run, Rows> CurrentReads for TextReads<'_, Run>
where
    Run: Fn(String) -> Rows,
    Rows: Future<Output = Result<Vec<Vec<Option<String>>>, DatabaseError>>,
{
    async fn highest(&mut self, own_columns: bool) -> Result<Option<i64>, DatabaseError> {
        let rows = (self.run)(self.tables.read_versions(own_columns)).await?;
        let mut highest = HighestVersion::default();
        for row in &rows {
            let order_executed = integer(row, 0)?
                .ok_or_else(|| decode_error("order_executed is NULL".to_owned()))?;
            let success = if own_columns { boolean(row, 2) } else { None };
            highest.offer(order_executed, cell(row, 1), success);
        }
        Ok(highest.order_executed())
    }

    async fn row(
        &mut self,
        own_columns: bool,
        order_executed: i64,
    ) -> Result<Option<AppliedMigration>, DatabaseError> {
        let rows = (self.run)(self.tables.read_history_row(own_columns, order_executed)).await?;
        rows.first().map(|row| applied_migration(row)).transpose()
    }
}

pub(crate) use super::elapsed_ms;

/// make-migrations' catalog reading, which these databases do not have.
pub(crate) fn no_schema_reading(database: &str) -> DatabaseError {
    DatabaseError::new(
        DatabaseErrorKind::Unsupported,
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "reading the schema (make-migrations) works on PostgreSQL, SQLite and \
                 MySQL/MariaDB, not on {database}: write {database} migrations by hand (`jetbase new`)"
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_row_of_text() {
        let row: Vec<Option<String>> = [
            "3",
            "2",
            "add",
            "V2__add.sql",
            "VERSIONED",
            "2026-12-01",
            "abc",
            "15",
            "true",
        ]
        .iter()
        .map(|cell| Some((*cell).to_owned()))
        .collect();
        let migration = applied_migration(&row).unwrap();
        assert_eq!(migration.order_executed, 3);
        assert_eq!(
            (migration.execution_ms, migration.success),
            (Some(15), Some(true))
        );
        // Python Jetbase's table: no columns of jetbase's.
        let python = applied_migration(&row[..7]).unwrap();
        assert_eq!((python.execution_ms, python.success), (None, None));
        let mut bad = row.clone();
        bad[0] = Some("x".to_owned());
        assert!(applied_migration(&bad).is_err());
    }
}
