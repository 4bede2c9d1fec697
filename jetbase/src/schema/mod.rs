//! Models and the live schema: [`Model`] (derived with `#[derive(jetbase::Model)]`),
//! [`introspect`] (what the database has) and [`verify`] (how it differs from the models), on
//! top of the database-free [`diff`] and [`generate`] that `jetbase make-migrations` uses.
//!
//! ```no_run
//! # async fn start(pool: sqlx::PgPool) -> Result<(), jetbase::Error> {
//! use jetbase::Model as _;
//!
//! #[derive(jetbase::Model)]
//! #[jetbase(table = "users")]
//! struct User {
//!     #[jetbase(primary_key)]
//!     id: i64,
//!     #[jetbase(max_length = 200, unique)]
//!     email: String,
//!     nickname: Option<String>,
//! }
//!
//! let differences = jetbase::schema::verify(&pool, &[User::table()]).await?;
//! for change in &differences {
//!     eprintln!("the database differs from the models: {change}");
//! }
//! # Ok(()) }
//! ```

pub use jetbase_core::schema::{
    Change, Column, ForeignKey, Generated, Index, OnDelete, REBUILD_PREFIX, Schema, SchemaError,
    SqlType, Table, canonical_default, canonical_type, diff, dot, generate, mermaid, render,
    validate,
};

use crate::Error;
use crate::backend::private::SEAL;

/// A struct that describes a table. Derive it:
///
/// ```
/// use jetbase::Model as _;
///
/// #[derive(jetbase::Model)]
/// #[jetbase(table = "posts", index(columns = "author_id, created_at"))]
/// struct Post {
///     #[jetbase(primary_key)]
///     id: i64,
///     #[jetbase(references = "users.id", on_delete = "cascade")]
///     author_id: i64,
///     #[jetbase(max_length = 200)]
///     title: String,
///     #[jetbase(sql_type = "TEXT", default = "''")]
///     body: String,
///     created_at: i64,
///     #[jetbase(skip)]
///     cached_html: Option<std::rc::Rc<str>>,
/// }
///
/// let table = Post::table();
/// assert_eq!(table.name, "posts");
/// assert_eq!(table.columns.len(), 5);
/// assert_eq!(table.foreign_keys[0].references_table, "users");
/// ```
///
/// On the struct: `table = "name"` (default: the struct's name in snake_case),
/// `index(columns = "a, b")`, `unique(columns = "a, b")`. On a field: `primary_key`, `unique`,
/// `index`, `max_length = N`, `sql_type = "..."`, `default = "SQL expression"`,
/// `references = "table.column"`, `on_delete = "cascade" | "set null" | "restrict"`,
/// `column = "name"`, `skip`. `Option<T>` is nullable.
pub trait Model {
    /// The table this struct describes.
    fn table() -> Table;
}

/// The tables, columns, keys and indexes the database has (not jetbase's own tables), with
/// types and defaults as the database reports them.
///
/// # Errors
///
/// [`Error::Database`] when a catalog query fails.
pub async fn introspect<P: crate::Database>(pool: &P) -> Result<Schema, Error> {
    introspect_in(pool, None).await
}

/// Like [`introspect`], in a PostgreSQL schema (`postgres_schema`) rather than the current one;
/// `None` is the current one, and other databases ignore it.
///
/// # Errors
///
/// [`Error::Database`] when a catalog query fails.
pub async fn introspect_in<P: crate::Database>(
    pool: &P,
    postgres_schema: Option<&str>,
) -> Result<Schema, Error> {
    pool.backend(SEAL)
        .read_schema(postgres_schema)
        .await
        .map_err(Error::database("reading the database schema"))
}

/// `schema` without the tables named `names` (a migrator's history and lock tables, whatever
/// they are called; Python Jetbase's are left out where the schema is read).
pub(crate) fn without_tables(mut schema: Schema, names: (&str, &str)) -> Schema {
    schema
        .tables
        .retain(|table| table.name != names.0 && table.name != names.1);
    schema
}

/// How the database differs from `models`, as the changes that would make it match (empty when
/// it matches): for a check at startup that the schema is what the code expects.
///
/// # Errors
///
/// [`Error::Database`] when a catalog query fails.
pub async fn verify<P: crate::Database>(pool: &P, models: &[Table]) -> Result<Vec<Change>, Error> {
    let actual = introspect(pool).await?;
    Ok(diff(&Schema::new(models.to_vec()), &actual, pool.dialect()))
}
