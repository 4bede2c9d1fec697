//! Pictures of a schema: a Mermaid `erDiagram` ([`mermaid`]) and a Graphviz graph ([`dot`]),
//! each table with its columns and types, keys marked, and a line per foreign key.

use std::fmt::Write as _;

use super::table::{ForeignKey, Schema, Table};
use crate::Dialect;

/// The schema as a Mermaid `erDiagram`: every table with its columns (`type name PK, FK, UK`)
/// and a relationship per foreign key, its cardinality read from the key: the referenced side is
/// "exactly one" (`||`) when the referencing columns are NOT NULL, else "zero or one" (`|o`);
/// the referencing side "zero or more" (`o{`), or "zero or one" (`o|`) when its columns are
/// unique. Names and types that Mermaid's grammar would not take as words have their other
/// characters replaced by `_` (`character varying(20)` → `character_varying(20)`).
///
/// ```
/// use jetbase_core::Dialect;
/// use jetbase_core::schema::{Column, ForeignKey, Schema, SqlType, Table, mermaid};
///
/// let schema = Schema::new(vec![
///     Table::new("users").column(Column::new("id", SqlType::BigInt)).primary_key(["id"]),
///     Table::new("posts")
///         .column(Column::new("id", SqlType::BigInt))
///         .column(Column::new("user_id", SqlType::BigInt))
///         .primary_key(["id"])
///         .foreign_key(ForeignKey::new(["user_id"], "users", ["id"])),
/// ]);
/// let diagram = mermaid(&schema, Dialect::Postgres);
/// assert!(diagram.starts_with("erDiagram\n"));
/// assert!(diagram.contains("    users {\n        bigint id PK\n    }\n"));
/// assert!(diagram.contains("        bigint user_id FK\n"));
/// assert!(diagram.contains("    users ||--o{ posts : \"fk_posts_user_id\"\n"));
/// ```
pub fn mermaid(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::from("erDiagram\n");
    for table in &schema.tables {
        let _ = writeln!(out, "    {} {{", mermaid_word(&table.name));
        for column in &table.columns {
            let keys = keys_of(table, &column.name);
            let _ = write!(
                out,
                "        {} {}",
                mermaid_word(&column.sql_type.render(dialect)),
                mermaid_word(&column.name)
            );
            if !keys.is_empty() {
                let _ = write!(out, " {}", keys.join(", "));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for table in &schema.tables {
        for key in &table.foreign_keys {
            let (parent, child) = cardinality(table, key);
            let _ = writeln!(
                out,
                "    {} {parent}--{child} {} : \"{}\"",
                mermaid_word(&key.references_table),
                mermaid_word(&table.name),
                key.name.replace('"', "'")
            );
        }
    }
    out
}

/// The schema as a Graphviz `digraph`: a node per table (an HTML-like table of its columns,
/// keys marked), an edge per foreign key from the referencing table to the referenced one.
///
/// ```
/// use jetbase_core::Dialect;
/// use jetbase_core::schema::{Column, Schema, SqlType, Table, dot};
///
/// let schema = Schema::new(vec![Table::new("users").column(Column::new("id", SqlType::BigInt))]);
/// let graph = dot(&schema, Dialect::Sqlite);
/// assert!(graph.starts_with("digraph schema {\n"));
/// assert!(graph.contains("<TD ALIGN=\"LEFT\">id</TD><TD ALIGN=\"LEFT\">INTEGER</TD>"));
/// ```
pub fn dot(schema: &Schema, dialect: Dialect) -> String {
    let mut out = String::from(
        "digraph schema {\n    rankdir=LR;\n    node [shape=plaintext, fontname=\"Helvetica\"];\n",
    );
    for table in &schema.tables {
        let _ = write!(
            out,
            "    \"{}\" [label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\">\
             <TR><TD COLSPAN=\"3\"><B>{}</B></TD></TR>",
            dot_string(&table.name),
            html(&table.name)
        );
        for column in &table.columns {
            let _ = write!(
                out,
                "<TR><TD ALIGN=\"LEFT\">{}</TD><TD ALIGN=\"LEFT\">{}</TD><TD>{}</TD></TR>",
                html(&column.name),
                html(&column.sql_type.render(dialect)),
                keys_of(table, &column.name).join(" ")
            );
        }
        out.push_str("</TABLE>>];\n");
    }
    for table in &schema.tables {
        for key in &table.foreign_keys {
            let _ = writeln!(
                out,
                "    \"{}\" -> \"{}\" [label=\"{}\"];",
                dot_string(&table.name),
                dot_string(&key.references_table),
                dot_string(&key.columns.join(", "))
            );
        }
    }
    out.push_str("}\n");
    out
}

/// `PK`, `FK`, `UK` for a column: in the primary key, in a foreign key, alone in a unique index.
fn keys_of(table: &Table, column: &str) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if table.primary_key.iter().any(|c| c == column) {
        keys.push("PK");
    }
    if table
        .foreign_keys
        .iter()
        .any(|key| key.columns.iter().any(|c| c == column))
    {
        keys.push("FK");
    }
    if table
        .indexes
        .iter()
        .any(|index| index.unique && index.columns.len() == 1 && index.columns[0] == column)
    {
        keys.push("UK");
    }
    keys
}

/// The two ends of a foreign key's relationship, referenced side first.
fn cardinality(table: &Table, key: &ForeignKey) -> (&'static str, &'static str) {
    let required = key.columns.iter().all(|name| {
        table
            .find_column(name)
            .is_some_and(|column| !column.nullable)
    });
    let unique = table.primary_key == key.columns
        || table
            .indexes
            .iter()
            .any(|index| index.unique && index.columns == key.columns);
    (
        if required { "||" } else { "|o" },
        if unique { "o|" } else { "o{" },
    )
}

/// A word Mermaid's erDiagram grammar takes: letters, digits, `_`, `-`, `(`, `)`, `[`, `]`,
/// starting with a letter or `_`; anything else becomes `_`.
fn mermaid_word(text: &str) -> String {
    let mut word: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '(' | ')' | '[' | ']') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        word.insert(0, '_');
    }
    word
}

/// Text inside a DOT double-quoted string.
fn dot_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Text inside an HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::table::{Column, ForeignKey};
    use super::super::{SqlType, Table};
    use super::*;

    #[test]
    fn cardinality_follows_nullability_and_uniqueness() {
        let profiles = Table::new("profiles")
            .column(Column::new("id", SqlType::BigInt))
            .column(Column::new("user_id", SqlType::BigInt))
            .column(Column::new("editor_id", SqlType::BigInt).nullable(true))
            .primary_key(["id"])
            .index(["user_id"], true)
            .foreign_key(ForeignKey::new(["user_id"], "users", ["id"]))
            .foreign_key(ForeignKey::new(["editor_id"], "users", ["id"]));
        let schema = Schema::new(vec![profiles]);
        let diagram = mermaid(&schema, Dialect::Postgres);
        assert!(
            diagram.contains("    users ||--o| profiles : \"fk_profiles_user_id\"\n"),
            "{diagram}"
        );
        assert!(
            diagram.contains("    users |o--o{ profiles : \"fk_profiles_editor_id\"\n"),
            "{diagram}"
        );
        assert!(
            diagram.contains("        bigint user_id FK, UK\n"),
            "{diagram}"
        );
        assert_eq!(
            mermaid_word("character varying(20)"),
            "character_varying(20)"
        );
        assert_eq!(mermaid_word("numeric(10,2)"), "numeric(10_2)");
        assert_eq!(mermaid_word("2fa"), "_2fa");
        let graph = dot(&schema, Dialect::Postgres);
        assert!(
            graph.contains("\"profiles\" -> \"users\" [label=\"user_id\"];"),
            "{graph}"
        );
        assert!(graph.ends_with("}\n"));
    }
}
