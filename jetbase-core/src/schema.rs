//! Schema auto-generation, the pure part: models and database schemas as data ([`Table`]), the
//! changes between them ([`diff`]) and the SQL that makes them ([`render`], [`generate`]).
//! Reading the live database is the `jetbase` crate's; reading `#[derive(Model)]` structs is
//! [`table_from_struct`] (feature `models`).
//!
//! ```
//! use jetbase_core::Dialect;
//! use jetbase_core::schema::{Column, Schema, SqlType, Table, generate};
//!
//! let models = Schema::new(vec![Table::new("users")
//!     .column(Column::new("id", SqlType::BigInt))
//!     .column(Column::new("email", SqlType::Varchar(200)))
//!     .primary_key(["id"])
//!     .index(["email"], true)]);
//! let generated = generate(&models, &Schema::default(), Dialect::Postgres)?;
//! assert_eq!(generated.upgrade[1], r#"CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email")"#);
//! assert_eq!(generated.rollback, [r#"-- DATA LOSS: drops table users and its rows
//! DROP TABLE "users""#]);
//! # Ok::<(), jetbase_core::schema::SchemaError>(())
//! ```

#[cfg(feature = "models")]
mod attributes;
mod ddl_rules;
mod default;
mod diagram;
mod diff;
mod render;
mod sql_type;
mod table;

#[cfg(feature = "models")]
pub use attributes::table_from_struct;
pub use default::canonical_default;
pub use diagram::{dot, mermaid};
pub use diff::{Change, diff, same_column};
pub use render::{REBUILD_PREFIX, render};
pub use sql_type::{SqlType, canonical_type, is_narrowing};
pub use table::{Column, ForeignKey, Index, OnDelete, Schema, Table, generated_name};

use crate::Dialect;

/// Why models cannot be turned into SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Two models name the same table.
    #[error(
        "two models are table `{table}`; give one another name with #[jetbase(table = \"...\")]"
    )]
    DuplicateTable {
        /// The table.
        table: String,
    },
    /// A table has two columns of one name.
    #[error(
        "table `{table}` has two columns `{column}`; rename one with #[jetbase(column = \"...\")]"
    )]
    DuplicateColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A key or index names a column the table does not have.
    #[error("{what} of table `{table}` names column `{column}`, which the table does not have")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The index, primary key or foreign key.
        what: String,
    },
    /// A foreign key references a table or column no model has.
    #[error(
        "`{table}`.`{column}` references `{target}`, which no model defines; add a model for it \
         or fix references = \"table.column\""
    )]
    UnknownReference {
        /// The table.
        table: String,
        /// The referencing column.
        column: String,
        /// `table.column` referenced.
        target: String,
    },
    /// MySQL cannot index TEXT or BLOB columns without a length.
    #[error(
        "`{table}`.`{column}` is a key or index column of type {sql_type}, which MySQL cannot index; \
         give the field max_length = N (a VARCHAR) or an sql_type"
    )]
    MySqlTextKey {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its type.
        sql_type: String,
    },
    /// A model's table, column, index or key name holds a control character (a newline, an
    /// escape, a NUL): written into the migration it could end a comment early and put SQL of
    /// its own in the file.
    #[error(
        "the model name {name:?} holds a control character; name tables, columns, indexes and \
         keys with printable characters only"
    )]
    ControlCharacterInName {
        /// The name, as the model gives it.
        name: String,
    },
    /// SQLite would have to rebuild a table whose dropping fires another table's `ON DELETE`.
    #[error(
        "SQLite cannot make this change to `{table}` without rebuilding it, and dropping the old \
         table would fire ON DELETE {on_delete} of `{child}`'s foreign key; write this migration \
         by hand (with PRAGMA foreign_keys=OFF outside a transaction, `-- jetbase: no-transaction`)"
    )]
    UnsafeSqliteRebuild {
        /// The table to rebuild.
        table: String,
        /// The table referencing it.
        child: String,
        /// The action.
        on_delete: &'static str,
    },
}

/// A generated migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// What changes, in the order found.
    pub changes: Vec<Change>,
    /// The upgrade statements, without `;`.
    pub upgrade: Vec<String>,
    /// The rollback statements: they bring the database back to `actual`.
    pub rollback: Vec<String>,
    /// What in the upgrade can lose data (drops, narrowing type changes).
    pub data_loss: Vec<String>,
}

impl Generated {
    /// Whether the models and the database already agree.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The migration file's text: a comment listing the changes, the upgrade section and the
    /// rollback section, each statement ended by `;`.
    ///
    /// ```
    /// use jetbase_core::{Dialect, parse_migration};
    /// use jetbase_core::schema::{Column, Schema, SqlType, Table, generate};
    ///
    /// let models = Schema::new(vec![Table::new("t").column(Column::new("id", SqlType::Integer))]);
    /// let body = generate(&models, &Schema::default(), Dialect::Sqlite)?.file_body();
    /// assert!(body.starts_with("-- Generated by jetbase make-migrations.\n--   + table t\n-- upgrade\n"));
    /// let migration = parse_migration("V1__t.sql", body.as_bytes()).expect("a valid file");
    /// assert_eq!(migration.upgrade_statements(Dialect::Sqlite)?.len(), 1);
    /// assert_eq!(migration.rollback_statements(Dialect::Sqlite)?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_body(&self) -> String {
        let mut body = String::from("-- Generated by jetbase make-migrations.\n");
        for change in &self.changes {
            body.push_str(&format!("--   {}\n", comment_text(&change.to_string())));
        }
        let section = |body: &mut String, marker: &str, statements: &[String]| {
            body.push_str(marker);
            for statement in statements {
                body.push_str(statement);
                body.push_str(";\n");
            }
        };
        section(&mut body, "-- upgrade\n", &self.upgrade);
        section(&mut body, "-- rollback\n", &self.rollback);
        body
    }
}

/// `text` made safe to follow `-- ` in SQL: control characters (a newline would end the comment
/// and start SQL) written as escapes, `\n` for a newline.
pub(crate) fn comment_text(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            safe.extend(c.escape_default());
        } else {
            safe.push(c);
        }
    }
    safe
}

/// Checks `models`, then finds the changes from `actual` to `models` and renders them, with the
/// rollback that returns to `actual`.
///
/// # Errors
///
/// A [`SchemaError`] for inconsistent models (duplicates, unknown columns or references, keys
/// MySQL cannot index) or a change SQLite cannot make safely.
pub fn generate(
    models: &Schema,
    actual: &Schema,
    dialect: Dialect,
) -> Result<Generated, SchemaError> {
    validate(models, dialect)?;
    let changes = diff(models, actual, dialect);
    let upgrade = render(&changes, models, actual, dialect)?;
    let rollback = render(&diff(actual, models, dialect), actual, models, dialect)?;
    let data_loss = changes
        .iter()
        .filter_map(|change| change.data_loss(dialect))
        .collect();
    Ok(Generated {
        changes,
        upgrade,
        rollback,
        data_loss,
    })
}

/// Checks that the models are consistent with each other.
///
/// # Errors
///
/// The first [`SchemaError`] found.
pub fn validate(models: &Schema, dialect: Dialect) -> Result<(), SchemaError> {
    for table in &models.tables {
        let names = std::iter::once(&table.name)
            .chain(table.columns.iter().map(|column| &column.name))
            .chain(table.indexes.iter().map(|index| &index.name))
            .chain(table.foreign_keys.iter().map(|key| &key.name));
        if let Some(name) = names
            .into_iter()
            .find(|name| name.chars().any(char::is_control))
        {
            return Err(SchemaError::ControlCharacterInName { name: name.clone() });
        }
    }
    if let Some(table) = first_repeat(models.tables.iter().map(|table| table.name.as_str())) {
        return Err(SchemaError::DuplicateTable {
            table: table.to_owned(),
        });
    }
    for table in &models.tables {
        if let Some(column) = first_repeat(table.columns.iter().map(|column| column.name.as_str()))
        {
            return Err(SchemaError::DuplicateColumn {
                table: table.name.clone(),
                column: column.to_owned(),
            });
        }
        let mut keyed: Vec<(&String, String)> = table
            .primary_key
            .iter()
            .map(|column| (column, "the primary key".to_owned()))
            .collect();
        for index in &table.indexes {
            keyed.extend(
                index
                    .columns
                    .iter()
                    .map(|c| (c, format!("index `{}`", index.name))),
            );
        }
        for key in &table.foreign_keys {
            keyed.extend(
                key.columns
                    .iter()
                    .map(|c| (c, format!("foreign key `{}`", key.name))),
            );
        }
        for (column, what) in keyed {
            let Some(found) = table.find_column(column) else {
                return Err(SchemaError::UnknownColumn {
                    table: table.name.clone(),
                    column: column.clone(),
                    what,
                });
            };
            let sql_type = canonical_type(dialect, &found.sql_type.render(dialect));
            if !ddl_rules::DdlRules::of(dialect).text_in_keys
                && (sql_type.contains("text") || sql_type.contains("blob"))
            {
                return Err(SchemaError::MySqlTextKey {
                    table: table.name.clone(),
                    column: column.clone(),
                    sql_type,
                });
            }
        }
        for key in &table.foreign_keys {
            let target = models.table(&key.references_table);
            let known = target.is_some_and(|target| {
                key.references_columns
                    .iter()
                    .all(|column| target.find_column(column).is_some())
            });
            if !known {
                return Err(SchemaError::UnknownReference {
                    table: table.name.clone(),
                    column: key.columns.join(", "),
                    target: format!(
                        "{}.{}",
                        key.references_table,
                        key.references_columns.join(", ")
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The first name that comes twice.
fn first_repeat<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    names.into_iter().find(|name| !seen.insert(*name))
}
