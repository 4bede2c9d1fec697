use syn::{Data, DeriveInput, parse_quote};

use super::*;
use crate::schema::{Index, OnDelete};

fn table(item: DeriveInput) -> Result<Table, syn::Error> {
    match &item.data {
        Data::Struct(data) => table_from_struct(&item.attrs, &item.ident, &data.fields),
        _ => table_from_struct(&item.attrs, &item.ident, &Fields::Unit),
    }
}

fn messages(error: syn::Error) -> Vec<String> {
    error.into_iter().map(|error| error.to_string()).collect()
}

#[test]
fn every_attribute_is_read() {
    let table = table(parse_quote! {
        #[derive(jetbase::Model)]
        #[jetbase(index(columns = "author, title"), unique(columns = "slug"))]
        struct BlogPost<'a> {
            #[jetbase(primary_key)]
            id: i64,
            #[jetbase(references = "users.id", on_delete = "set null")]
            author: Option<i64>,
            #[jetbase(max_length = 200, index)]
            title: String,
            #[jetbase(column = "url_slug", unique)]
            slug: &'a str,
            #[jetbase(sql_type = "citext", default = "'draft'")]
            r#state: String,
            #[jetbase(skip)]
            cache: std::collections::HashMap<String, String>,
            body: Option<Vec<u8>>,
            at: chrono::DateTime<chrono::Utc>,
            data: serde_json::Value,
        }
    })
    .expect("valid");
    assert_eq!(table.name, "blog_post");
    let columns: Vec<(&str, String, bool)> = table
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.sql_type.render(crate::Dialect::Postgres),
                c.nullable,
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "bigint".to_owned(), false),
            ("author", "bigint".to_owned(), true),
            ("title", "character varying(200)".to_owned(), false),
            ("url_slug", "text".to_owned(), false),
            ("state", "citext".to_owned(), false),
            ("body", "bytea".to_owned(), true),
            ("at", "timestamp with time zone".to_owned(), false),
            ("data", "jsonb".to_owned(), false),
        ]
    );
    assert_eq!(table.columns[4].default.as_deref(), Some("'draft'"));
    assert_eq!(table.primary_key, ["id"]);
    let index = |name: &str, columns: &[&str], unique| Index {
        name: name.into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        unique,
    };
    assert_eq!(
        table.indexes,
        [
            index("ix_blog_post_title", &["title"], false),
            index("uq_blog_post_url_slug", &["url_slug"], true),
            index("ix_blog_post_author_title", &["author", "title"], false),
            index("uq_blog_post_url_slug", &["url_slug"], true),
        ]
    );
    assert_eq!(table.foreign_keys.len(), 1);
    assert_eq!(table.foreign_keys[0].name, "fk_blog_post_author");
    assert_eq!(table.foreign_keys[0].references_table, "users");
    assert_eq!(table.foreign_keys[0].on_delete, OnDelete::SetNull);
}

#[test]
fn the_table_attribute_names_the_table() {
    let table = table(parse_quote! {
        #[jetbase(table = "people")]
        struct HTTPUser { id: i32 }
    })
    .expect("valid");
    assert_eq!(table.name, "people");
    assert_eq!(snake_case("HTTPUser"), "http_user");
    assert_eq!(snake_case("User2Fa"), "user2_fa");
}

#[test]
fn all_mistakes_come_back_together() {
    let error = table(parse_quote! {
        #[jetbase(tabel = "x")]
        struct Broken {
            #[jetbase(primary)]
            a: i64,
            b: std::collections::HashMap<String, String>,
            #[jetbase(references = "users")]
            c: i64,
            #[jetbase(on_delete = "cascade")]
            d: i64,
            #[jetbase(references = "users.id", on_delete = "explode")]
            e: i64,
            #[jetbase(max_length = 3)]
            f: i64,
            #[jetbase(max_length = "3")]
            g: String,
        }
    })
    .expect_err("broken");
    let messages = messages(error);
    assert_eq!(messages.len(), 8, "{messages:#?}");
    assert!(messages[0].contains("unknown jetbase attribute on a struct"));
    assert!(messages[1].contains("unknown jetbase attribute on a field"));
    assert!(messages[1].contains("primary_key"));
    assert!(messages[2].contains("no SQL type for the type of field `b`"));
    assert!(messages[2].contains("sql_type"));
    assert!(messages[3].contains("must be \"table.column\""));
    assert!(messages[4].contains("on_delete needs references"));
    assert!(messages[5].contains("\"explode\" is not one of"));
    assert!(messages[6].contains("max_length applies to String fields; `f`"));
    assert!(messages[7].contains("expected integer literal"));
}

#[test]
fn composite_indexes_name_existing_columns() {
    let error = table(parse_quote! {
        #[jetbase(index(columns = "a, nope"), unique(cols = "a"))]
        struct T { a: i32 }
    })
    .expect_err("unknown column");
    let messages = messages(error);
    assert!(
        messages[0].contains("expected columns = \"a, b\""),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("`nope` is not a column of this model"),
        "{messages:?}"
    );
}

#[test]
fn tuple_structs_are_refused() {
    let error = table(parse_quote! { struct T(i32); }).expect_err("tuple");
    assert!(error.to_string().contains("named fields"));
}
