//! SQLite's pragmas, as table-valued functions joined to `sqlite_master`: three queries for the
//! whole schema.

use super::{Connection, sqlx, text};
use crate::backend::gather::Gather;
use jetbase_core::schema::{ForeignKey, generated_name};
use jetbase_core::schema::{OnDelete, REBUILD_PREFIX, Schema};

/// A foreign key column: table, key id, referenced table, column, referenced column, action.
type KeyRow = (String, i64, String, String, Option<String>, String);

/// `m` is a user table (not one of SQLite's own).
const USER_TABLE: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

pub(super) async fn read_schema(
    connection: &mut Connection,
    _postgres_schema: Option<&str>,
) -> Result<Schema, sqlx::Error> {
    let mut gather = Gather::default();
    let columns: Vec<(String, String, String, bool, Option<String>, i64)> =
        sqlx::query_as(text(&format!(
            "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE {USER_TABLE} ORDER BY m.name, p.cid"
        )))
        .fetch_all(&mut *connection)
        .await?;
    let mut keys_of: Vec<(String, i64, String)> = Vec::new();
    for (table, name, sql_type, not_null, default, key) in columns {
        if table.starts_with(REBUILD_PREFIX) {
            continue;
        }
        if key > 0 {
            keys_of.push((table.clone(), key, name.clone()));
        }
        // A primary key column is never NULL (SQLite's INTEGER PRIMARY KEY cannot be).
        gather.column(&table, name, sql_type, !not_null && key == 0, default);
    }
    keys_of.sort();
    for (table, _, column) in keys_of {
        if let Some(table) = gather.existing(&table) {
            table.primary_key.push(column);
        }
    }
    let indexes: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(text(&format!(
        "SELECT m.name, l.name, l.\"unique\", i.name \
                 FROM sqlite_master m JOIN pragma_index_list(m.name) l \
                 JOIN pragma_index_info(l.name) i \
                 WHERE {USER_TABLE} AND l.origin <> 'pk' AND l.partial = 0 \
                 ORDER BY m.name, l.name, i.seqno"
    )))
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, unique, column) in indexes {
        gather.index_column(&table, name, unique, column);
    }
    let keys: Vec<KeyRow> = sqlx::query_as(text(&format!(
        "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_delete \
                     FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
                     WHERE {USER_TABLE} ORDER BY m.name, f.id, f.seq"
    )))
    .fetch_all(&mut *connection)
    .await?;
    gather_keys(&mut gather, keys);
    Ok(gather.finish())
}

/// SQLite keeps no constraint names: a key gets the name jetbase gives it (`fk_<table>_<cols>`);
/// a key without referenced columns references the primary key.
fn gather_keys(gather: &mut Gather, keys: Vec<KeyRow>) {
    let mut grouped: Vec<(String, i64, ForeignKey)> = Vec::new();
    for (table, id, target, from, to, action) in keys {
        match grouped.last_mut() {
            Some((last_table, last_id, key)) if *last_table == table && *last_id == id => {
                key.columns.push(from);
                key.references_columns.extend(to);
            }
            _ => {
                let on_delete = OnDelete::parse(&action).unwrap_or(OnDelete::NoAction);
                let key = ForeignKey::new([from], target, to).on_delete(on_delete);
                grouped.push((table, id, key));
            }
        }
    }
    for (table, _, mut key) in grouped {
        if key.references_columns.is_empty()
            && let Some(target) = gather.tables.get(&key.references_table)
        {
            key.references_columns = target.primary_key.clone();
        }
        if let Some(table) = gather.existing(&table) {
            key.name = generated_name("fk", &table.name, &key.columns);
            table.foreign_keys.push(key);
        }
    }
}
