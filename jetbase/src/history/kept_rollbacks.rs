//! The rollback SQL each history row keeps (`rollback_sql`, jetbase's own column, written as a
//! migration is applied where the database keeps it): read back into migrations for the rows
//! whose files this binary does not have, so that they can still be rolled back.

use jetbase_core::{AppliedMigration, Migration, MigrationKind, Version};

use crate::Error;
use crate::backend::Database;
use crate::backend::private::SEAL;
use crate::backend::tables::{ROLLBACK_COLUMN, Tables};

/// The versioned rows of `rows` whose version has no migration in `local`: the rows a
/// rollback can undo only with what they keep.
pub(crate) fn without_file<'h>(
    local: &[Migration],
    rows: impl IntoIterator<Item = &'h AppliedMigration>,
) -> Vec<&'h AppliedMigration> {
    rows.into_iter()
        .filter(|row| row.kind() == Some(MigrationKind::Versioned))
        .filter(|row| {
            let version = row.version.as_deref().and_then(|t| Version::parse(t).ok());
            version.is_some_and(|version| !local.iter().any(|m| m.version() == Some(&version)))
        })
        .collect()
}

/// Each of `rows` with the migration rebuilt from what it keeps, or `None` where it keeps
/// nothing (written by Python Jetbase, by a jetbase before it kept them, or on a database
/// where jetbase keeps none). One query per row: only rows without a file are read, and their
/// text may be long.
///
/// # Errors
///
/// [`Error::Database`] when the rows cannot be read; [`Error::Refused`] when what a row keeps
/// does not read back as a rollback section (edited by hand).
pub(crate) async fn read<'h, D: Database>(
    database: &D,
    tables: &Tables,
    rows: &[&'h AppliedMigration],
) -> Result<Vec<(&'h AppliedMigration, Option<Migration>)>, Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    if !database.capabilities().stored_rollbacks {
        return Ok(rows.iter().map(|row| (*row, None)).collect());
    }
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        // Values jetbase wrote itself: the row's number and its own column's name.
        let sql = format!(
            "SELECT {ROLLBACK_COLUMN}, filename, version, description FROM {} \
             WHERE order_executed = {}",
            tables.migrations, row.order_executed
        );
        let text = match database.backend(SEAL).read_text_rows(&sql).await {
            Ok(rows) => rows
                .and_then(|rows| rows.into_iter().next())
                .and_then(|[text, ..]| text),
            // A table no jetbase has extended yet keeps nothing.
            Err(error) if error.is_missing_column() => None,
            Err(error) => {
                return Err(Error::Database {
                    action: "reading the rollback SQL kept in the history",
                    source: error,
                });
            }
        };
        let migration = match text {
            None => None,
            Some(text) => Some(jetbase_core::migration_from_stored(row, &text).map_err(
                |problems| Error::Refused {
                    operation: "rollback",
                    message: format!(
                        "the rollback SQL kept with {} (history row {}) does not read back: {}",
                        row.filename,
                        row.order_executed,
                        problems
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                },
            )?),
        };
        kept.push((*row, migration));
    }
    Ok(kept)
}
