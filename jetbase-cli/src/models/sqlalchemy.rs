//! SQLAlchemy declarative models (a Python Jetbase project's): read by the project's own Python,
//! running `sqlalchemy_models.py`, which this command carries. That script imports the model
//! modules and prints their tables as JSON, each column's type compiled for the target database
//! by SQLAlchemy itself; here they become jetbase's [`Table`]s, so that the diff, the rendering
//! and the round trip are the ones Rust models get.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use jetbase::Dialect;
use jetbase::schema::{Column, ForeignKey, OnDelete, SqlType, Table};
use serde::Deserialize;

use crate::error::CliError;

/// The script, given to Python on its standard input.
const SCRIPT: &str = include_str!("sqlalchemy_models.py");

/// How many lines of a failed import's traceback are shown.
const TRACEBACK_LINES: usize = 8;

/// What the script prints.
#[derive(Debug, Deserialize)]
struct Printed {
    sqlalchemy: String,
    tables: Vec<PrintedTable>,
}

#[derive(Debug, Deserialize)]
struct PrintedTable {
    name: String,
    columns: Vec<PrintedColumn>,
    primary_key: Vec<String>,
    indexes: Vec<PrintedIndex>,
    foreign_keys: Vec<PrintedForeignKey>,
}

#[derive(Debug, Deserialize)]
struct PrintedColumn {
    name: String,
    #[serde(rename = "type")]
    sql_type: String,
    nullable: bool,
    default: Option<String>,
    autoincrement: bool,
}

#[derive(Debug, Deserialize)]
struct PrintedIndex {
    name: Option<String>,
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, Deserialize)]
struct PrintedForeignKey {
    name: Option<String>,
    columns: Vec<String>,
    references_table: String,
    references_columns: Vec<String>,
    on_delete: Option<String>,
}

/// The tables of the SQLAlchemy models in `files`, as `python` reads them for `dialect`, and
/// the SQLAlchemy version that read them.
///
/// # Errors
///
/// A usage error (exit 2) when the database is not one SQLAlchemy models can target here, when
/// `python` cannot be started, or SQLAlchemy is not installed for it; a run error (exit 1) when
/// a model module fails to import (the last lines of its traceback), a column's type has no
/// spelling for the database, or the script's output cannot be read.
pub fn read(
    python: &str,
    root: &Path,
    files: &[PathBuf],
    dialect: Dialect,
) -> Result<(Vec<Table>, String), CliError> {
    let dialect_name = match dialect {
        Dialect::Postgres => "postgresql",
        Dialect::MySql => "mysql",
        Dialect::Sqlite => "sqlite",
        other @ (Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks) => {
            return Err(CliError::usage(format!(
                "make-migrations reads SQLAlchemy models for PostgreSQL, MySQL/MariaDB and \
                 SQLite, not {other}"
            )));
        }
    };
    let mut child = Command::new(python)
        .arg("-")
        .arg(dialect_name)
        .arg(root)
        .args(files)
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            CliError::usage(format!(
                "cannot run `{python}`, which make-migrations needs to read SQLAlchemy models; \
                 set `python` in jetbase/jetbase.toml or JETBASE_PYTHON to the project's \
                 interpreter (a virtualenv's bin/python)"
            ))
            .caused_by(error)
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(SCRIPT.as_bytes()).map_err(|error| {
            CliError::run(format!("cannot talk to `{python}`")).caused_by(error)
        })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|error| CliError::run(format!("`{python}` failed")).caused_by(error))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(3) => {
            return Err(CliError::usage(format!(
                "SQLAlchemy is not installed for `{python}`: install it there (`pip install \
                 sqlalchemy`), or set `python` / JETBASE_PYTHON to the interpreter that has it"
            ))
            .caused_by(stderr.trim()));
        }
        Some(4) => {
            let lines: Vec<&str> = stderr.lines().collect();
            let last = &lines[lines.len().saturating_sub(TRACEBACK_LINES)..];
            let first = lines
                .first()
                .copied()
                .unwrap_or("a model module failed to import");
            return Err(CliError::run(format!(
                "{}; correct it and run make-migrations again",
                first.trim_end_matches(':')
            ))
            .caused_by(last.join("\n")));
        }
        Some(5) => {
            return Err(CliError::run(format!(
                "a model's column has no type on {dialect}: {}",
                stderr.trim()
            )));
        }
        _ => {
            return Err(CliError::run(format!(
                "reading the SQLAlchemy models with `{python}` failed ({})",
                output.status
            ))
            .caused_by(stderr.trim()));
        }
    }
    let printed: Printed = serde_json::from_slice(&output.stdout).map_err(|error| {
        CliError::run(format!(
            "`{python}` printed something other than the models' tables"
        ))
        .caused_by(error)
    })?;
    let tables = printed
        .tables
        .into_iter()
        .map(|table| to_table(table, dialect))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((tables, printed.sqlalchemy))
}

/// A printed table as jetbase's: unnamed indexes, unique constraints and foreign keys get
/// jetbase's generated names (`ix_`, `uq_`, `fk_`), the autoincrement column its database's
/// identity.
fn to_table(printed: PrintedTable, dialect: Dialect) -> Result<Table, CliError> {
    let mut table = Table::new(printed.name);
    for column in printed.columns {
        let mut sql_type = column.sql_type;
        if column.autoincrement {
            sql_type = with_identity(&sql_type, dialect);
        }
        let mut built = Column::new(column.name, SqlType::Raw(sql_type)).nullable(column.nullable);
        if let Some(default) = column.default {
            built = built.default(default);
        }
        table = table.column(built);
    }
    table = table.primary_key(printed.primary_key);
    for index in printed.indexes {
        let columns = index.columns.clone();
        table = table.index(columns, index.unique);
        if let (Some(name), Some(added)) = (index.name, table.indexes.last_mut()) {
            added.name = name;
        }
    }
    for key in printed.foreign_keys {
        let on_delete = match key.on_delete.as_deref() {
            None => OnDelete::NoAction,
            Some(text) => OnDelete::parse(text).ok_or_else(|| {
                CliError::run(format!(
                    "table {}: ondelete={text:?} is not an action jetbase knows (CASCADE, SET \
                     NULL, SET DEFAULT, RESTRICT, NO ACTION)",
                    table.name
                ))
            })?,
        };
        let mut built = ForeignKey::new(key.columns, key.references_table, key.references_columns)
            .on_delete(on_delete);
        if let Some(name) = key.name {
            built = built.named(name);
        }
        table = table.foreign_key(built);
    }
    Ok(table)
}

/// The type of an autoincrement column as the database makes one: PostgreSQL's identity,
/// MySQL's `AUTO_INCREMENT`; SQLite's `INTEGER PRIMARY KEY` is one already.
fn with_identity(sql_type: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => format!("{sql_type} GENERATED BY DEFAULT AS IDENTITY"),
        Dialect::MySql => format!("{sql_type} AUTO_INCREMENT"),
        Dialect::Sqlite | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
            sql_type.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_tables_become_jetbase_tables() {
        let printed: Printed = serde_json::from_str(
            r#"{"sqlalchemy": "2.0.0", "tables": [{"name": "posts",
                "columns": [
                  {"name": "id", "type": "INTEGER", "nullable": false, "default": null, "autoincrement": true},
                  {"name": "title", "type": "VARCHAR(255)", "nullable": true, "default": "'x'", "autoincrement": false},
                  {"name": "user_id", "type": "INTEGER", "nullable": false, "default": null, "autoincrement": false}],
                "primary_key": ["id"],
                "indexes": [{"name": null, "columns": ["title"], "unique": true},
                            {"name": "ix_custom", "columns": ["user_id", "title"], "unique": false}],
                "foreign_keys": [{"name": null, "columns": ["user_id"], "references_table": "users",
                                  "references_columns": ["id"], "on_delete": "CASCADE"}]}]}"#,
        )
        .unwrap();
        let table = to_table(
            printed.tables.into_iter().next().unwrap(),
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            table.columns[0].sql_type,
            SqlType::Raw("INTEGER GENERATED BY DEFAULT AS IDENTITY".to_owned())
        );
        assert_eq!(table.columns[1].default.as_deref(), Some("'x'"));
        assert!(table.columns[1].nullable);
        assert_eq!(table.primary_key, ["id"]);
        let names: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["uq_posts_title", "ix_custom"]);
        assert_eq!(table.foreign_keys[0].name, "fk_posts_user_id");
        assert_eq!(table.foreign_keys[0].on_delete, OnDelete::Cascade);
        assert_eq!(
            with_identity("BIGINT", Dialect::MySql),
            "BIGINT AUTO_INCREMENT"
        );
        assert_eq!(with_identity("INTEGER", Dialect::Sqlite), "INTEGER");
    }
}
