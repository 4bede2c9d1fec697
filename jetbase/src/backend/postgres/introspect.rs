//! PostgreSQL's catalogs: `pg_class`, `pg_attribute`, `pg_index`, `pg_constraint`; four queries
//! for the whole schema, whatever its size.

use super::{Connection, sqlx, text};
use crate::backend::gather::Gather;
use jetbase_core::schema::ForeignKey;
use jetbase_core::schema::{Index, OnDelete, Schema};

/// A foreign key: table, name, referenced table, `confdeltype`, columns, referenced columns.
type KeyRow = (String, String, String, String, Vec<String>, Vec<String>);

const IN_SCHEMA: &str = "n.nspname = COALESCE($1, current_schema()) AND t.relkind IN ('r', 'p')";

/// Column names of `$keys` (an attnum array) of relation `$relation`, in order.
fn names(keys: &str, relation: &str) -> String {
    format!(
        "ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum ORDER BY k.ord)"
    )
}

/// Reads the schema's tables, columns, indexes and foreign keys. The queries are prepared
/// unnamed (nothing left on the server session), and `read_schema`'s callers run them in one
/// transaction: behind a transaction pooler they stay on one server session.
pub(super) async fn read_schema(
    connection: &mut Connection,
    postgres_schema: Option<&str>,
) -> Result<Schema, sqlx::Error> {
    let mut gather = Gather::default();
    let columns: Vec<(String, String, String, bool, Option<String>)> =
        sqlx::query_as(text(&format!(
            "SELECT t.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                        a.attnotnull, pg_get_expr(d.adbin, d.adrelid) \
                 FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE {IN_SCHEMA} AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY t.relname, a.attnum"
        )))
        .bind(postgres_schema)
        .persistent(false)
        .fetch_all(&mut *connection)
        .await?;
    for (table, name, sql_type, not_null, default) in columns {
        gather.column(&table, name, sql_type, !not_null, default);
    }
    let indexes: Vec<(String, String, bool, bool, Vec<String>)> = sqlx::query_as(text(&format!(
        "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary, {} \
                 FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
                 JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE {IN_SCHEMA} AND x.indpred IS NULL AND x.indexprs IS NULL \
                 ORDER BY t.relname, i.relname",
        names("x.indkey::int2[]", "x.indrelid")
    )))
    .bind(postgres_schema)
    .persistent(false)
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, unique, primary, columns) in indexes {
        let Some(table) = gather.existing(&table) else {
            continue;
        };
        if primary {
            table.primary_key = columns;
        } else {
            table.indexes.push(Index {
                name,
                columns,
                unique,
            });
        }
    }
    let keys: Vec<KeyRow> = sqlx::query_as(text(&format!(
        "SELECT t.relname::text, c.conname::text, r.relname::text, c.confdeltype::text, \
                            {}, {} \
                     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                     JOIN pg_class r ON r.oid = c.confrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE c.contype = 'f' AND {IN_SCHEMA} ORDER BY t.relname, c.conname",
        names("c.conkey", "c.conrelid"),
        names("c.confkey", "c.confrelid")
    )))
    .bind(postgres_schema)
    .persistent(false)
    .fetch_all(&mut *connection)
    .await?;
    for (table, name, target, action, columns, references) in keys {
        let Some(table) = gather.existing(&table) else {
            continue;
        };
        let on_delete = match action.as_str() {
            "r" => OnDelete::Restrict,
            "c" => OnDelete::Cascade,
            "n" => OnDelete::SetNull,
            "d" => OnDelete::SetDefault,
            _ => OnDelete::NoAction,
        };
        table.foreign_keys.push(
            ForeignKey::new(columns, target, references)
                .on_delete(on_delete)
                .named(name),
        );
    }
    Ok(gather.finish())
}
