//! `drift`: does the live database still look like what its applied migrations make? The
//! applied migrations, in the history's order, are applied to a scratch database; both schemas
//! are read (make-migrations' introspection) and compared, and each difference is told in words.

use jetbase_core::schema::{Change, Schema, diff};
use jetbase_core::{Dialect, Migration, MigrationKind, Version};

use crate::backend::private::SEAL;
use crate::checks::check_rollback::describe;
use crate::migrator::read_history;
use crate::{Database, Error, Migrator};

/// How a live object differs from what the migrations make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriftKind {
    /// Live, and not made by the migrations (added by hand).
    Added,
    /// Made by the migrations, and not live (dropped by hand).
    Missing,
    /// Both, not alike (a type, nullability, default or key changed by hand).
    Differs,
}

impl DriftKind {
    /// `added`, `missing` or `differs`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Added => "added",
            DriftKind::Missing => "missing",
            DriftKind::Differs => "differs",
        }
    }
}

/// One difference between the live schema and the schema of its applied migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drift {
    /// What: `table users`, `column users.name`, `index ix_hotfix on users`,
    /// `foreign key fk_posts_user_id on posts`, `primary key of users`.
    pub object: String,
    /// How it differs.
    pub kind: DriftKind,
    /// What it is live (`None` when missing live).
    pub live: Option<String>,
    /// What the migrations make (`None` when they do not make it).
    pub expected: Option<String>,
}

impl std::fmt::Display for Drift {
    /// In words: `index ix_hotfix on users (email) is live but no migration makes it: added by
    /// hand`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An index's or key's columns come in parentheses already.
        let detail = |text: Option<&str>| match text.unwrap_or_default() {
            text if text.starts_with('(') => text.to_owned(),
            text => format!("({text})"),
        };
        match self.kind {
            DriftKind::Added => write!(
                f,
                "{} {} is live but no migration makes it: added by hand",
                self.object,
                detail(self.live.as_deref())
            ),
            DriftKind::Missing => write!(
                f,
                "{} {} is made by the migrations but is not live: dropped by hand",
                self.object,
                detail(self.expected.as_deref())
            ),
            DriftKind::Differs => write!(
                f,
                "{} is {} live, the migrations make it {}",
                self.object,
                self.live.as_deref().unwrap_or_default(),
                self.expected.as_deref().unwrap_or_default()
            ),
        }
    }
}

impl Migrator {
    /// Compares the live database with the schema its applied migrations make: those
    /// migrations, in the history's order, are applied to `scratch` (an empty database of the
    /// same kind, which the caller creates and drops: [`ScratchDatabase`](crate::ScratchDatabase)),
    /// then both schemas are read and compared (tables, columns, types, nullability, defaults,
    /// primary keys, indexes, foreign keys; jetbase's own tables left out). Nothing is written
    /// to `live`: a read-only user can run it. Empty when they agree.
    ///
    /// ```no_run
    /// # async fn check(pool: jetbase::AnyPool) -> Result<(), jetbase::Error> {
    /// static MIGRATOR: jetbase::Migrator = jetbase::embed!("tests/fixtures/vectors");
    /// let scratch = jetbase::ScratchDatabase::create("postgres://app@db/app_drift").await?;
    /// let drift = MIGRATOR.drift(&pool, scratch.pool()).await;
    /// scratch.drop_database().await?;
    /// for difference in drift? {
    ///     println!("{difference}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Refused`] on a database without introspection (Snowflake, ClickHouse,
    /// Databricks), or when an applied migration's file is gone (its schema cannot be made);
    /// [`Error::Database`] when a database fails; a migration's own error when it fails on the
    /// scratch database.
    pub async fn drift<D: Database, S: Database>(
        &self,
        live: &D,
        scratch: &S,
    ) -> Result<Vec<Drift>, Error> {
        let dialect = live.dialect();
        if !dialect.capabilities().schema_introspection {
            return Err(refused(format!(
                "{dialect} has no schema introspection in jetbase, so its drift cannot be read"
            )));
        }
        let tables = self.tables(live)?;
        let mut history = read_history(live, &tables).await?.unwrap_or_default();
        history.sort_by_key(|row| row.order_executed);
        let by_filename: std::collections::HashMap<&str, &Migration> = self
            .migrations()
            .iter()
            .map(|migration| (migration.filename(), migration))
            .collect();
        let mut applied: Vec<Migration> = Vec::new();
        for row in &history {
            let Some(&migration) = by_filename.get(row.filename.as_str()) else {
                return Err(refused(format!(
                    "{} is in the history but its file is gone, so the schema the migrations \
                     make cannot be built; restore the file (or `jetbase validate --fix` to \
                     forget it)",
                    row.filename
                )));
            };
            applied.push(migration.clone());
        }
        self.rebuild(scratch, applied).await?;
        let schema = self.postgres_schema();
        let mut live_schema = live
            .backend(SEAL)
            .read_schema(schema)
            .await
            .map_err(Error::database("reading the live schema"))?;
        let mut expected = scratch
            .backend(SEAL)
            .read_schema(schema)
            .await
            .map_err(Error::database("reading the schema the migrations make"))?;
        // The history and lock tables are jetbase's, whatever their names (Python Jetbase's
        // are left out where the schema is read).
        for read in [&mut live_schema, &mut expected] {
            read.tables.retain(|table| {
                table.name != tables.migrations_name && table.name != tables.lock_name
            });
        }
        Ok(differences(&expected, &live_schema, dialect))
    }

    /// Applies `applied` (history order) to `scratch`, in that order: one upgrade per stretch
    /// of the history whose versions rise (the migrator's own order), so a history applied in
    /// order is one upgrade, and each migration applied out of order starts another.
    /// Repeatables run after their stretch's versions, as an upgrade runs them.
    async fn rebuild<S: Database>(
        &self,
        scratch: &S,
        applied: Vec<Migration>,
    ) -> Result<(), Error> {
        let mut prefix: Vec<Migration> = Vec::with_capacity(applied.len());
        let mut stretch_top: Option<Version> = None;
        for migration in applied {
            if migration.kind() == MigrationKind::Versioned {
                let version = migration.version().cloned();
                if stretch_top.is_some() && version <= stretch_top {
                    self.apply_up_to(scratch, &prefix).await?;
                }
                stretch_top = version;
            }
            prefix.push(migration);
        }
        if !prefix.is_empty() {
            self.apply_up_to(scratch, &prefix).await?;
        }
        Ok(())
    }

    /// Upgrades `scratch` to `applied`: what it lacks of them, in version order.
    async fn apply_up_to<S: Database>(
        &self,
        scratch: &S,
        applied: &[Migration],
    ) -> Result<(), Error> {
        let mut sorted = applied.to_vec();
        sorted.sort_by(|a, b| a.version().cmp(&b.version()));
        self.over(sorted)
            .upgrade(scratch)
            .out_of_order(true)
            .await?;
        Ok(())
    }
}

fn refused(message: String) -> Error {
    Error::Refused {
        operation: "drift check",
        message,
    }
}

/// What turns the live schema into the expected one, told as drift.
fn differences(expected: &Schema, live: &Schema, dialect: Dialect) -> Vec<Drift> {
    let columns = |columns: &[String]| columns.join(", ");
    let index_kind = |unique: bool| if unique { "unique index" } else { "index" };
    diff(expected, live, dialect)
        .iter()
        .map(|change| {
            let (object, kind, live, expected) = match change {
                Change::DropTable(table) => (
                    format!("table {}", table.name),
                    DriftKind::Added,
                    Some(format!("{} columns", table.columns.len())),
                    None,
                ),
                Change::CreateTable(table) => (
                    format!("table {}", table.name),
                    DriftKind::Missing,
                    None,
                    Some(format!("{} columns", table.columns.len())),
                ),
                Change::DropColumn { table, column } => (
                    format!("column {table}.{}", column.name),
                    DriftKind::Added,
                    Some(describe(column)),
                    None,
                ),
                Change::AddColumn { table, column } => (
                    format!("column {table}.{}", column.name),
                    DriftKind::Missing,
                    None,
                    Some(describe(column)),
                ),
                Change::AlterColumn { table, from, to } => (
                    format!("column {table}.{}", to.name),
                    DriftKind::Differs,
                    Some(describe(from)),
                    Some(describe(to)),
                ),
                Change::SetPrimaryKey { table, from, to } => (
                    format!("primary key of {table}"),
                    DriftKind::Differs,
                    Some(format!("({})", columns(from))),
                    Some(format!("({})", columns(to))),
                ),
                Change::DropIndex { table, index } => (
                    format!("{} {} on {table}", index_kind(index.unique), index.name),
                    DriftKind::Added,
                    Some(format!("({})", columns(&index.columns))),
                    None,
                ),
                Change::AddIndex { table, index } => (
                    format!("{} {} on {table}", index_kind(index.unique), index.name),
                    DriftKind::Missing,
                    None,
                    Some(format!("({})", columns(&index.columns))),
                ),
                Change::DropForeignKey { table, key } => (
                    format!("foreign key {} on {table}", key.name),
                    DriftKind::Added,
                    Some(format!(
                        "({}) -> {} ({})",
                        columns(&key.columns),
                        key.references_table,
                        columns(&key.references_columns)
                    )),
                    None,
                ),
                Change::AddForeignKey { table, key } => (
                    format!("foreign key {} on {table}", key.name),
                    DriftKind::Missing,
                    None,
                    Some(format!(
                        "({}) -> {} ({})",
                        columns(&key.columns),
                        key.references_table,
                        columns(&key.references_columns)
                    )),
                ),
                other => (
                    other.table().to_owned(),
                    DriftKind::Differs,
                    None,
                    Some(other.to_string()),
                ),
            };
            Drift {
                object,
                kind,
                live,
                expected,
            }
        })
        .collect()
}
