//! Changes -> SQL for one database, in an order that each statement can run in: foreign keys and
//! indexes that go are dropped first, tables are created parents first, columns added and
//! altered, indexes and keys added, then columns and tables dropped (children first). SQLite gets
//! its table-rebuild procedure where its ALTER TABLE cannot make the change.

use std::collections::BTreeSet;

use crate::Dialect;

use super::ddl_rules::DdlRules;
use super::{Change, Column, ForeignKey, Index, Schema, SchemaError, Table, canonical_type};

/// Why a generated index on a table that exists is built in the migration's transaction, and
/// what to do on a large table (the comment `jetbase lint` and squawk read).
const INDEX_REVIEW: &str = "generated in the migration's transaction, which blocks writes to the \
     table while the index builds; on a large table, move it to a migration of its own that starts \
     with `-- jetbase: no-transaction` and write CREATE INDEX CONCURRENTLY";

/// The same for a foreign key added to a table that exists.
const FOREIGN_KEY_REVIEW: &str = "generated in the migration's transaction, which checks every \
     row while writes wait; on a large table, add it NOT VALID here and run VALIDATE CONSTRAINT in \
     a migration of its own";

/// The prefix of the table a SQLite rebuild keeps the rows in while it recreates a table.
pub const REBUILD_PREFIX: &str = "_jetbase_copy_";

/// The statements that make `changes` (from [`super::diff`]`(desired, actual)`), each a complete
/// statement without its `;`, a change that can lose data preceded by a `-- DATA LOSS:` comment.
///
/// # Errors
///
/// [`SchemaError::UnsafeSqliteRebuild`] when SQLite must rebuild a table that another table
/// references with an `ON DELETE` action (dropping the old table would fire it).
pub fn render(
    changes: &[Change],
    desired: &Schema,
    actual: &Schema,
    dialect: Dialect,
) -> Result<Vec<String>, SchemaError> {
    let rebuilt = tables_to_rebuild(changes, dialect);
    for table in &rebuilt {
        check_rebuild_is_safe(table, actual)?;
    }
    let mut plan = Phases {
        sql: Sql { dialect },
        changes,
        desired,
        actual,
        rebuilt,
        out: Vec::new(),
    };
    let dropped = plan.tables_of(|change| match change {
        Change::DropTable(table) => Some(table),
        _ => None,
    });
    let created = plan.tables_of(|change| match change {
        Change::CreateTable(table) => Some(table),
        _ => None,
    });
    plan.defer_references(&dropped);
    plan.drop_keys_and_indexes(&dropped);
    let late_keys = plan.create_tables(&created);
    plan.change_columns();
    plan.rebuild_tables();
    plan.add_indexes_and_keys(&late_keys);
    plan.drop_columns_and_tables(&dropped);
    Ok(plan.out)
}

/// The statements, phase by phase.
struct Phases<'a> {
    sql: Sql,
    changes: &'a [Change],
    desired: &'a Schema,
    actual: &'a Schema,
    /// The SQLite tables rebuilt (their other changes are part of the rebuild).
    rebuilt: BTreeSet<String>,
    out: Vec<String>,
}

impl<'a> Phases<'a> {
    fn tables_of(&self, pick: impl Fn(&'a Change) -> Option<&'a Table>) -> Vec<&'a Table> {
        self.changes.iter().filter_map(pick).collect()
    }

    /// The changes made by ALTER statements (not by a rebuild).
    fn altered(&self) -> Vec<&'a Change> {
        let changes: &'a [Change] = self.changes;
        changes
            .iter()
            .filter(|change| !self.rebuilt.contains(change.table()))
            .collect()
    }

    /// SQLite: lets a referenced table be dropped and recreated within the transaction; the
    /// references are checked at commit, when the table holds its rows again.
    fn defer_references(&mut self, dropped: &[&Table]) {
        let referenced = |table: &&Table| {
            self.actual.tables.iter().any(|other| {
                other
                    .foreign_keys
                    .iter()
                    .any(|key| key.references_table == table.name)
            })
        };
        if DdlRules::of(self.sql.dialect).rebuilds_tables
            && (!self.rebuilt.is_empty() || dropped.iter().any(referenced))
        {
            self.out.push("PRAGMA defer_foreign_keys = ON".to_owned());
        }
    }

    /// 1, 2: the keys and indexes that go (and the keys tying dropped tables in a cycle).
    fn drop_keys_and_indexes(&mut self, dropped: &[&Table]) {
        for change in self.altered() {
            if let Change::DropForeignKey { table, key } = change {
                let owner = self.actual.table(table);
                self.out
                    .extend(self.sql.drop_foreign_key(table, key, owner));
            }
        }
        if !DdlRules::of(self.sql.dialect).rebuilds_tables {
            for (table, key) in dependency_order(dropped).1 {
                self.out
                    .extend(self.sql.drop_foreign_key(&table.name, key, None));
            }
        }
        for change in self.altered() {
            if let Change::DropIndex { table, index } = change {
                self.out.extend(self.sql.drop_index(table, index));
            }
        }
    }

    /// 3: new tables, parents first. Returns the keys that close a cycle, added afterwards
    /// (none on SQLite, which checks references only when rows are written).
    fn create_tables(&mut self, created: &[&'a Table]) -> Vec<(&'a Table, &'a ForeignKey)> {
        let (order, mut late_keys) = dependency_order(created);
        if DdlRules::of(self.sql.dialect).rebuilds_tables {
            late_keys.clear();
        }
        for table in order {
            let inline: Vec<&ForeignKey> = table
                .foreign_keys
                .iter()
                .filter(|key| {
                    !late_keys
                        .iter()
                        .any(|(t, k)| t.name == table.name && k.name == key.name)
                })
                .collect();
            self.out
                .push(self.sql.create_table(&table.name, table, &inline));
            if !DdlRules::of(self.sql.dialect).indexes_in_create_table {
                let indexes = table
                    .indexes
                    .iter()
                    .map(|index| self.sql.create_index(&table.name, index));
                self.out.extend(indexes);
            }
        }
        late_keys
    }

    /// 4: columns added and changed, primary keys.
    fn change_columns(&mut self) {
        for change in self.altered() {
            match change {
                Change::AddColumn { table, column } => self.out.push(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    self.sql.quote(table),
                    self.sql.column(column)
                )),
                Change::AlterColumn { table, from, to } => {
                    let statement = self.sql.alter_column(table, from, to);
                    self.out.push(self.sql.comment_loss(change, statement));
                }
                Change::SetPrimaryKey { table, from, to } => {
                    self.out.extend(self.sql.set_primary_key(table, from, to));
                }
                _ => {}
            }
        }
    }

    /// 4 on SQLite: the tables rebuilt, each in its wanted shape.
    fn rebuild_tables(&mut self) {
        for name in &self.rebuilt {
            let (Some(new), Some(old)) = (self.desired.table(name), self.actual.table(name)) else {
                continue;
            };
            let losses: String = self
                .changes
                .iter()
                .filter(|change| change.table() == name.as_str())
                .filter_map(|change| change.data_loss(self.sql.dialect))
                .map(|loss| format!("-- DATA LOSS: {}\n", super::comment_text(&loss)))
                .collect();
            let mut block = self.sql.rebuild(new, old);
            block[0] = format!("{losses}{}", block[0]);
            self.out.extend(block);
        }
    }

    /// 5, 6: the indexes and keys that come.
    fn add_indexes_and_keys(&mut self, late_keys: &[(&Table, &ForeignKey)]) {
        for change in self.altered() {
            if let Change::AddIndex { table, index } = change {
                let statement = self.sql.create_index(table, index);
                self.out.push(self.sql.lint_reviewed(
                    "require-concurrent-index-creation",
                    INDEX_REVIEW,
                    statement,
                ));
            }
        }
        for change in self.altered() {
            if let Change::AddForeignKey { table, key } = change {
                let statement = self.sql.add_foreign_key(table, key);
                self.out.push(self.sql.lint_reviewed(
                    "adding-foreign-key-constraint, constraint-missing-not-valid",
                    FOREIGN_KEY_REVIEW,
                    statement,
                ));
            }
        }
        for (table, key) in late_keys {
            self.out.push(self.sql.add_foreign_key(&table.name, key));
        }
    }

    /// 7, 8: the columns and tables that go, children first.
    fn drop_columns_and_tables(&mut self, dropped: &[&Table]) {
        for change in self.altered() {
            if let Change::DropColumn { table, column } = change {
                let statement = format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    self.sql.quote(table),
                    self.sql.quote(&column.name)
                );
                self.out.push(self.sql.comment_loss(change, statement));
            }
        }
        for table in dependency_order(dropped).0.iter().rev() {
            let change = Change::DropTable((*table).clone());
            let statement = format!("DROP TABLE {}", self.sql.quote(&table.name));
            self.out.push(self.sql.comment_loss(&change, statement));
        }
    }
}

/// The SQLite tables whose changes ALTER TABLE cannot make.
fn tables_to_rebuild(changes: &[Change], dialect: Dialect) -> BTreeSet<String> {
    if !DdlRules::of(dialect).rebuilds_tables {
        return BTreeSet::new();
    }
    changes
        .iter()
        .filter(|change| match change {
            Change::AlterColumn { .. }
            | Change::SetPrimaryKey { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. } => true,
            Change::AddColumn { column, .. } => {
                let constant = column.default.as_deref().is_some_and(|default| {
                    let lowered = default.to_ascii_lowercase();
                    !lowered.contains('(') && !lowered.contains("current_")
                });
                !constant && (!column.nullable || column.default.is_some())
            }
            Change::DropIndex { index, .. } => index.name.starts_with("sqlite_autoindex_"),
            _ => false,
        })
        .map(|change| change.table().to_owned())
        .collect()
}

/// Dropping the old table deletes its rows first, which fires the `ON DELETE` actions of the
/// tables referencing it: refused, rather than losing their rows.
fn check_rebuild_is_safe(table: &str, actual: &Schema) -> Result<(), SchemaError> {
    for child in actual.tables.iter().filter(|child| child.name != table) {
        if let Some(key) = child
            .foreign_keys
            .iter()
            .find(|key| key.references_table == table && key.on_delete.acts())
        {
            return Err(SchemaError::UnsafeSqliteRebuild {
                table: table.to_owned(),
                child: child.name.clone(),
                on_delete: key.on_delete.as_sql(),
            });
        }
    }
    Ok(())
}

/// `tables` ordered so that each comes after the tables it references among them; the keys that
/// close a cycle are returned apart (a self-reference is not a cycle).
fn dependency_order<'t>(
    tables: &[&'t Table],
) -> (Vec<&'t Table>, Vec<(&'t Table, &'t ForeignKey)>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit<'t>(
        at: usize,
        tables: &[&'t Table],
        marks: &mut [Mark],
        order: &mut Vec<&'t Table>,
        cycle_keys: &mut Vec<(&'t Table, &'t ForeignKey)>,
    ) {
        marks[at] = Mark::Visiting;
        let table = tables[at];
        for key in &table.foreign_keys {
            let Some(target) = tables.iter().position(|t| t.name == key.references_table) else {
                continue;
            };
            match marks[target] {
                _ if target == at => {}
                Mark::Visiting => cycle_keys.push((table, key)),
                Mark::New => visit(target, tables, marks, order, cycle_keys),
                Mark::Done => {}
            }
        }
        marks[at] = Mark::Done;
        order.push(table);
    }
    let mut marks = vec![Mark::New; tables.len()];
    let mut order = Vec::with_capacity(tables.len());
    let mut cycle_keys = Vec::new();
    for at in 0..tables.len() {
        if marks[at] == Mark::New {
            visit(at, tables, &mut marks, &mut order, &mut cycle_keys);
        }
    }
    (order, cycle_keys)
}

/// SQL text for one dialect.
struct Sql {
    dialect: Dialect,
}

impl Sql {
    fn quote(&self, name: &str) -> String {
        self.dialect.quote_identifier(name)
    }

    fn list(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|name| self.quote(name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn column(&self, column: &Column) -> String {
        let mut sql = format!(
            "{} {}",
            self.quote(&column.name),
            column.sql_type.render(self.dialect)
        );
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(default);
        }
        sql
    }

    /// PostgreSQL: a statement squawk's rules flag on a table that exists, marked as reviewed
    /// with the reason (`-- squawk-ignore rules -- reason`), so that a generated migration
    /// passes `jetbase lint` and says what to do where it matters.
    fn lint_reviewed(&self, rules: &str, reason: &str, statement: String) -> String {
        if DdlRules::of(self.dialect).squawk_comments {
            format!("-- squawk-ignore {rules} -- {reason}\n{statement}")
        } else {
            statement
        }
    }

    fn comment_loss(&self, change: &Change, statement: String) -> String {
        match change.data_loss(self.dialect) {
            Some(loss) => format!("-- DATA LOSS: {}\n{statement}", super::comment_text(&loss)),
            None => statement,
        }
    }

    fn create_table(&self, name: &str, table: &Table, keys: &[&ForeignKey]) -> String {
        let mut parts: Vec<String> = table
            .columns
            .iter()
            .map(|column| self.column(column))
            .collect();
        if !table.primary_key.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", self.list(&table.primary_key)));
        }
        if DdlRules::of(self.dialect).indexes_in_create_table {
            // Inline, so that MySQL sees them before the foreign keys and adds no index of its own.
            for index in &table.indexes {
                let kind = if index.unique {
                    "UNIQUE INDEX"
                } else {
                    "INDEX"
                };
                parts.push(format!(
                    "{kind} {} ({})",
                    self.quote(&index.name),
                    self.list(&index.columns)
                ));
            }
        }
        parts.extend(keys.iter().map(|key| self.foreign_key(key)));
        format!(
            "CREATE TABLE {} (\n    {}\n)",
            self.quote(name),
            parts.join(",\n    ")
        )
    }

    fn foreign_key(&self, key: &ForeignKey) -> String {
        let mut sql = format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            self.quote(&key.name),
            self.list(&key.columns),
            self.quote(&key.references_table),
            self.list(&key.references_columns)
        );
        if key.on_delete != super::OnDelete::NoAction {
            sql.push_str(" ON DELETE ");
            sql.push_str(key.on_delete.as_sql());
        }
        sql
    }

    fn create_index(&self, table: &str, index: &Index) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            self.quote(&index.name),
            self.quote(table),
            self.list(&index.columns)
        )
    }

    fn drop_index(&self, table: &str, index: &Index) -> Vec<String> {
        let name = self.quote(&index.name);
        match self.dialect {
            Dialect::MySql => vec![format!("DROP INDEX {name} ON {}", self.quote(table))],
            // A unique constraint's index goes with the constraint; a plain index by itself.
            Dialect::Postgres if index.unique => vec![
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {name}",
                    self.quote(table)
                ),
                format!("DROP INDEX IF EXISTS {name}"),
            ],
            // Databricks has no indexes: make-migrations does not read its schema.
            Dialect::Postgres | Dialect::Sqlite | Dialect::Snowflake | Dialect::Databricks => {
                vec![format!("DROP INDEX {name}")]
            }
            Dialect::ClickHouse => vec![format!(
                "ALTER TABLE {} DROP INDEX {name}",
                self.quote(table)
            )],
        }
    }

    fn add_foreign_key(&self, table: &str, key: &ForeignKey) -> String {
        format!(
            "ALTER TABLE {} ADD {}",
            self.quote(table),
            self.foreign_key(key)
        )
    }

    /// `owner` is the table as it is, to tell whether MySQL made an index for the key.
    fn drop_foreign_key(
        &self,
        table: &str,
        key: &ForeignKey,
        owner: Option<&Table>,
    ) -> Vec<String> {
        let name = self.quote(&key.name);
        match self.dialect {
            Dialect::MySql => {
                let mut out = vec![format!(
                    "ALTER TABLE {} DROP FOREIGN KEY {name}",
                    self.quote(table)
                )];
                // MySQL indexes a key's columns itself, under the key's name, when no index
                // starts with them; that index stays behind unless dropped too.
                let covered = owner.is_some_and(|owner| {
                    owner.primary_key.starts_with(&key.columns)
                        || owner
                            .indexes
                            .iter()
                            .any(|index| index.columns.starts_with(&key.columns))
                });
                if owner.is_some() && !covered {
                    out.push(format!("DROP INDEX {name} ON {}", self.quote(table)));
                }
                out
            }
            Dialect::Postgres
            | Dialect::Sqlite
            | Dialect::Snowflake
            | Dialect::ClickHouse
            | Dialect::Databricks => {
                vec![format!(
                    "ALTER TABLE {} DROP CONSTRAINT {name}",
                    self.quote(table)
                )]
            }
        }
    }

    fn alter_column(&self, table: &str, from: &Column, to: &Column) -> String {
        let table_sql = self.quote(table);
        if DdlRules::of(self.dialect).modify_whole_column {
            return format!("ALTER TABLE {table_sql} MODIFY COLUMN {}", self.column(to));
        }
        let column = self.quote(&to.name);
        let mut actions = Vec::new();
        let new_type = to.sql_type.render(self.dialect);
        let type_changes = canonical_type(self.dialect, &from.sql_type.render(self.dialect))
            != canonical_type(self.dialect, &new_type);
        let default_changes = from.default != to.default;
        if type_changes && from.default.is_some() {
            actions.push(format!("ALTER COLUMN {column} DROP DEFAULT"));
        }
        if type_changes {
            actions.push(format!(
                "ALTER COLUMN {column} TYPE {new_type} USING {column}::{new_type}"
            ));
        }
        match &to.default {
            Some(default) if type_changes || default_changes => {
                actions.push(format!("ALTER COLUMN {column} SET DEFAULT {default}"));
            }
            None if default_changes && !type_changes => {
                actions.push(format!("ALTER COLUMN {column} DROP DEFAULT"));
            }
            _ => {}
        }
        if from.nullable != to.nullable {
            let verb = if to.nullable { "DROP" } else { "SET" };
            actions.push(format!("ALTER COLUMN {column} {verb} NOT NULL"));
        }
        format!("ALTER TABLE {table_sql} {}", actions.join(", "))
    }

    fn set_primary_key(&self, table: &str, from: &[String], to: &[String]) -> Vec<String> {
        let table_sql = self.quote(table);
        let mut out = Vec::new();
        if !from.is_empty() {
            out.push(match self.dialect {
                Dialect::MySql | Dialect::Snowflake | Dialect::ClickHouse | Dialect::Databricks => {
                    format!("ALTER TABLE {table_sql} DROP PRIMARY KEY")
                }
                Dialect::Postgres | Dialect::Sqlite => format!(
                    "ALTER TABLE {table_sql} DROP CONSTRAINT {}",
                    self.quote(&format!("{table}_pkey"))
                ),
            });
        }
        if !to.is_empty() {
            out.push(format!(
                "ALTER TABLE {table_sql} ADD PRIMARY KEY ({})",
                self.list(to)
            ));
        }
        out
    }

    /// SQLite's rebuild: the rows copied aside, the old table dropped, the new one created under
    /// its name and filled from the copy, the copy dropped, the indexes created. (Not SQLite's
    /// create-then-rename order: there, with the references to the table deferred, dropping it
    /// counts its children as orphans and a renamed table never uncounts them; inserting into a
    /// table of the right name does.)
    fn rebuild(&self, new: &Table, old: &Table) -> Vec<String> {
        let name = self.quote(&new.name);
        let copy = self.quote(&format!("{REBUILD_PREFIX}{}", new.name));
        let keys: Vec<&ForeignKey> = new.foreign_keys.iter().collect();
        let shared: Vec<String> = new
            .columns
            .iter()
            .filter(|column| old.find_column(&column.name).is_some())
            .map(|column| column.name.clone())
            .collect();
        let mut out = vec![
            format!("CREATE TABLE {copy} AS SELECT * FROM {name}"),
            format!("DROP TABLE {name}"),
            self.create_table(&new.name, new, &keys),
        ];
        if !shared.is_empty() {
            out.push(format!(
                "INSERT INTO {name} ({columns}) SELECT {columns} FROM {copy}",
                columns = self.list(&shared)
            ));
        }
        out.push(format!("DROP TABLE {copy}"));
        out.extend(
            new.indexes
                .iter()
                .map(|index| self.create_index(&new.name, index)),
        );
        out
    }
}

#[cfg(test)]
mod tests;
