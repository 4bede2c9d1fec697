//! Desired schema vs actual schema -> the list of changes between them. Pure: rendering the
//! changes as SQL is `render`'s job.

use std::fmt;

use crate::Dialect;

use super::ddl_rules::DdlRules;

use super::{
    Column, ForeignKey, Index, OnDelete, Schema, SqlType, Table, canonical_default, canonical_type,
};

/// One difference between the models and the database, as a change to make to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A table to create.
    CreateTable(Table),
    /// A table to drop, as it is now.
    DropTable(Table),
    /// A column to add.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// A column to drop, as it is now.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// A column whose type, nullability or default changes.
    AlterColumn {
        /// The table.
        table: String,
        /// The column now.
        from: Column,
        /// The column wanted.
        to: Column,
    },
    /// The primary key changes (`from` or `to` may be empty).
    SetPrimaryKey {
        /// The table.
        table: String,
        /// The key's columns now.
        from: Vec<String>,
        /// The key's columns wanted.
        to: Vec<String>,
    },
    /// An index or unique constraint to create.
    AddIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// An index or unique constraint to drop.
    DropIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// A foreign key to add.
    AddForeignKey {
        /// The table.
        table: String,
        /// The key.
        key: ForeignKey,
    },
    /// A foreign key to drop.
    DropForeignKey {
        /// The table.
        table: String,
        /// The key.
        key: ForeignKey,
    },
}

impl Change {
    /// The table it changes.
    pub fn table(&self) -> &str {
        match self {
            Self::CreateTable(table) | Self::DropTable(table) => &table.name,
            Self::AddColumn { table, .. }
            | Self::DropColumn { table, .. }
            | Self::AlterColumn { table, .. }
            | Self::SetPrimaryKey { table, .. }
            | Self::AddIndex { table, .. }
            | Self::DropIndex { table, .. }
            | Self::AddForeignKey { table, .. }
            | Self::DropForeignKey { table, .. } => table,
        }
    }

    /// Why it can lose data, when it can: drops, and type changes that narrow or convert.
    pub fn data_loss(&self, dialect: Dialect) -> Option<String> {
        match self {
            Self::DropTable(table) => Some(format!("drops table {} and its rows", table.name)),
            Self::DropColumn { table, column } => Some(format!(
                "drops column {table}.{} and its values",
                column.name
            )),
            Self::AlterColumn { table, from, to } => {
                let old = canonical_type(dialect, &from.sql_type.render(dialect));
                let new = canonical_type(dialect, &to.sql_type.render(dialect));
                (old != new && super::is_narrowing(&old, &new)).then(|| {
                    format!(
                        "changes {table}.{} from {old} to {new}, which can fail or lose data",
                        from.name
                    )
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = |columns: &[String]| columns.join(", ");
        match self {
            Self::CreateTable(table) => write!(f, "+ table {}", table.name),
            Self::DropTable(table) => write!(f, "- table {}", table.name),
            Self::AddColumn { table, column } => {
                write!(f, "+ column {table}.{} {}", column.name, column.sql_type)
            }
            Self::DropColumn { table, column } => write!(f, "- column {table}.{}", column.name),
            Self::AlterColumn { table, from, to } => {
                write!(f, "~ column {table}.{}:", to.name)?;
                if from.sql_type != to.sql_type {
                    write!(f, " type {} -> {}", from.sql_type, to.sql_type)?;
                }
                if from.nullable != to.nullable {
                    let null = |nullable| if nullable { "NULL" } else { "NOT NULL" };
                    write!(f, " {} -> {}", null(from.nullable), null(to.nullable))?;
                }
                if from.default != to.default {
                    let default =
                        |d: &Option<String>| d.clone().unwrap_or_else(|| "no default".into());
                    write!(
                        f,
                        " default {} -> {}",
                        default(&from.default),
                        default(&to.default)
                    )?;
                }
                Ok(())
            }
            Self::SetPrimaryKey { table, from, to } => write!(
                f,
                "~ primary key of {table}: ({}) -> ({})",
                columns(from),
                columns(to)
            ),
            Self::AddIndex { table, index } => write!(
                f,
                "+ {} {} on {table} ({})",
                if index.unique { "unique" } else { "index" },
                index.name,
                columns(&index.columns)
            ),
            Self::DropIndex { table, index } => write!(
                f,
                "- {} {} on {table} ({})",
                if index.unique { "unique" } else { "index" },
                index.name,
                columns(&index.columns)
            ),
            Self::AddForeignKey { table, key } => write!(
                f,
                "+ foreign key {table} ({}) -> {} ({})",
                columns(&key.columns),
                key.references_table,
                columns(&key.references_columns)
            ),
            Self::DropForeignKey { table, key } => write!(
                f,
                "- foreign key {table} ({}) -> {} ({})",
                columns(&key.columns),
                key.references_table,
                columns(&key.references_columns)
            ),
        }
    }
}

/// The changes that turn `actual` into `desired`, in a stable order (tables, then within each
/// table: columns, key, indexes, foreign keys). Types and defaults are compared in their
/// canonical spellings, indexes by columns and uniqueness, foreign keys by what they reference
/// (not by name).
///
/// ```
/// use jetbase_core::Dialect;
/// use jetbase_core::schema::{Change, Column, Schema, SqlType, Table, diff};
///
/// let actual = Schema::new(vec![Table::new("users").column(Column::new("id", SqlType::Raw("int8".into())))]);
/// let desired = Schema::new(vec![Table::new("users")
///     .column(Column::new("id", SqlType::BigInt))
///     .column(Column::new("name", SqlType::Text).nullable(true))]);
/// let changes = diff(&desired, &actual, Dialect::Postgres);
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].to_string(), "+ column users.name text");
/// ```
pub fn diff(desired: &Schema, actual: &Schema, dialect: Dialect) -> Vec<Change> {
    let mut changes = Vec::new();
    for table in &desired.tables {
        match actual.table(&table.name) {
            None => changes.push(Change::CreateTable(table.clone())),
            Some(existing) => diff_table(table, existing, dialect, &mut changes),
        }
    }
    for table in &actual.tables {
        if desired.table(&table.name).is_none() {
            changes.push(Change::DropTable(table.clone()));
        }
    }
    changes
}

fn diff_table(desired: &Table, actual: &Table, dialect: Dialect, changes: &mut Vec<Change>) {
    let name = || desired.name.clone();
    for column in &desired.columns {
        // The wanted column in the database's spelling, and what does not change kept as it is,
        // so that a change describes itself in the database's terms.
        let mut wanted = column.clone();
        let Some(existing) = actual.find_column(&column.name) else {
            wanted.sql_type = SqlType::Raw(column.sql_type.render(dialect));
            changes.push(Change::AddColumn {
                table: name(),
                column: wanted,
            });
            continue;
        };
        let type_kept = same_type(&column.sql_type, &existing.sql_type, dialect);
        let default_kept = same_default(column, existing);
        if type_kept && default_kept && column.nullable == existing.nullable {
            continue;
        }
        wanted.sql_type = if type_kept {
            existing.sql_type.clone()
        } else {
            SqlType::Raw(column.sql_type.render(dialect))
        };
        if default_kept {
            wanted.default = existing.default.clone();
        }
        changes.push(Change::AlterColumn {
            table: name(),
            from: existing.clone(),
            to: wanted,
        });
    }
    for column in &actual.columns {
        if desired.find_column(&column.name).is_none() {
            changes.push(Change::DropColumn {
                table: name(),
                column: column.clone(),
            });
        }
    }
    if desired.primary_key != actual.primary_key {
        changes.push(Change::SetPrimaryKey {
            table: name(),
            from: actual.primary_key.clone(),
            to: desired.primary_key.clone(),
        });
    }
    let same_index = |a: &Index, b: &Index| a.columns == b.columns && a.unique == b.unique;
    for index in unmatched(&actual.indexes, &desired.indexes, same_index) {
        changes.push(Change::DropIndex {
            table: name(),
            index: index.clone(),
        });
    }
    for index in unmatched(&desired.indexes, &actual.indexes, same_index) {
        changes.push(Change::AddIndex {
            table: name(),
            index: index.clone(),
        });
    }
    let same_key = |a: &ForeignKey, b: &ForeignKey| same_key(a, b, dialect);
    for key in unmatched(&actual.foreign_keys, &desired.foreign_keys, same_key) {
        changes.push(Change::DropForeignKey {
            table: name(),
            key: key.clone(),
        });
    }
    for key in unmatched(&desired.foreign_keys, &actual.foreign_keys, same_key) {
        changes.push(Change::AddForeignKey {
            table: name(),
            key: key.clone(),
        });
    }
}

/// The items of `these` that `same` matches with none of `those`.
fn unmatched<'a, T>(
    these: &'a [T],
    those: &'a [T],
    same: impl Fn(&T, &T) -> bool + 'a,
) -> impl Iterator<Item = &'a T> + 'a {
    these
        .iter()
        .filter(move |item| !those.iter().any(|other| same(item, other)))
}

/// Whether two columns are the same once spelled canonically.
pub fn same_column(a: &Column, b: &Column, dialect: Dialect) -> bool {
    same_type(&a.sql_type, &b.sql_type, dialect) && a.nullable == b.nullable && same_default(a, b)
}

fn same_default(a: &Column, b: &Column) -> bool {
    a.default.as_deref().and_then(canonical_default)
        == b.default.as_deref().and_then(canonical_default)
}

fn same_type(a: &SqlType, b: &SqlType, dialect: Dialect) -> bool {
    canonical_type(dialect, &a.render(dialect)) == canonical_type(dialect, &b.render(dialect))
}

fn same_key(a: &ForeignKey, b: &ForeignKey, dialect: Dialect) -> bool {
    a.columns == b.columns
        && a.references_table == b.references_table
        && a.references_columns == b.references_columns
        && canonical_on_delete(a.on_delete, dialect) == canonical_on_delete(b.on_delete, dialect)
}

/// MySQL's InnoDB treats NO ACTION as RESTRICT, and reports RESTRICT for both.
fn canonical_on_delete(on_delete: OnDelete, dialect: Dialect) -> OnDelete {
    match on_delete {
        OnDelete::NoAction if DdlRules::of(dialect).no_action_is_restrict => OnDelete::Restrict,
        other => other,
    }
}

impl Schema {
    /// The schema with types, defaults and `ON DELETE` actions in their canonical spellings and
    /// tables, indexes and keys sorted by name: two schemas that `diff` finds no change between
    /// and that name their indexes and keys alike are equal in this form.
    pub fn canonical(&self, dialect: Dialect) -> Schema {
        let mut tables: Vec<Table> = self
            .tables
            .iter()
            .map(|table| {
                let mut table = table.clone();
                for column in &mut table.columns {
                    column.sql_type =
                        SqlType::Raw(canonical_type(dialect, &column.sql_type.render(dialect)));
                    column.default = column.default.as_deref().and_then(canonical_default);
                }
                table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
                for key in &mut table.foreign_keys {
                    key.on_delete = canonical_on_delete(key.on_delete, dialect);
                }
                table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
                table
            })
            .collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Schema::new(tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Table {
        Table::new("users")
            .column(Column::new("id", SqlType::BigInt))
            .column(Column::new("email", SqlType::Varchar(200)))
            .primary_key(["id"])
            .index(["email"], true)
    }

    #[test]
    fn equal_schemas_have_no_changes_whatever_the_spelling() {
        let actual = Table::new("users")
            .column(Column::new("id", SqlType::Raw("INT8".into())))
            .column(Column::new("email", SqlType::Raw("varchar(200)".into())))
            .primary_key(["id"]);
        let mut actual = actual;
        actual.indexes.push(Index {
            name: "users_email_key".into(),
            columns: vec!["email".into()],
            unique: true,
        });
        let changes = diff(
            &Schema::new(vec![users()]),
            &Schema::new(vec![actual]),
            Dialect::Postgres,
        );
        assert_eq!(changes, Vec::new());
    }

    #[test]
    fn every_kind_of_change_is_found() {
        let desired = Table::new("users")
            .column(Column::new("id", SqlType::BigInt))
            .column(
                Column::new("email", SqlType::Text)
                    .nullable(true)
                    .default("'x'"),
            )
            .column(Column::new("team_id", SqlType::BigInt))
            .primary_key(["id", "team_id"])
            .index(["team_id"], false)
            .foreign_key(ForeignKey::new(["team_id"], "teams", ["id"]));
        let actual = users().column(Column::new("age", SqlType::Integer));
        let teams = Table::new("teams").column(Column::new("id", SqlType::BigInt));
        let old = Table::new("old").column(Column::new("id", SqlType::BigInt));
        let changes = diff(
            &Schema::new(vec![teams.clone(), desired]),
            &Schema::new(vec![actual, old]),
            Dialect::Postgres,
        );
        let described: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            described,
            [
                "+ table teams",
                "~ column users.email: type character varying(200) -> text NOT NULL -> NULL default no default -> 'x'",
                "+ column users.team_id bigint",
                "- column users.age",
                "~ primary key of users: (id) -> (id, team_id)",
                "- unique uq_users_email on users (email)",
                "+ index ix_users_team_id on users (team_id)",
                "+ foreign key users (team_id) -> teams (id)",
                "- table old",
            ]
        );
        assert!(
            changes[1].data_loss(Dialect::Postgres).is_none(),
            "varchar -> text widens"
        );
        assert!(changes[3].data_loss(Dialect::Postgres).is_some());
        assert!(changes[8].data_loss(Dialect::Postgres).is_some());
    }

    #[test]
    fn a_change_speaks_the_database_spelling_and_names_only_what_changes() {
        let actual =
            Table::new("t").column(Column::new("n", SqlType::Raw("REAL".into())).default("0"));
        let desired = Table::new("t")
            .column(Column::new("n", SqlType::Double).default("1"))
            .column(Column::new("m", SqlType::Text).nullable(true));
        let changes = diff(
            &Schema::new(vec![desired]),
            &Schema::new(vec![actual]),
            Dialect::Sqlite,
        );
        let described: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            described,
            ["~ column t.n: default 0 -> 1", "+ column t.m TEXT"]
        );
    }

    #[test]
    fn mysql_no_action_is_restrict() {
        let key = |on_delete| {
            Table::new("a")
                .column(Column::new("b", SqlType::BigInt))
                .foreign_key(ForeignKey::new(["b"], "b", ["id"]).on_delete(on_delete))
        };
        let desired = Schema::new(vec![key(OnDelete::NoAction)]);
        let actual = Schema::new(vec![key(OnDelete::Restrict)]);
        assert!(diff(&desired, &actual, Dialect::MySql).is_empty());
        assert_eq!(diff(&desired, &actual, Dialect::Postgres).len(), 2);
    }
}
