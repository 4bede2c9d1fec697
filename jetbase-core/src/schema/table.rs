//! The schema as data: tables, columns, indexes and foreign keys. Built by the `Model` derive
//! (the models' side), by introspection (the database's side), or by hand.

use super::SqlType;

/// A database schema: the tables, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// The tables.
    pub tables: Vec<Table>,
}

impl Schema {
    /// A schema of these tables.
    pub fn new(tables: Vec<Table>) -> Self {
        Self { tables }
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|table| table.name == name)
    }
}

/// One table.
///
/// ```
/// use jetbase_core::schema::{Column, ForeignKey, OnDelete, SqlType, Table};
///
/// let posts = Table::new("posts")
///     .column(Column::new("id", SqlType::BigInt))
///     .column(Column::new("user_id", SqlType::BigInt))
///     .column(Column::new("title", SqlType::Varchar(200)).nullable(true))
///     .primary_key(["id"])
///     .index(["user_id", "title"], false)
///     .foreign_key(ForeignKey::new(["user_id"], "users", ["id"]).on_delete(OnDelete::Cascade));
/// assert_eq!(posts.indexes[0].name, "ix_posts_user_id_title");
/// assert_eq!(posts.foreign_keys[0].name, "fk_posts_user_id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The primary key's columns (empty: none).
    pub primary_key: Vec<String>,
    /// Indexes and unique constraints (the primary key's index is not among them).
    pub indexes: Vec<Index>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
}

impl Table {
    /// A table without columns yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
        }
    }

    /// Adds a column.
    #[must_use]
    pub fn column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Sets the primary key; its columns become NOT NULL.
    #[must_use]
    pub fn primary_key<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.primary_key = columns.into_iter().map(Into::into).collect();
        for column in &mut self.columns {
            if self.primary_key.contains(&column.name) {
                column.nullable = false;
            }
        }
        self
    }

    /// Adds an index (`unique`: a unique constraint), named `ix_<table>_<columns>` or
    /// `uq_<table>_<columns>`.
    #[must_use]
    pub fn index<S: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = S>,
        unique: bool,
    ) -> Self {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        let prefix = if unique { "uq" } else { "ix" };
        let name = generated_name(prefix, &self.name, &columns);
        self.indexes.push(Index {
            name,
            columns,
            unique,
        });
        self
    }

    /// Adds a foreign key; one without a name is named `fk_<table>_<columns>`.
    #[must_use]
    pub fn foreign_key(mut self, mut key: ForeignKey) -> Self {
        if key.name.is_empty() {
            key.name = generated_name("fk", &self.name, &key.columns);
        }
        self.foreign_keys.push(key);
        self
    }

    /// The column called `name`.
    pub fn find_column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// The name jetbase gives an index (`ix`), unique constraint (`uq`) or foreign key (`fk`):
/// `<prefix>_<table>_<col>_<col>`, cut to 63 bytes (PostgreSQL's limit; MySQL's is 64).
pub fn generated_name(prefix: &str, table: &str, columns: &[String]) -> String {
    let mut name = format!("{prefix}_{table}_{}", columns.join("_"));
    if name.len() > 63 {
        let mut end = 63;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub sql_type: SqlType,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// Its default, an SQL expression (`0`, `'draft'`, `CURRENT_TIMESTAMP`).
    pub default: Option<String>,
}

impl Column {
    /// A NOT NULL column without a default.
    pub fn new(name: impl Into<String>, sql_type: SqlType) -> Self {
        Self {
            name: name.into(),
            sql_type,
            nullable: false,
            default: None,
        }
    }

    /// Whether it accepts NULL.
    #[must_use]
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// Its default, an SQL expression.
    #[must_use]
    pub fn default(mut self, expression: impl Into<String>) -> Self {
        self.default = Some(expression.into());
        self
    }
}

/// An index, or a unique constraint (`unique`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Its constraint name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references_table: String,
    /// The referenced columns.
    pub references_columns: Vec<String>,
    /// What deleting a referenced row does.
    pub on_delete: OnDelete,
}

impl ForeignKey {
    /// `columns` reference `table`'s `references`; named by [`Table::foreign_key`].
    pub fn new<S: Into<String>, R: Into<String>>(
        columns: impl IntoIterator<Item = S>,
        table: impl Into<String>,
        references: impl IntoIterator<Item = R>,
    ) -> Self {
        Self {
            name: String::new(),
            columns: columns.into_iter().map(Into::into).collect(),
            references_table: table.into(),
            references_columns: references.into_iter().map(Into::into).collect(),
            on_delete: OnDelete::NoAction,
        }
    }

    /// What deleting a referenced row does.
    #[must_use]
    pub fn on_delete(mut self, on_delete: OnDelete) -> Self {
        self.on_delete = on_delete;
        self
    }

    /// Its constraint name.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

/// What deleting a referenced row does to the rows referencing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnDelete {
    /// The default: the delete fails while references remain (checked at the statement's end).
    NoAction,
    /// The delete fails while references remain (checked at once).
    Restrict,
    /// The referencing rows are deleted too.
    Cascade,
    /// The referencing columns are set to NULL.
    SetNull,
    /// The referencing columns are set to their default.
    SetDefault,
}

impl OnDelete {
    /// Parses `cascade`, `set null`, `restrict`, `no action` or `set default` (any case, `_` for
    /// the space).
    pub fn parse(text: &str) -> Option<Self> {
        let words = text.trim().to_ascii_lowercase().replace('_', " ");
        match words
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str()
        {
            "no action" => Some(Self::NoAction),
            "restrict" => Some(Self::Restrict),
            "cascade" => Some(Self::Cascade),
            "set null" => Some(Self::SetNull),
            "set default" => Some(Self::SetDefault),
            _ => None,
        }
    }

    /// The SQL words.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::NoAction => "NO ACTION",
            Self::Restrict => "RESTRICT",
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
            Self::SetDefault => "SET DEFAULT",
        }
    }

    /// Whether deleting a referenced row changes or refuses rows elsewhere at once (anything but
    /// the deferrable NO ACTION).
    pub fn acts(self) -> bool {
        self != Self::NoAction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_generated_and_cut_to_63_bytes() {
        let long = "c".repeat(80);
        let table = Table::new("t").index([long.as_str()], true);
        assert_eq!(table.indexes[0].name.len(), 63);
        assert!(table.indexes[0].name.starts_with("uq_t_ccc"));
    }

    #[test]
    fn primary_key_columns_are_not_null() {
        let table = Table::new("t")
            .column(Column::new("id", SqlType::Integer).nullable(true))
            .primary_key(["id"]);
        assert!(!table.columns[0].nullable);
    }

    #[test]
    fn on_delete_parses_the_spellings() {
        assert_eq!(OnDelete::parse("SET_NULL"), Some(OnDelete::SetNull));
        assert_eq!(OnDelete::parse(" set  null "), Some(OnDelete::SetNull));
        assert_eq!(OnDelete::parse("cascade"), Some(OnDelete::Cascade));
        assert_eq!(OnDelete::parse("explode"), None);
    }
}
