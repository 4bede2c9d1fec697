//! `jetbase drift` (the live schema against the one its applied migrations make) and `jetbase
//! schema` (the live schema as text, JSON, Mermaid or Graphviz).

use std::path::Path;

use jetbase::schema::{Schema, Table, dot, introspect_in, mermaid};
use jetbase::{Dialect, ScratchDatabase};
use serde_json::{Value, json};

use super::Context;
use crate::cli::{DriftArgs, SchemaArgs, SchemaFormat};
use crate::database::Access;
use crate::error::CliError;
use crate::output;

pub async fn run(context: &Context, args: &DriftArgs) -> Result<(), CliError> {
    let migrator = context.migrator()?;
    let pool = context.connect(Access::ReadOnly).await?;
    // (Where a SQLite scratch file goes; deleted when dropped.)
    let scratch_dir = tempfile::tempdir()
        .map_err(|error| CliError::run("cannot create a temporary directory").caused_by(error))?;
    let scratch = match &args.scratch_url {
        Some(url) => {
            crate::error::hide_password_of(url);
            ScratchDatabase::create(url).await?
        }
        None => default_scratch(&pool, context, scratch_dir.path()).await?,
    };
    // Ctrl-C stops the rebuild; the scratch database is dropped either way.
    let drift = crate::interrupt::until_interrupted(async {
        Ok(migrator.drift(&pool, scratch.pool()).await?)
    })
    .await;
    let dropped = scratch.drop_database().await;
    pool.close().await;
    // A scratch database left behind is what the user must act on: said first.
    dropped.map_err(|error| {
        CliError::from(error)
            .explained("the scratch database could not be dropped: drop it by hand")
    })?;
    let drift = drift?;
    if context.json {
        let entries: Vec<Value> = drift
            .iter()
            .map(|difference| {
                json!({
                    "object": difference.object,
                    "kind": difference.kind.as_str(),
                    "live": difference.live,
                    "expected": difference.expected,
                })
            })
            .collect();
        output::print_json(&json!({ "drift": entries }))?;
    } else if drift.is_empty() {
        crate::output::outln!("No drift: the live schema is the one the applied migrations make.");
    } else {
        for difference in &drift {
            crate::output::outln!("{}", crate::output::printable(&difference.to_string()));
        }
    }
    if drift.is_empty() {
        return Ok(());
    }
    Err(CliError::run(format!(
        "drift: {} difference{} between the live schema and its migrations",
        drift.len(),
        crate::output::plural(drift.len())
    )))
}

/// The scratch database when none is given: PostgreSQL, a database beside the live one; SQLite,
/// a file in `directory`; MySQL/MariaDB: refused (exit 2).
async fn default_scratch(
    pool: &jetbase::AnyPool,
    context: &Context,
    directory: &Path,
) -> Result<ScratchDatabase, CliError> {
    match pool.dialect() {
        Dialect::Sqlite => {
            let url = format!("sqlite://{}?mode=rwc", directory.join("drift.db").display());
            Ok(ScratchDatabase::create(&url).await?)
        }
        Dialect::Postgres => {
            let Some((url, _)) = &context.settings.database_url else {
                return Err(CliError::usage("no database URL"));
            };
            let name = format!(
                "jetbase_drift_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp()
            );
            ScratchDatabase::beside(url, &name).await.map_err(|error| {
                CliError::from(error).explained(format!(
                    "drift builds the migrations' schema in a scratch database and could not \
                     create `{name}` beside the live one: run it as a user with CREATEDB, or \
                     give --scratch-url naming a database jetbase may create and drop (on any \
                     server)"
                ))
            })
        }
        Dialect::MySql => Err(CliError::usage(
            "drift on MySQL/MariaDB needs --scratch-url: a database that does not exist yet, on \
             a server where you may create one (jetbase creates it, applies the migrations and \
             drops it)",
        )),
        other @ (Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks) => {
            Err(CliError::usage(format!(
                "{other} has no schema introspection in jetbase, so its drift cannot be read"
            )))
        }
    }
}

/// `jetbase schema`: the live schema, read only.
pub async fn schema(context: &Context, args: &SchemaArgs) -> Result<(), CliError> {
    let pool = context.connect(Access::ReadOnly).await?;
    let dialect = pool.dialect();
    let read = introspect_in(&pool, context.settings.postgres_schema.as_deref()).await;
    pool.close().await;
    let mut schema = read?;
    // The history and lock tables are jetbase's, whatever they are called.
    let own = context.database_only();
    let (history, lock) = own.table_names();
    schema
        .tables
        .retain(|table| table.name != history && table.name != lock);
    let format = if context.json {
        SchemaFormat::Json
    } else {
        args.format
    };
    match format {
        SchemaFormat::Json => output::print_json(&schema_json(&schema, dialect))?,
        // Names come from the live database: printed with their control characters escaped.
        SchemaFormat::Mermaid => {
            crate::output::out!(
                "{}",
                crate::output::printable_lines(&mermaid(&schema, dialect))
            );
        }
        SchemaFormat::Dot => {
            crate::output::out!("{}", crate::output::printable_lines(&dot(&schema, dialect)));
        }
        SchemaFormat::Text => {
            crate::output::out!(
                "{}",
                crate::output::printable_lines(&schema_text(&schema, dialect))
            );
        }
    }
    Ok(())
}

/// The schema as data: tables with columns (name, type, nullable, default), primary key,
/// indexes and foreign keys.
fn schema_json(schema: &Schema, dialect: Dialect) -> Value {
    let tables: Vec<Value> = schema
        .tables
        .iter()
        .map(|table| {
            json!({
                "name": table.name,
                "columns": table.columns.iter().map(|column| json!({
                    "name": column.name,
                    "type": column.sql_type.render(dialect),
                    "nullable": column.nullable,
                    "default": column.default,
                })).collect::<Vec<_>>(),
                "primary_key": table.primary_key,
                "indexes": table.indexes.iter().map(|index| json!({
                    "name": index.name,
                    "columns": index.columns,
                    "unique": index.unique,
                })).collect::<Vec<_>>(),
                "foreign_keys": table.foreign_keys.iter().map(|key| json!({
                    "name": key.name,
                    "columns": key.columns,
                    "references_table": key.references_table,
                    "references_columns": key.references_columns,
                    "on_delete": key.on_delete.as_sql(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "tables": tables })
}

/// The schema for people: a block per table.
fn schema_text(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::new();
    for (n, table) in schema.tables.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        table_text(table, dialect, &mut out);
    }
    if schema.tables.is_empty() {
        out.push_str("No tables.\n");
    }
    out
}

fn table_text(table: &Table, dialect: Dialect, out: &mut String) {
    use std::fmt::Write as _;
    // Names come from the live database: each escaped, so that none fakes a line.
    let _ = writeln!(out, "{}", crate::output::printable(&table.name));
    let name_width = table
        .columns
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let types: Vec<String> = table
        .columns
        .iter()
        .map(|column| column.sql_type.render(dialect))
        .collect();
    let type_width = types.iter().map(String::len).max().unwrap_or(0);
    for (column, sql_type) in table.columns.iter().zip(&types) {
        let mut notes = Vec::new();
        if !column.nullable {
            notes.push("NOT NULL".to_owned());
        }
        if let Some(default) = &column.default {
            notes.push(format!("DEFAULT {default}"));
        }
        if table.primary_key.iter().any(|c| c == &column.name) {
            notes.push("PK".to_owned());
        }
        let line = format!(
            "  {:name_width$}  {:type_width$}  {}",
            crate::output::printable(&column.name),
            sql_type,
            crate::output::printable(&notes.join(" "))
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for index in &table.indexes {
        let _ = writeln!(
            out,
            "  {}index {} ({})",
            if index.unique { "unique " } else { "" },
            crate::output::printable(&index.name),
            crate::output::printable(&index.columns.join(", "))
        );
    }
    for key in &table.foreign_keys {
        let _ = writeln!(
            out,
            "  foreign key {} ({}) -> {} ({}) ON DELETE {}",
            crate::output::printable(&key.name),
            crate::output::printable(&key.columns.join(", ")),
            crate::output::printable(&key.references_table),
            crate::output::printable(&key.references_columns.join(", ")),
            key.on_delete.as_sql()
        );
    }
}
