//! [`Gather`]: catalog rows gathered into the tables of a [`Schema`], shared by each database's
//! `introspect.rs`.

use std::collections::BTreeMap;

use jetbase_core::schema::{Column, Index, Schema, SqlType, Table};

/// The jetbase tables, never part of a schema read from the database.
const OWN_TABLES: [&str; 2] = ["jetbase_migrations", "jetbase_lock"];

/// Gathers catalog rows into tables, keeping the order tables are first seen in.
#[derive(Default)]
#[cfg_attr(
    not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) struct Gather {
    pub(crate) tables: BTreeMap<String, Table>,
    /// Indexes on expressions (a column without a name): not modelled, left out.
    on_expressions: Vec<(String, String)>,
}

#[cfg_attr(
    not(any(feature = "postgres", feature = "sqlite", feature = "mysql")),
    allow(dead_code)
)]
impl Gather {
    pub(crate) fn table(&mut self, name: &str) -> Option<&mut Table> {
        if OWN_TABLES.contains(&name) {
            return None;
        }
        Some(
            self.tables
                .entry(name.to_owned())
                .or_insert_with(|| Table::new(name)),
        )
    }

    pub(crate) fn existing(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(name)
    }

    pub(crate) fn column(
        &mut self,
        table: &str,
        name: String,
        sql_type: String,
        nullable: bool,
        default: Option<String>,
    ) {
        if let Some(table) = self.table(table) {
            let mut column = Column::new(name, SqlType::Raw(sql_type)).nullable(nullable);
            column.default = default.filter(|default| !default.eq_ignore_ascii_case("null"));
            table.columns.push(column);
        }
    }

    /// One column of an index, in order; `column` is `None` for an expression.
    #[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
    pub(crate) fn index_column(
        &mut self,
        table: &str,
        index: String,
        unique: bool,
        column: Option<String>,
    ) {
        let Some(found) = self.tables.get_mut(table) else {
            return;
        };
        let Some(column) = column else {
            self.on_expressions.push((table.to_owned(), index));
            return;
        };
        match found.indexes.iter_mut().find(|known| known.name == index) {
            Some(known) => known.columns.push(column),
            None => found.indexes.push(Index {
                name: index,
                columns: vec![column],
                unique,
            }),
        }
    }

    pub(crate) fn finish(mut self) -> Schema {
        for (table, index) in &self.on_expressions {
            if let Some(table) = self.tables.get_mut(table) {
                table.indexes.retain(|known| &known.name != index);
            }
        }
        Schema::new(self.tables.into_values().collect())
    }
}
