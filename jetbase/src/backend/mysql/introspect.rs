//! MySQL's and MariaDB's `information_schema`: three queries for the whole database.

use super::{Connection, sqlx};
use crate::backend::gather::Gather;
use jetbase_core::schema::ForeignKey;
use jetbase_core::schema::{OnDelete, Schema};

pub(super) async fn read_schema(
    connection: &mut Connection,
    _postgres_schema: Option<&str>,
) -> Result<Schema, sqlx::Error> {
    let mut gather = Gather::default();
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR), \
                        CAST(c.COLUMN_TYPE AS CHAR), CAST(c.IS_NULLABLE AS CHAR), \
                        CAST(c.COLUMN_DEFAULT AS CHAR) \
                 FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
                   ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
                 WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
                 ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, sql_type, nullable, default) in columns {
        gather.column(&table, name, sql_type, nullable == "YES", default);
    }
    let keys: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), \
                        CAST(k.COLUMN_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
                        CAST(k.REFERENCED_COLUMN_NAME AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
                  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
                 WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                 ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, column, target, referenced, rule) in keys {
        let Some(table) = gather.existing(&table) else {
            continue;
        };
        match table.foreign_keys.last_mut() {
            Some(key) if key.name == name => {
                key.columns.push(column);
                key.references_columns.push(referenced);
            }
            _ => table.foreign_keys.push(
                ForeignKey::new([column], target, [referenced])
                    .on_delete(OnDelete::parse(&rule).unwrap_or(OnDelete::NoAction))
                    .named(name),
            ),
        }
    }
    let indexes: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), \
                        CAST(NON_UNIQUE AS SIGNED), CAST(COLUMN_NAME AS CHAR) \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, non_unique, column) in indexes {
        let Some(found) = gather.existing(&table) else {
            continue;
        };
        if name == "PRIMARY" {
            found.primary_key.extend(column);
        } else if !found.foreign_keys.iter().any(|key| key.name == name) {
            // (An index named after a foreign key is the one MySQL made for it.)
            gather.index_column(&table, name, non_unique == 0, column);
        }
    }
    Ok(gather.finish())
}
